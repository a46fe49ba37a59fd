use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, CalendarDate, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::Name;
use crate::store::calendars::{self, HolidayFilter};
use crate::store::entities::{holiday, holiday_calendar};

const NAME_MAX: usize = 100;

/// A set of public holidays; every company has a default one, and a location may use
/// another.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HolidayCalendar {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub is_default: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<holiday_calendar::Model> for HolidayCalendar {
    fn from(c: holiday_calendar::Model) -> Self {
        Self {
            id: c.id,
            company_id: c.company_id,
            name: c.name,
            is_default: c.is_default,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCalendar {
    pub name: String,
    /// Makes it the company's default calendar.
    #[serde(default)]
    pub is_default: bool,
}

/// Creates a holiday calendar (admin).
#[utoipa::path(post, path = "/api/v1/org/holiday-calendars", tag = "org", security(("bearer" = [])),
    request_body = CreateCalendar,
    responses((status = 201, body = HolidayCalendar), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn create_calendar(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateCalendar>,
) -> ApiResult<(StatusCode, Json<HolidayCalendar>)> {
    let name = Name::parse("name", &body.name, NAME_MAX)?;
    let calendar =
        calendars::create_calendar(&ctx.db, &caller.tenant(), name, body.is_default).await?;
    Ok((StatusCode::CREATED, Json(calendar.into())))
}

/// The company's holiday calendars.
#[utoipa::path(get, path = "/api/v1/org/holiday-calendars", tag = "org", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<HolidayCalendar>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_calendars(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<HolidayCalendar>>> {
    let cursor = page.parse()?;
    let rows = calendars::list_calendars(&ctx.db, &caller.tenant(), &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |c| c.id).map(HolidayCalendar::from),
    ))
}

/// One holiday calendar.
#[utoipa::path(get, path = "/api/v1/org/holiday-calendars/{id}", tag = "org",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = HolidayCalendar), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn get_calendar(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<HolidayCalendar>> {
    Ok(Json(
        calendars::get_calendar(&ctx.db, &caller.tenant(), id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCalendar {
    pub name: Option<String>,
    /// `true` makes it the default; the default stops being one only when another
    /// becomes the default.
    pub is_default: Option<bool>,
}

/// Renames a calendar or makes it the default (admin).
#[utoipa::path(patch, path = "/api/v1/org/holiday-calendars/{id}", tag = "org",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateCalendar,
    responses((status = 200, body = HolidayCalendar), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn update_calendar(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateCalendar>,
) -> ApiResult<Json<HolidayCalendar>> {
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n, NAME_MAX))
        .transpose()?;
    let calendar =
        calendars::update_calendar(&ctx.db, &caller.tenant(), id, name, body.is_default).await?;
    Ok(Json(calendar.into()))
}

/// Deletes a calendar that is not the default, with its holidays (admin).
#[utoipa::path(delete, path = "/api/v1/org/holiday-calendars/{id}", tag = "org",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "It is the default calendar")))]
pub(super) async fn delete_calendar(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    calendars::delete_calendar(&ctx.db, &caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A public holiday: no one works, and leave does not count it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Holiday {
    pub id: Uuid,
    pub company_id: Uuid,
    pub calendar_id: Uuid,
    pub date: Date,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<holiday::Model> for Holiday {
    fn from(h: holiday::Model) -> Self {
        Self {
            id: h.id,
            company_id: h.company_id,
            calendar_id: h.calendar_id,
            date: h.date,
            name: h.name,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHoliday {
    /// `YYYY-MM-DD`.
    pub date: CalendarDate,
    pub name: String,
    /// The calendar; the company's default when absent.
    pub calendar_id: Option<Uuid>,
}

/// Adds a holiday (admin).
#[utoipa::path(post, path = "/api/v1/org/holidays", tag = "org", security(("bearer" = [])),
    request_body = CreateHoliday,
    responses((status = 201, body = Holiday), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The calendar has a holiday on that date"),
        (status = 422, body = Problem)))]
pub(super) async fn create_holiday(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateHoliday>,
) -> ApiResult<(StatusCode, Json<Holiday>)> {
    let name = Name::parse("name", &body.name, NAME_MAX)?;
    let holiday = calendars::create_holiday(
        &ctx.db,
        &caller.tenant(),
        body.calendar_id,
        body.date.get(),
        name,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(holiday.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolidayQuery {
    /// Only this calendar's holidays.
    pub calendar_id: Option<Uuid>,
    /// From this date, inclusive (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<CalendarDate>,
    /// To this date, inclusive (`YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<CalendarDate>,
}

/// The company's holidays, in date order.
#[utoipa::path(get, path = "/api/v1/org/holidays", tag = "org", security(("bearer" = [])),
    params(HolidayQuery, PageParams),
    responses((status = 200, body = Page<Holiday>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_holidays(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(query): Query<HolidayQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Holiday>>> {
    let cursor = page.parse()?;
    let filter = HolidayFilter {
        calendar_id: query.calendar_id,
        from: query.from.map(CalendarDate::get),
        to: query.to.map(CalendarDate::get),
    };
    let rows = calendars::list_holidays(&ctx.db, &caller.tenant(), filter, &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |h| (h.date, h.id)).map(Holiday::from),
    ))
}

/// Removes a holiday (admin).
#[utoipa::path(delete, path = "/api/v1/org/holidays/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn delete_holiday(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    calendars::delete_holiday(&ctx.db, &caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
