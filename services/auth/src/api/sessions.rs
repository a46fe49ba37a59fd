use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, Method, StatusCode};
use roster_contracts::people::{SIGNUPS_PATH, SignedUp, Signup};
use roster_contracts::{Email, Password, from_text};
use roster_http::{ApiError, ApiResult, Caller, FieldError, Json, Problem};
use roster_service::ServiceContext;
use roster_tokens::{Claims, JwkSet, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::state;
use crate::domain::{check_password, new_refresh_token};
use crate::store::accounts;
use crate::store::entities::{account, session};
use crate::store::sessions::{self as store, Rotation};
use crate::{AuthState, refresh_ttl};
use roster_config::{AuthConfig, SignupPolicy};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
    /// The company to log in to, when the email has accounts in several.
    pub company_id: Option<Uuid>,
}

/// The most accounts one login tries the password on: past that, it must name the
/// company. Each try is a password hash's work.
const MOST_ACCOUNTS_TRIED: usize = 8;

/// An access token and the refresh token that renews it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// A JWT signed with EdDSA: `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Spent on its first use; presenting it again ends the session.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
}

const BAD_CREDENTIALS: &str = "the email or the password is wrong";

/// The client's address: the peer, or, behind a trusted proxy, the address it names.
fn client_address(
    extensions: &Extensions,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok())
        .or(Some(peer))
}

/// The active accounts among `candidates` that `password` opens. Without candidates
/// a decoy hash is checked, so an unknown email takes as long as a wrong password.
async fn opened_by(
    state: &AuthState,
    password: &str,
    candidates: Vec<account::Model>,
) -> Vec<account::Model> {
    if candidates.is_empty() {
        state.hasher.verify(password.to_owned(), None).await;
        return Vec::new();
    }
    let mut opened = Vec::new();
    for account in candidates {
        let hash = Some(account.password_hash.clone());
        if state.hasher.verify(password.to_owned(), hash).await && account.active {
            opened.push(account);
        }
    }
    opened
}

fn issue(
    state: &AuthState,
    config: &AuthConfig,
    account: &account::Model,
    session: &session::Model,
    refresh_token: String,
) -> ApiResult<TokenPair> {
    let role: Role = from_text(&account.role).map_err(|e| ApiError::Internal(e.into()))?;
    let claims = Claims::new(
        account.id,
        account.company_id,
        vec![role],
        session.id,
        crate::access_ttl(config),
    );
    let access_token = state
        .keys
        .signer()
        .sign(&claims)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: config.access_token_ttl_secs,
    })
}

fn fresh_token() -> ApiResult<String> {
    new_refresh_token().map_err(|e| ApiError::Internal(anyhow::anyhow!("random: {e}")))
}

/// Logs in with an email and a password (and the company, when the email and
/// password open accounts in several: 409 until one is named). The same 401 for an
/// unknown email and a wrong password; 429 with `Retry-After` after too many failures of the email from the
/// client's address, or from the address for any email (`throttle`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = TokenPair), (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 409, body = Problem, description = "The email and password open accounts in several companies: name one (company_id)"),
        (status = 429, body = Problem)))]
