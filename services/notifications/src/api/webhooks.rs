use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiError, ApiResult, Caller, Json, Page, PageParams, Path, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Keys;
use crate::render;
use crate::send::{SECRET_CONTEXT, webhook};
use crate::store::entities;
use crate::store::webhooks::{self, NewWebhook};

/// Where the company's notifications are posted. Each post carries
/// `Roster-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
/// secret>`, `Roster-Delivery` (the same on every retry) and `Roster-Kind`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// The kinds it receives; empty for every kind.
    pub kinds: Vec<String>,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<entities::webhook::Model> for Webhook {
    fn from(row: entities::webhook::Model) -> Self {
        Self {
            kinds: webhooks::kinds_of(&row),
            id: row.id,
            url: row.url,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

/// A new webhook with its signing secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An http:// or https:// URL of a public address.
    pub url: String,
    /// The kinds to receive; all when absent or empty.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// Registers a webhook. The answer holds its signing secret, never shown again.
#[utoipa::path(post, path = "/api/v1/notifications/webhooks", tag = "notifications",
    security(("bearer" = [])), request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 400, body = roster_http::Problem),
        (status = 401, body = roster_http::Problem), (status = 403, body = roster_http::Problem),
        (status = 422, body = roster_http::Problem, description = "A URL or kind Roster cannot take")))]
pub(super) async fn create_webhook(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(new): Json<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let private_networks = ctx.config.notifications.webhook_private_networks;
    let url = webhook::check_url(new.url.trim(), private_networks)
        .map_err(|message| ApiError::invalid("url", message))?;
    if url.as_str().len() > 2000 {
        return Err(ApiError::invalid("url", "must be at most 2,000 characters"));
    }
    let mut kinds = new.kinds;
    kinds.sort();
    kinds.dedup();
    if let Some(kind) = kinds.iter().find(|k| render::kind(k).is_none()) {
        return Err(ApiError::invalid(
            "kinds",
            format!("no such kind of notification: {kind}"),
        ));
    }
    let keys = ctx.state::<Keys>()?;
    let secret = webhook::new_secret().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let sealed_secret = keys
        .data_key
        .seal(SECRET_CONTEXT, secret.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot seal a webhook's secret: {e}"))?;
    let row = webhooks::create(
        &ctx.db,
        &caller.tenant(),
        NewWebhook {
            url: url.to_string(),
            sealed_secret,
            kinds,
            created_by: caller.employee_id(),
        },
        ctx.config.quotas.webhooks,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            webhook: row.into(),
            secret,
        }),
    ))
}

/// The company's webhooks, oldest first (without their secrets).
#[utoipa::path(get, path = "/api/v1/notifications/webhooks", tag = "notifications",
    security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = Page<Webhook>), (status = 400, body = roster_http::Problem),
        (status = 401, body = roster_http::Problem), (status = 403, body = roster_http::Problem)))]
pub(super) async fn list_webhooks(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Webhook>>> {
    let cursor = page.parse()?;
    let rows = webhooks::list(&ctx.db, &caller.tenant(), &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |w| w.id).map(Webhook::from),
    ))
}

/// Removes a webhook; what was still queued for it fails.
#[utoipa::path(delete, path = "/api/v1/notifications/webhooks/{id}", tag = "notifications",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = roster_http::Problem),
        (status = 403, body = roster_http::Problem), (status = 404, body = roster_http::Problem)))]
pub(super) async fn delete_webhook(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&ctx.db, &caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
