//! Who is calling: the verified bearer of the request's access token.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use roster_storage::Tenant;
use roster_tokens::{Claims, Role, TokenError, Verifier};
use uuid::Uuid;

use crate::ApiError;

/// The outcome of checking a request's token, left in its extensions by [`authenticate`].
#[derive(Debug, Clone)]
pub(crate) enum Authentication {
    Verified(Caller),
    Refused(TokenError),
}

impl Authentication {
    /// The verified caller of a request, or 401.
    pub(crate) fn caller(extensions: &axum::http::Extensions) -> Result<&Caller, ApiError> {
        match extensions.get::<Self>() {
            Some(Self::Verified(caller)) => Ok(caller),
            Some(Self::Refused(reason)) => {
                tracing::debug!(%reason, "token refused");
                Err(ApiError::Unauthorized(
                    "the access token is invalid, expired or revoked".to_owned(),
                ))
            }
            None => Err(ApiError::Unauthorized(
                "this needs an access token: Authorization: Bearer <token>".to_owned(),
            )),
        }
    }
}

/// Verifies the bearer token of every request that carries one. Routes that need a caller
/// take [`Caller`]; routes that do not (health, login) are unaffected by a bad token.
/// Other schemes (the service credential) are left to [`crate::access::authorize`].
pub async fn authenticate(
    State(verifier): State<Verifier>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(value) = request.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok();
        let scheme = value.map(|v| v.split_once(' ').map_or(v, |(scheme, _)| scheme));
        if !scheme.is_some_and(|s| s.eq_ignore_ascii_case(crate::access::SERVICE_SCHEME)) {
            let token = value
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim());
            let outcome = match token {
                Some(token) => match verifier.verify(token) {
                    Ok(claims) => Authentication::Verified(Caller { claims }),
                    Err(e) => Authentication::Refused(e),
                },
                None => Authentication::Refused(TokenError::Malformed),
            };
            request.extensions_mut().insert(outcome);
        }
    }
    next.run(request).await
}

/// Whose records a caller looks at: an administrator sees the whole company; anyone
/// else what is theirs, and what a service lets a manager see of their reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Admin,
    Member { employee_id: Uuid },
}

/// The verified caller of a request. Taking it makes a route need a valid token (401
/// otherwise).
#[derive(Debug, Clone)]
pub struct Caller {
    claims: Claims,
}

impl Caller {
    pub fn employee_id(&self) -> Uuid {
        self.claims.sub
    }

    /// The company every query of this request is scoped to.
    pub fn tenant(&self) -> Tenant {
        Tenant::of_company(self.claims.company_id)
    }

    pub fn session_id(&self) -> Uuid {
        self.claims.sid
    }

    /// When the caller's token expires, in Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.claims.exp
    }

    pub fn roles(&self) -> &[Role] {
        &self.claims.roles
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.claims.has_role(role)
    }

    /// How the caller looks at the company's records.
    pub fn viewer(&self) -> Viewer {
        match self.has_role(Role::Admin) {
            true => Viewer::Admin,
            false => Viewer::Member {
                employee_id: self.employee_id(),
            },
        }
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        match roles.iter().any(|r| self.has_role(*r)) {
            true => Ok(()),
            false => Err(ApiError::Forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Authentication::caller(&parts.extensions).cloned()
    }
}
