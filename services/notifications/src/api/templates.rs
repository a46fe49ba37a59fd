use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiError, ApiResult, Caller, Json, Path};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::render::{self, Template};
use crate::store::templates::{self, Wording};

/// How the company words one kind of notification (minijinja templates).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationTemplate {
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Whether the company wrote it; otherwise it is Roster's default.
    pub custom: bool,
}

impl NotificationTemplate {
    fn of(kind: &str, wording: Wording) -> Self {
        Self {
            kind: kind.to_owned(),
            title: wording.title,
            body: wording.body,
            custom: wording.custom,
        }
    }
}

/// A company's own wording of a kind.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateChange {
    /// 1 to 300 characters of minijinja.
    pub title: String,
    /// 1 to 10,000 characters of minijinja.
    pub body: String,
}

fn kind_of(kind: &str) -> Result<&'static Template, ApiError> {
    render::kind(kind).ok_or_else(|| ApiError::not_found("notification kind"))
}

/// Every kind of notification with the company's wording of it.
#[utoipa::path(get, path = "/api/v1/notifications/templates", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<NotificationTemplate>), (status = 401, body = roster_http::Problem),
        (status = 403, body = roster_http::Problem)))]
pub(super) async fn list_templates(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<Vec<NotificationTemplate>>> {
    let all = templates::all(&ctx.db, &caller.tenant(), &render::ALL).await?;
    Ok(Json(
        all.into_iter()
            .map(|(kind, wording)| NotificationTemplate::of(kind, wording))
            .collect(),
    ))
}

/// Words a kind the company's own way. The templates are checked on made-up data of
/// the kind: a syntax error or a name the kind does not give is refused.
#[utoipa::path(put, path = "/api/v1/notifications/templates/{kind}", tag = "notifications",
    security(("bearer" = [])), params(("kind" = String, Path)), request_body = TemplateChange,
    responses((status = 200, body = NotificationTemplate), (status = 400, body = roster_http::Problem),
        (status = 401, body = roster_http::Problem), (status = 403, body = roster_http::Problem),
        (status = 404, body = roster_http::Problem, description = "No such kind"),
        (status = 422, body = roster_http::Problem, description = "A template that does not render")))]
pub(super) async fn put_template(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(kind): Path<String>,
    Json(change): Json<TemplateChange>,
) -> ApiResult<Json<NotificationTemplate>> {
    let template = kind_of(&kind)?;
    render::check(template, &change.title, &change.body)
        .map_err(|(field, message)| ApiError::invalid(field, message))?;
    templates::put(
        &ctx.db,
        &caller.tenant(),
        template,
        change.title.clone(),
        change.body.clone(),
        caller.employee_id(),
    )
    .await?;
    Ok(Json(NotificationTemplate {
        kind: template.kind.to_owned(),
        title: change.title,
        body: change.body,
        custom: true,
    }))
}

/// Goes back to Roster's default wording of a kind.
#[utoipa::path(delete, path = "/api/v1/notifications/templates/{kind}", tag = "notifications",
    security(("bearer" = [])), params(("kind" = String, Path)),
    responses((status = 204), (status = 401, body = roster_http::Problem),
        (status = 403, body = roster_http::Problem),
        (status = 404, body = roster_http::Problem, description = "No such kind")))]
pub(super) async fn reset_template(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(kind): Path<String>,
) -> ApiResult<StatusCode> {
    templates::reset(&ctx.db, &caller.tenant(), kind_of(&kind)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
