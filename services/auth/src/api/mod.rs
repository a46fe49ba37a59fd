//! The auth service's routes: sessions under `/api/v1/auth/`, accounts for the other
//! services under `/internal/v1/auth/`. Who may call what is [`ACCESS`].

mod internal;
mod sessions;

use std::sync::Arc;

use roster_http::ApiError;
use roster_http::access::{MEMBER, PUBLIC, Rule, SERVICE, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

use crate::AuthState;

/// Every route of auth and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("POST", "/api/v1/auth/login", PUBLIC),
    rule("POST", "/api/v1/auth/refresh", PUBLIC),
    rule("POST", "/api/v1/auth/logout", PUBLIC),
    rule("POST", "/api/v1/auth/logout-all", MEMBER),
    rule("POST", "/api/v1/auth/password", MEMBER),
    rule("POST", "/api/v1/auth/signup", PUBLIC),
    rule("GET", "/api/v1/auth/jwks", PUBLIC),
    rule("PUT", "/internal/v1/auth/accounts/{id}", SERVICE),
    rule("GET", "/internal/v1/auth/accounts/{id}", SERVICE),
    rule("PATCH", "/internal/v1/auth/accounts/{id}", SERVICE),
    rule("DELETE", "/internal/v1/auth/accounts/{id}", SERVICE),
    rule("GET", "/internal/v1/auth/verification", SERVICE),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::logout_all))
        .routes(routes!(sessions::change_password))
        .routes(routes!(sessions::signup))
        .routes(routes!(sessions::jwks))
        .merge(internal::routes())
        .with_state(ctx)
}

/// Auth's shared state, provided at start.
fn state(ctx: &ServiceContext) -> Result<Arc<AuthState>, ApiError> {
    ctx.state::<AuthState>().map_err(ApiError::Internal)
}