pub(super) async fn login(
    State(ctx): State<ServiceContext>,
    extensions: Extensions,
    headers: HeaderMap,
    Json(body): Json<Login>,
) -> ApiResult<Json<TokenPair>> {
    let state = state(&ctx)?;
    let address = client_address(&extensions, &headers, &ctx.config.security.trusted_proxies);
    let key = body.email.trim().to_lowercase();
    if let Err(retry_after_secs) = state.throttle.check(&key, address) {
        return Err(ApiError::TooManyRequests {
            detail: "too many failed logins; wait before trying again".to_owned(),
            retry_after_secs,
        });
    }
    let mut candidates = match Email::parse(&body.email) {
        Ok(email) => accounts::find_by_email(&ctx.db, &email).await?,
        Err(_) => Vec::new(),
    };
    if let Some(company_id) = body.company_id {
        candidates.retain(|a| a.company_id == company_id);
    }
    if candidates.len() > MOST_ACCOUNTS_TRIED {
        return Err(ApiError::bad_request(
            "company_id",
            "this email has accounts in many companies: name the company to log in to",
        ));
    }
    let matched = opened_by(&state, &body.password, candidates).await;
    let account = match <[account::Model; 1]>::try_from(matched) {
        Ok([account]) => account,
        Err(matched) if matched.is_empty() => {
            state.throttle.failed(&key, address);
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.to_owned()));
        }
        // The password opens several: the caller proved it holds them, and names one.
        Err(matched) => {
            let companies: Vec<String> = matched.iter().map(|a| a.company_id.to_string()).collect();
            return Err(ApiError::Conflict {
                detail: "this email and password open accounts in several companies: name one (company_id)".to_owned(),
                errors: vec![FieldError::new(
                    "company_id",
                    format!("one of {}", companies.join(", ")),
                )],
            });
        }
    };
    state.throttle.succeeded(&key, address);
    let refresh_token = fresh_token()?;
    let session = store::open(
        &ctx.db,
        &account,
        &refresh_token,
        refresh_ttl(&ctx.config.auth),
    )
    .await?;
    tracing::info!(account_id = %account.id, session_id = %session.id, "logged in");
    Ok(Json(issue(
        &state,
        &ctx.config.auth,
        &account,
        &session,
        refresh_token,
    )?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

/// Trades a refresh token for a new pair. The presented token is spent; presenting a
/// spent one revokes the whole session and answers 401.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = Refresh,
    responses((status = 200, body = TokenPair), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn refresh(
    State(ctx): State<ServiceContext>,
    Json(body): Json<Refresh>,
) -> ApiResult<Json<TokenPair>> {
    let state = state(&ctx)?;
    let next = fresh_token()?;
    match store::rotate(
        &ctx.db,
        &body.refresh_token,
        &next,
        refresh_ttl(&ctx.config.auth),
    )
    .await?
    {
        Rotation::Rotated(rotated) => {
            let (account, session) = *rotated;
            Ok(Json(issue(
                &state,
                &ctx.config.auth,
                &account,
                &session,
                next,
            )?))
        }
        Rotation::Reused(revocation) => {
            tracing::warn!(session_id = %revocation.session_id, "a spent refresh token was presented; session revoked");
            crate::forget_sessions(&ctx, [revocation]);
            Err(ApiError::Unauthorized(
                "this refresh token was already used; the session has been ended".to_owned(),
            ))
        }
        Rotation::Refused => Err(ApiError::Unauthorized(
            "the refresh token is unknown or its session has ended".to_owned(),
        )),
    }
}

/// Ends the session of a refresh token. Answers 204 whatever the token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = Refresh,
    responses((status = 204), (status = 400, body = Problem)))]
pub(super) async fn logout(
    State(ctx): State<ServiceContext>,
    Json(body): Json<Refresh>,
) -> ApiResult<StatusCode> {
    let revoked = store::end(&ctx.db, &body.refresh_token).await?;
    crate::forget_sessions(&ctx, revoked);
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller's account, this one included: every access
/// token of theirs is refused from now on, in every process, and no refresh token of
/// theirs works again.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub(super) async fn logout_all(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    let revoked = store::end_all(&ctx.db, caller.employee_id()).await?;
    crate::forget_sessions(&ctx, revoked);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password, given the current one. Every other session of the
/// account ends at once, in every process; this one goes on. A wrong current
/// password is a failed login (`throttle`): 422 naming the field, then 429 with
/// `Retry-After` after too many.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    security(("bearer" = [])),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub(super) async fn change_password(
    State(ctx): State<ServiceContext>,
    extensions: Extensions,
    headers: HeaderMap,
    caller: Caller,
    Json(body): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let state = state(&ctx)?;
    let account = accounts::get(&ctx.db, caller.employee_id()).await?;
    let address = client_address(&extensions, &headers, &ctx.config.security.trusted_proxies);
    let key = account.email.to_lowercase();
    if let Err(retry_after_secs) = state.throttle.check(&key, address) {
        return Err(ApiError::TooManyRequests {
            detail: "too many wrong passwords; wait before trying again".to_owned(),
            retry_after_secs,
        });
    }
    let hash = Some(account.password_hash.clone());
    if !state.hasher.verify(body.current_password, hash).await {
        state.throttle.failed(&key, address);
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "current_password",
            "is not the account's password",
        )]));
    }
    state.throttle.succeeded(&key, address);
    let email = Email::parse(&account.email)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a stored email: {e}")))?;
    check_password(
        "new_password",
        &body.new_password,
        &email,
        ctx.config.auth.password_min_length,
    )
    .map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let hash = state
        .hasher
        .hash(body.new_password)
        .await
        .map_err(ApiError::Internal)?;
    let revoked = accounts::set_password(&ctx.db, account.id, hash, caller.session_id()).await?;
    tracing::info!(account_id = %account.id, sessions_ended = revoked.len(), "password changed");
    crate::forget_sessions(&ctx, revoked);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    pub company_name: String,
    pub admin_email: String,
    pub admin_password: String,
    pub admin_name: String,
    pub admin_surname: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignupAnswer {
    pub company_id: Uuid,
    pub employee_id: Uuid,
}

