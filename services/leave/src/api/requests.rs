use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, CalendarDate, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Days, Halves, OptionalText, Status};
use crate::store::entities::request;
use crate::store::requests::{self, Decision, NewRequest, RequestFilter};

/// The longest reason or comment, in characters.
const TEXT_MAX: usize = 500;

/// A request for leave.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeaveRequest {
    pub id: Uuid,
    pub company_id: Uuid,
    pub employee_id: Uuid,
    pub leave_type_id: Uuid,
    #[schema(value_type = String)]
    pub start_date: Date,
    #[schema(value_type = String)]
    pub end_date: Date,
    /// The first day is taken from noon.
    pub start_half: bool,
    /// The last day is taken until noon.
    pub end_half: bool,
    /// Working days it takes.
    pub days: f64,
    pub status: Status,
    pub reason: Option<String>,
    /// Who approved or rejected it.
    pub decided_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<request::Model> for LeaveRequest {
    fn from(r: request::Model) -> Self {
        Self {
            id: r.id,
            company_id: r.company_id,
            employee_id: r.employee_id,
            leave_type_id: r.leave_type_id,
            start_date: r.start_date,
            end_date: r.end_date,
            start_half: r.start_afternoon,
            end_half: r.end_morning,
            days: Days::from_thousandths(r.days).as_f64(),
            status: r.status,
            reason: r.reason,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            comment: r.comment,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub leave_type_id: Uuid,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub start_date: CalendarDate,
    /// `YYYY-MM-DD`, on or after the start.
    #[schema(value_type = String)]
    pub end_date: CalendarDate,
    /// Take the first day from noon only.
    #[serde(default)]
    pub start_half: bool,
    /// Take the last day until noon only.
    #[serde(default)]
    pub end_half: bool,
    /// Up to 500 characters.
    pub reason: Option<String>,
}

/// Requests leave for the caller: `pending`, or `approved` at once where the type
/// needs no approval. Days are counted over the company's working days, holidays
/// excluded.
#[utoipa::path(post, path = "/api/v1/leave/requests", tag = "leave", security(("bearer" = [])),
    request_body = CreateRequest,
    responses((status = 201, body = LeaveRequest), (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 422, body = Problem, description = "More days than are available, an overlap with another request, no working day, or an unknown type")))]
pub(super) async fn create_request(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateRequest>,
) -> ApiResult<(StatusCode, Json<LeaveRequest>)> {
    let new = NewRequest {
        leave_type_id: body.leave_type_id,
        start_date: body.start_date.get(),
        end_date: body.end_date.get(),
        halves: Halves {
            start_afternoon: body.start_half,
            end_morning: body.end_half,
        },
        reason: OptionalText::parse("reason", body.reason.as_deref(), TEXT_MAX)?.into_inner(),
    };
    let row = requests::create(&ctx.db, &caller.tenant(), caller.employee_id(), new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub employee_id: Option<Uuid>,
}

/// The requests the caller may see (their own; a manager's reports' too; all for an
/// administrator), in the order they were made.
#[utoipa::path(get, path = "/api/v1/leave/requests", tag = "leave", security(("bearer" = [])),
    params(ListFilter, PageParams),
    responses((status = 200, body = Page<LeaveRequest>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_requests(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(filter): Query<ListFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<LeaveRequest>>> {
    let cursor = page.parse()?;
    let filter = RequestFilter {
        status: filter.status,
        employee_id: filter.employee_id,
    };
    let rows = requests::list(&ctx.db, &caller.tenant(), caller.viewer(), filter, &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |r| r.id).map(LeaveRequest::from),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Up to 500 characters.
    pub comment: Option<String>,
}

async fn decide(
    ctx: ServiceContext,
    caller: Caller,
    id: Uuid,
    decision: Decision,
    body: Option<DecisionBody>,
) -> ApiResult<Json<LeaveRequest>> {
    let comment = body.unwrap_or_default().comment;
    let comment = OptionalText::parse("comment", comment.as_deref(), TEXT_MAX)?.into_inner();
    let row = requests::decide(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        caller.employee_id(),
        id,
        decision,
        comment,
    )
    .await?;
    Ok(Json(row.into()))
}

/// Approves a pending request (the employee's manager or an administrator): its days
/// are taken from the balance.
#[utoipa::path(post, path = "/api/v1/leave/requests/{id}/approve", tag = "leave",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Option<DecisionBody>,
    responses((status = 200, body = LeaveRequest), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Decided already")))]
pub(super) async fn approve(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<LeaveRequest>> {
    decide(ctx, caller, id, Decision::Approve, body.map(|Json(b)| b)).await
}

/// Rejects a pending request (the employee's manager or an administrator).
#[utoipa::path(post, path = "/api/v1/leave/requests/{id}/reject", tag = "leave",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Option<DecisionBody>,
    responses((status = 200, body = LeaveRequest), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Decided already")))]
pub(super) async fn reject(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<LeaveRequest>> {
    decide(ctx, caller, id, Decision::Reject, body.map(|Json(b)| b)).await
}

/// Cancels a pending or approved request (the employee, their manager or an
/// administrator); an approved one gives its days back.
#[utoipa::path(post, path = "/api/v1/leave/requests/{id}/cancel", tag = "leave",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Option<DecisionBody>,
    responses((status = 200, body = LeaveRequest), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Rejected or cancelled already")))]
pub(super) async fn cancel(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<LeaveRequest>> {
    decide(ctx, caller, id, Decision::Cancel, body.map(|Json(b)| b)).await
}
