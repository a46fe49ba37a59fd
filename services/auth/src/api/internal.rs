//! Routes for Roster's other services (service credential only; not in the public
//! document, not routed by the gateway).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use roster_contracts::Email;
use roster_contracts::auth::{Account, AccountChange, NewAccount};
use roster_http::{ApiError, ApiResult, Json, Path, Query};
use roster_service::{OpenApiRouter, ServiceContext};
use roster_tokens::VerificationState;
use serde::Deserialize;
use uuid::Uuid;

use super::state;
use crate::domain::check_password;
use crate::store::accounts::{self, to_contract};

pub(super) fn routes() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .route(
            "/internal/v1/auth/accounts/{id}",
            get(get_account)
                .put(ensure_account)
                .patch(change_account)
                .delete(cancel_account),
        )
        .route("/internal/v1/auth/verification", get(verification))
}

/// Creates the account with this id, or answers the same one again.
async fn ensure_account(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
    Json(body): Json<NewAccount>,
) -> ApiResult<Json<Account>> {
    let state = state(&ctx)?;
    let email = Email::parse_field("email", &body.email)?;
    check_password(
        "password",
        body.password.expose(),
        &email,
        ctx.config.auth.password_min_length,
    )
    .map_err(|e| ApiError::invalid_fields(vec![e]))?;
    let password_hash = state
        .hasher
        .hash(body.password.expose().to_owned())
        .await
        .map_err(ApiError::Internal)?;
    let account = accounts::ensure(
        &ctx.db,
        accounts::NewAccount {
            id,
            company_id: body.company_id,
            email,
            password_hash,
            role: body.role,
        },
    )
    .await?;
    Ok(Json(to_contract(&account)?))
}

async fn get_account(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Account>> {
    Ok(Json(to_contract(&accounts::get(&ctx.db, id).await?)?))
}

/// Changes an account's email, role or state; deactivating it ends its sessions.
async fn change_account(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
    Json(body): Json<AccountChange>,
) -> ApiResult<Json<Account>> {
    let change = accounts::AccountChange {
        email: body
            .email
            .as_deref()
            .map(|e| Email::parse_field("email", e))
            .transpose()?,
        role: body.role,
        active: body.active,
    };
    let (account, revoked) = accounts::change(&ctx.db, id, change).await?;
    crate::forget_sessions(&ctx, revoked);
    Ok(Json(to_contract(&account)?))
}

/// Removes an account for good: a saga's compensation. Succeeds when there is none.
async fn cancel_account(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let revoked = accounts::cancel(&ctx.db, id).await?;
    crate::forget_sessions(&ctx, revoked);
    Ok(StatusCode::NO_CONTENT)
}

/// Which version of the verification state a follower holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Following {
    after: Option<u64>,
}

/// The keys and revoked sessions every other process verifies tokens with. A
/// follower that names the version it holds (`?after=`) is answered when this
/// process revokes a session, or after `roster_service::follow_hold` otherwise.
async fn verification(
    State(ctx): State<ServiceContext>,
    Query(following): Query<Following>,
) -> ApiResult<Json<VerificationState>> {
    let state = state(&ctx)?;
    if let Some(after) = following.after {
        let mut changes = state.revisions.subscribe();
        if *changes.borrow_and_update() == after {
            let hold = roster_service::follow_hold(&ctx.config);
            // Either way the answer is the state now: a timeout is a plain refresh.
            let _ = tokio::time::timeout(hold, changes.changed()).await;
        }
    }
    Ok(Json(
        crate::verification_state(&ctx.db, &state, &ctx.config.auth)
            .await
            .map_err(ApiError::Internal)?,
    ))
}
