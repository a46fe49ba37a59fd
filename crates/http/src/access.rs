//! Who may call what: one table per service, checked on every request before the
//! handler runs.
//!
//! Each service lists every route it has with the [`Access`] it needs; the host merges
//! the tables and [`authorize`] enforces them. A route missing from its table answers
//! 403 to everyone and is logged as the bug it is; the platform's tests check that the
//! tables and the routes match.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_tokens::Role;
use secrecy::{ExposeSecret as _, SecretString};

use crate::ApiError;
use crate::caller::Authentication;
use crate::rate::CompanyRate;

/// What a route needs from its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token: login, signup, published keys, health.
    Public,
    /// Any member of a company, with a valid access token.
    Member,
    /// A member holding one of these roles.
    Roles(&'static [Role]),
    /// Another Roster service presenting the service credential; a user's token is
    /// never enough.
    Service,
}

/// One route's access: `rule("POST", "/api/v1/org/teams", Access::Roles(ADMIN))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    /// The route's template, as written in the router (`/api/v1/org/teams/{id}`).
    pub path: &'static str,
    pub access: Access,
}

pub const fn rule(method: &'static str, path: &'static str, access: Access) -> Rule {
    Rule {
        method,
        path,
        access,
    }
}

/// Anyone, without a token.
pub const PUBLIC: Access = Access::Public;
/// Any member of the company.
pub const MEMBER: Access = Access::Member;
/// Roster's other services only.
pub const SERVICE: Access = Access::Service;
/// Administrators only.
pub const ADMIN: Access = Access::Roles(&[Role::Admin]);
/// Managers and administrators.
pub const MANAGER: Access = Access::Roles(&[Role::Admin, Role::Manager]);

/// The credential services present to each other: `Authorization: Service <token>`.
#[derive(Clone)]
pub struct ServiceToken(Arc<SecretString>);

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken([REDACTED])")
    }
}

/// The scheme of the service credential in `Authorization`.
pub const SERVICE_SCHEME: &str = "Service";

impl ServiceToken {
    pub fn new(secret: SecretString) -> Self {
        Self(Arc::new(secret))
    }

    /// The value of the `Authorization` header that carries it.
    pub fn header_value(&self) -> String {
        format!("{SERVICE_SCHEME} {}", self.0.expose_secret())
    }

    /// Compares in constant time, so the comparison leaks nothing of the token.
    fn matches(&self, presented: &str) -> bool {
        let expected = self.0.expose_secret().as_bytes();
        let presented = presented.as_bytes();
        expected.len() == presented.len()
            && expected
                .iter()
                .zip(presented)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

/// Every route's access, and the service credential, for [`authorize`].
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    rules: Arc<HashMap<(Method, &'static str), Access>>,
    service_token: ServiceToken,
    rate: Arc<CompanyRate>,
}

impl AccessPolicy {
    /// Fails on a route listed twice, or a method that is not one.
    pub fn new(
        rules: impl IntoIterator<Item = Rule>,
        service_token: ServiceToken,
    ) -> Result<Self, String> {
        let mut table = HashMap::new();
        for rule in rules {
            let method = Method::from_bytes(rule.method.as_bytes())
                .map_err(|_| format!("{} is not a method", rule.method))?;
            if table.insert((method, rule.path), rule.access).is_some() {
                return Err(format!("{} {} is listed twice", rule.method, rule.path));
            }
        }
        Ok(Self {
            rules: Arc::new(table),
            service_token,
            rate: Arc::new(CompanyRate::new(0, 0)),
        })
    }

    /// Limits each company's requests to `rate`.
    pub fn with_rate(self, rate: CompanyRate) -> Self {
        Self {
            rate: Arc::new(rate),
            ..self
        }
    }

    /// The rule of a route; a HEAD request is its GET's, without the body.
    pub fn access(&self, method: &Method, path: &str) -> Option<Access> {
        let method = match *method {
            Method::HEAD => Method::GET,
            ref other => other.clone(),
        };
        self.rules.get(&(method, path)).copied()
    }
}

/// Enforces the access table: 401 without a valid credential of the kind the route
/// needs, 403 without the role; a member's request then takes from its company's
/// rate, waiting its turn past the bucket, 429 past that. Runs inside routing, where
/// the route is known.
pub async fn authorize(
    State(policy): State<AccessPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let Some(route) = request.extensions().get::<MatchedPath>() else {
        return next.run(request).await;
    };
    let Some(access) = policy.access(request.method(), route.as_str()) else {
        tracing::error!(method = %request.method(), route = route.as_str(), "a route has no access rule; refused");
        return ApiError::Forbidden("this route is not open to anyone".to_owned()).into_response();
    };
    let outcome = match access {
        Access::Public => Ok(Duration::ZERO),
        Access::Service => check_service(&policy.service_token, &request).map(|()| Duration::ZERO),
        Access::Member => admit(&request, &[], &policy.rate),
        Access::Roles(roles) => admit(&request, roles, &policy.rate),
    };
    match outcome {
        Ok(wait) => {
            // Past its company's bucket, the request waits its turn.
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

fn check_service(token: &ServiceToken, request: &Request) -> Result<(), ApiError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(SERVICE_SCHEME))
        .map(|(_, token)| token.trim());
    match presented {
        Some(presented) if token.matches(presented) => Ok(()),
        _ => Err(ApiError::Unauthorized(
            "this route is for Roster's services and needs the service credential".to_owned(),
        )),
    }
}

/// Whether the caller may ask (a member, with one of `roles` if any, within the
/// company's rate): how long the request waits its turn.
fn admit(request: &Request, roles: &[Role], rate: &CompanyRate) -> Result<Duration, ApiError> {
    let caller = Authentication::caller(request.extensions())?;
    if !roles.is_empty() {
        caller.require_any(roles)?;
    }
    let write = !matches!(*request.method(), Method::GET | Method::HEAD);
    rate.take(caller.tenant().company_id(), write)
        .map_err(|over| ApiError::TooManyRequests {
            detail: format!(
                "the company's requests are over its quota (quotas.{}); slow down",
                over.quota
            ),
            retry_after_secs: over.retry_after_secs,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(s: &str) -> ServiceToken {
        ServiceToken::new(SecretString::from(s.to_owned()))
    }

    #[test]
    fn the_service_token_compares_whole() {
        let t = token("0123456789abcdef0123456789abcdef");
        assert!(t.matches("0123456789abcdef0123456789abcdef"));
        assert!(!t.matches("0123456789abcdef0123456789abcdee"));
        assert!(!t.matches("0123456789abcdef"));
        assert!(!format!("{t:?}").contains("0123"));
    }

    #[test]
    fn a_route_listed_twice_is_refused() {
        let rules = [
            rule("GET", "/a", Access::Public),
            rule("GET", "/a", Access::Member),
        ];
        assert!(AccessPolicy::new(rules, token("x")).is_err());
        assert!(
            AccessPolicy::new([rule("NOT A METHOD", "/a", Access::Public)], token("x")).is_err()
        );
    }
}
