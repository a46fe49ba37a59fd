use axum::extract::State;
use roster_http::{ApiResult, CalendarDate, Caller, Json, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{DayAttendance, Invalid};
use crate::store::attendance::{self, Sheet, Span, Whom};

/// One employee's day: the shifts that started on it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Day {
    /// `YYYY-MM-DD`, in the company's time zone.
    #[schema(value_type = String)]
    pub date: Date,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_in: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_out: Option<OffsetDateTime>,
    /// Minutes of the day's shifts that ended.
    pub worked_minutes: i64,
    /// A shift of the day has no check-out and the day is over.
    pub missing_checkout: bool,
    /// A shift of today is still open: at work now.
    pub checked_in: bool,
}

impl Day {
    fn new(date: Date, a: DayAttendance) -> Self {
        Self {
            date,
            first_in: a.first_in,
            last_out: a.last_out,
            worked_minutes: a.worked_minutes,
            missing_checkout: a.missing_checkout,
            checked_in: a.open,
        }
    }
}

/// An employee's attendance on the day asked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EmployeeDay {
    pub employee_id: Uuid,
    pub name: String,
    pub surname: String,
    #[serde(flatten)]
    pub day: Day,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayReport {
    /// The day asked, or today in the company's time zone.
    #[schema(value_type = String)]
    pub date: Date,
    /// Every active employee the caller may see (narrowed by the filters), by surname;
    /// those who did not check in have no times.
    pub employees: Vec<EmployeeDay>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayParams {
    /// `YYYY-MM-DD`; today in the company's time zone when absent.
    #[param(value_type = Option<String>)]
    pub date: Option<CalendarDate>,
    /// Only this team's members.
    pub team_id: Option<Uuid>,
    /// Only this employee.
    pub employee_id: Option<Uuid>,
}

/// Each employee's first check-in, last check-out and worked minutes on a day.
#[utoipa::path(get, path = "/api/v1/presence/attendance", tag = "presence", security(("bearer" = [])),
    params(DayParams),
    responses((status = 200, body = DayReport), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn day(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(params): Query<DayParams>,
) -> ApiResult<Json<DayReport>> {
    let whom = Whom {
        team_id: params.team_id,
        employee_id: params.employee_id,
    };
    let span = match params.date {
        Some(date) => Span::Days(date.get(), date.get()),
        None => Span::Today,
    };
    let (date, sheets) =
        attendance::sheets(&ctx.db, &caller.tenant(), caller.viewer(), whom, span).await?;
    let employees = sheets
        .into_iter()
        .filter_map(|Sheet { person, days }| {
            let (day, a) = days.into_iter().next()?;
            Some(EmployeeDay {
                employee_id: person.id,
                name: person.name,
                surname: person.surname,
                day: Day::new(day, a),
            })
        })
        .collect();
    Ok(Json(DayReport { date, employees }))
}

/// An employee's month.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EmployeeMonth {
    pub employee_id: Uuid,
    pub name: String,
    pub surname: String,
    /// Days with at least one check-in.
    pub days_present: u32,
    pub worked_minutes: i64,
    /// Days with a shift that was never checked out.
    pub missing_checkouts: u32,
    /// The days present, in order.
    pub days: Vec<Day>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonthReport {
    /// `YYYY-MM`.
    pub month: String,
    pub employees: Vec<EmployeeMonth>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    /// `YYYY-MM`.
    pub month: String,
    /// Only this team's members.
    pub team_id: Option<Uuid>,
    /// Only this employee.
    pub employee_id: Option<Uuid>,
}

/// The first and last day of `YYYY-MM`.
fn month_span(month: &str) -> Result<(Date, Date), Invalid> {
    let invalid = || Invalid::new("month", "a month is YYYY-MM, such as 2026-11");
    let (year, number) = month.split_once('-').ok_or_else(invalid)?;
    let year: i32 = year.parse().map_err(|_| invalid())?;
    let number: u8 = number.parse().map_err(|_| invalid())?;
    let month = Month::try_from(number).map_err(|_| invalid())?;
    let first = Date::from_calendar_date(year, month, 1).map_err(|_| invalid())?;
    let last = Date::from_calendar_date(year, month, month.length(year)).map_err(|_| invalid())?;
    Ok((first, last))
}

/// Each employee's days present, worked minutes and missing check-outs over a month,
/// with the days themselves: the month report of a team.
#[utoipa::path(get, path = "/api/v1/presence/attendance/month", tag = "presence", security(("bearer" = [])),
    params(MonthParams),
    responses((status = 200, body = MonthReport), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn month(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(params): Query<MonthParams>,
) -> ApiResult<Json<MonthReport>> {
    let (from, to) = month_span(&params.month)?;
    let whom = Whom {
        team_id: params.team_id,
        employee_id: params.employee_id,
    };
    let (_, sheets) = attendance::sheets(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        whom,
        Span::Days(from, to),
    )
    .await?;
    let employees = sheets
        .into_iter()
        .map(|Sheet { person, days }| {
            let days: Vec<Day> = days
                .into_iter()
                .filter(|(_, a)| a.present())
                .map(|(date, a)| Day::new(date, a))
                .collect();
            EmployeeMonth {
                employee_id: person.id,
                name: person.name,
                surname: person.surname,
                days_present: u32::try_from(days.len()).unwrap_or(u32::MAX),
                worked_minutes: days.iter().map(|d| d.worked_minutes).sum(),
                missing_checkouts: u32::try_from(
                    days.iter().filter(|d| d.missing_checkout).count(),
                )
                .unwrap_or(u32::MAX),
                days,
            }
        })
        .collect();
    Ok(Json(MonthReport {
        month: format!("{}-{:02}", from.year(), u8::from(from.month())),
        employees,
    }))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn a_month_spans_its_days() {
        assert_eq!(
            month_span("2026-11"),
            Ok((date!(2026 - 11 - 01), date!(2026 - 11 - 30)))
        );
        assert_eq!(
            month_span("2028-02"),
            Ok((date!(2028 - 02 - 01), date!(2028 - 02 - 29)))
        );
        for bad in ["2026", "2026-13", "2026-00", "x-01", ""] {
            assert!(month_span(bad).is_err(), "{bad}");
        }
    }
}
