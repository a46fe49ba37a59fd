use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::store::entities::notification;
use crate::store::notifications;

/// Something that happened that concerns the caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    /// `welcome`, `task.assigned`, `task.unassigned`...
    pub kind: String,
    pub title: String,
    pub body: String,
    /// The API path of what it is about, if anything.
    pub link: Option<String>,
    pub read: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<notification::Model> for Notification {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            link: n.link,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// `true`: only those not read yet.
    #[serde(default)]
    pub unread: bool,
}

/// The caller's notifications, oldest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    security(("bearer" = [])), params(ListFilter, PageParams),
    responses((status = 200, body = Page<Notification>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_notifications(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(filter): Query<ListFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Notification>>> {
    let cursor = page.parse()?;
    let rows = notifications::list(
        &ctx.db,
        &caller.tenant(),
        caller.employee_id(),
        filter.unread,
        &cursor,
    )
    .await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |n| n.id).map(Notification::from),
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnreadCount {
    pub unread: u64,
}

/// How many of the caller's notifications are not read yet.
#[utoipa::path(get, path = "/api/v1/notifications/unread-count", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = Problem)))]
pub(super) async fn unread_count(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<UnreadCount>> {
    let unread =
        notifications::unread_count(&ctx.db, &caller.tenant(), caller.employee_id()).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "No notification of the caller has this id")))]
pub(super) async fn mark_read(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    notifications::mark_read(&ctx.db, &caller.tenant(), caller.employee_id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