/// Signs a new company up with its first admin, who can then log in. An email is an
/// account's within its company, so a signup never says whether the address is used
/// elsewhere. Closed by `auth.signup = "closed"` (403); a client past
/// `auth.signups_per_address` lately waits (429).
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupBody,
    responses((status = 201, body = SignupAnswer), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "Signup is closed on this installation"),
        (status = 422, body = Problem), (status = 429, body = Problem),
        (status = 503, body = Problem)))]
pub(super) async fn signup(
    State(ctx): State<ServiceContext>,
    extensions: Extensions,
    headers: HeaderMap,
    Json(body): Json<SignupBody>,
) -> ApiResult<(StatusCode, Json<SignupAnswer>)> {
    if ctx.config.auth.signup == SignupPolicy::Closed {
        return Err(ApiError::Forbidden(
            "signup is closed on this installation: its operator creates companies".to_owned(),
        ));
    }
    let address = client_address(&extensions, &headers, &ctx.config.security.trusted_proxies);
    if let Err(retry_after_secs) = state(&ctx)?.throttle.signup(address) {
        return Err(ApiError::TooManyRequests {
            detail: "too many signups from this client; wait before signing up another company"
                .to_owned(),
            retry_after_secs,
        });
    }
    let email = Email::parse_field("admin_email", &body.admin_email)?;
    check_password(
        "admin_password",
        &body.admin_password,
        &email,
        ctx.config.auth.password_min_length,
    )
    .map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let people = ctx.links.to("people").map_err(ApiError::Internal)?;
    let request = Signup {
        company_name: body.company_name,
        admin_email: email.into(),
        admin_password: Password::new(body.admin_password),
        admin_name: body.admin_name,
        admin_surname: body.admin_surname,
    };
    let done: SignedUp = people
        .call(Method::POST, SIGNUPS_PATH, Some(&request))
        .await
        .map_err(ApiError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(SignupAnswer {
            company_id: done.company_id,
            employee_id: done.employee_id,
        }),
    ))
}

/// The keys that verify access tokens (a JWK set).
#[utoipa::path(get, path = "/api/v1/auth/jwks", tag = "auth",
    responses((status = 200, description = "A JWK set of Ed25519 public keys")))]
pub(super) async fn jwks(State(ctx): State<ServiceContext>) -> ApiResult<Json<JwkSet>> {
    Ok(Json(state(&ctx)?.keys.published()))
}
