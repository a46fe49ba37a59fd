use axum::extract::State;
use roster_http::{ApiError, ApiResult, Caller, Json, Page, PageParams, Path, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::store::deliveries::{self, Channel, DeliveryFilter, Status};
use crate::store::entities::{delivery, delivery_attempt};

/// A notification on its way by email or webhook.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address, or the webhook's URL.
    pub target: String,
    pub webhook_id: Option<Uuid>,
    pub subject: String,
    /// `queued`, `sending`, `delivered`, `failed` or `bounced`.
    pub status: String,
    pub attempts: i32,
    /// When it is tried next, while queued.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<delivery::Model> for Delivery {
    fn from(d: delivery::Model) -> Self {
        let queued = d.status == Status::Queued.as_str();
        Self {
            id: d.id,
            employee_id: d.employee_id,
            event_id: d.event_id,
            kind: d.kind,
            channel: d.channel,
            target: d.target,
            webhook_id: d.webhook_id,
            subject: d.subject,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: queued.then_some(d.next_attempt_at),
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

/// One try at a delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    /// 1 for the first.
    pub attempt: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// `delivered`, `retry`, `failed` or `bounced`.
    pub outcome: String,
    /// The far end's answer, or the error.
    pub detail: Option<String>,
}

impl From<delivery_attempt::Model> for DeliveryAttempt {
    fn from(a: delivery_attempt::Model) -> Self {
        Self {
            attempt: a.attempt,
            started_at: a.started_at,
            finished_at: a.finished_at,
            outcome: a.outcome,
            detail: a.detail,
        }
    }
}

/// A delivery with its log of attempts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryLog {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `queued`, `sending`, `delivered`, `failed` or `bounced`.
    pub status: Option<String>,
    /// `email` or `webhook`.
    pub channel: Option<String>,
    pub employee_id: Option<Uuid>,
}

impl DeliveryQuery {
    fn filter(&self) -> Result<DeliveryFilter, ApiError> {
        let status = match &self.status {
            Some(s) => Some(Status::parse(s).ok_or_else(|| {
                ApiError::bad_request(
                    "status",
                    "one of queued, sending, delivered, failed, bounced",
                )
            })?),
            None => None,
        };
        let channel = match &self.channel {
            Some(c) => Some(
                Channel::parse(c)
                    .ok_or_else(|| ApiError::bad_request("channel", "email or webhook"))?,
            ),
            None => None,
        };
        Ok(DeliveryFilter {
            status,
            channel,
            employee_id: self.employee_id,
        })
    }
}

/// The company's deliveries by email and webhook, oldest first.
#[utoipa::path(get, path = "/api/v1/notifications/deliveries", tag = "notifications",
    security(("bearer" = [])), params(DeliveryQuery, PageParams),
    responses((status = 200, body = Page<Delivery>), (status = 400, body = roster_http::Problem),
        (status = 401, body = roster_http::Problem), (status = 403, body = roster_http::Problem)))]
pub(super) async fn list_deliveries(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(query): Query<DeliveryQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Delivery>>> {
    let filter = query.filter()?;
    let cursor = page.parse()?;
    let rows = deliveries::list(&ctx.db, &caller.tenant(), filter, &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |d| d.id).map(Delivery::from),
    ))
}

/// One delivery with every attempt at it.
#[utoipa::path(get, path = "/api/v1/notifications/deliveries/{id}", tag = "notifications",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = DeliveryLog), (status = 401, body = roster_http::Problem),
        (status = 403, body = roster_http::Problem), (status = 404, body = roster_http::Problem)))]
pub(super) async fn get_delivery(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<DeliveryLog>> {
    let (delivery, attempts) = deliveries::with_attempts(&ctx.db, &caller.tenant(), id).await?;
    Ok(Json(DeliveryLog {
        delivery: delivery.into(),
        log: attempts.into_iter().map(DeliveryAttempt::from).collect(),
    }))
}
