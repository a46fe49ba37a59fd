use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, CalendarDate, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{DESCRIPTION_MAX, Name, OptionalText, Status, TITLE_MAX};
use crate::store::entities::task;
use crate::store::tasks::{self, NewTask, TaskChange, TaskFilter};

/// A task: something to do, by someone, perhaps by a date.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub company_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    /// Who is to do it; null while unassigned.
    pub assignee_id: Option<Uuid>,
    /// Who created it.
    pub creator_id: Uuid,
    /// `YYYY-MM-DD`.
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Date>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<task::Model> for Task {
    fn from(t: task::Model) -> Self {
        Self {
            id: t.id,
            company_id: t.company_id,
            title: t.title,
            description: t.description,
            status: t.status,
            assignee_id: t.assignee_id,
            creator_id: t.creator_id,
            due_date: t.due_date,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    pub description: Option<String>,
    /// An active employee of the company: the caller, or someone who reports to them
    /// (directly or not); an administrator may assign anyone.
    pub assignee_id: Option<Uuid>,
    /// `YYYY-MM-DD`.
    #[schema(value_type = Option<String>)]
    pub due_date: Option<CalendarDate>,
}

/// Creates a task, status `todo`, created by the caller.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", security(("bearer" = [])),
    request_body = CreateTask,
    responses((status = 201, body = Task), (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem, description = "An assignee who does not report to the caller"),
        (status = 422, body = Problem, description = "Invalid values, or an assignee who is not an active employee of the company")))]
pub(super) async fn create_task(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateTask>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let new = NewTask {
        title: Name::parse("title", &body.title, TITLE_MAX)?.into_inner(),
        description: OptionalText::parse(
            "description",
            body.description.as_deref(),
            DESCRIPTION_MAX,
        )?
        .into_inner(),
        assignee_id: body.assignee_id,
        due_date: body.due_date.map(CalendarDate::get),
    };
    let task = tasks::create(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        caller.employee_id(),
        new,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(task.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// Only tasks in this status.
    pub status: Option<Status>,
    /// Only tasks assigned to this employee.
    pub assignee_id: Option<Uuid>,
}

/// The tasks the caller may see, in creation order.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", security(("bearer" = [])),
    params(ListFilter, PageParams),
    responses((status = 200, body = Page<Task>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_tasks(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(filter): Query<ListFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Task>>> {
    let cursor = page.parse()?;
    let filter = TaskFilter {
        status: filter.status,
        assignee_id: filter.assignee_id,
    };
    let rows = tasks::list(&ctx.db, &caller.tenant(), caller.viewer(), filter, &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |t| t.id).map(Task::from),
    ))
}

/// One task the caller may see.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Task), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn get_task(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Task>> {
    let task = tasks::get(&ctx.db, &caller.tenant(), caller.viewer(), id).await?;
    Ok(Json(task.into()))
}

/// Any of the fields; absent ones keep their value, `null` clears a nullable one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Option<CalendarDate>>,
    /// `todo -> in_progress -> done`, or `cancelled` while open.
    pub status: Option<Status>,
}

/// Changes a task. An administrator, its creator or its assignee's manager may change
/// anything; the assignee the status only. A task done or cancelled keeps its fields.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateTask,
    responses((status = 200, body = Task), (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem, description = "The caller may not change this (or this much)"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The task is done or cancelled"),
        (status = 422, body = Problem, description = "Invalid values, a step outside the workflow, or an assignee who is not an active employee")))]
pub(super) async fn update_task(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateTask>,
) -> ApiResult<Json<Task>> {
    let change = TaskChange {
        title: body
            .title
            .as_deref()
            .map(|t| Name::parse("title", t, TITLE_MAX).map(Name::into_inner))
            .transpose()?,
        description: body
            .description
            .map(|d| {
                OptionalText::parse("description", d.as_deref(), DESCRIPTION_MAX)
                    .map(OptionalText::into_inner)
            })
            .transpose()?,
        assignee_id: body.assignee_id,
        due_date: body.due_date.map(|d| d.map(CalendarDate::get)),
        status: body.status,
    };
    let task = tasks::update(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        caller.employee_id(),
        id,
        change,
    )
    .await?;
    Ok(Json(task.into()))
}
