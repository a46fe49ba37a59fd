use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, CalendarDate, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Invalid, Kind, Method, Name, Position, REASON_MAX, TagUid};
use crate::store::checkins::{self, CheckinFilter, NewCheckin, Proof};
use crate::store::entities::{checkin, checkin_change};

/// A check-in or a check-out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Checkin {
    pub id: Uuid,
    pub company_id: Uuid,
    pub employee_id: Uuid,
    pub kind: Kind,
    pub method: Method,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The day the shift counts on, in the company's time zone (a shift across
    /// midnight counts on the day it started). `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub shift_date: Date,
    /// The tag read, for a check-in by NFC.
    pub nfc_tag_id: Option<Uuid>,
    /// The tag's location, or the geofence the position fell in.
    pub location_id: Option<Uuid>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Who recorded it: the employee, or for a manual one their manager or an admin.
    pub recorded_by: Uuid,
    /// Why a manual one was recorded.
    pub reason: Option<String>,
    /// For a check-out, its check-in.
    pub checkin_id: Option<Uuid>,
    /// For a check-in, when its shift ended (null while it is open).
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_out_at: Option<OffsetDateTime>,
}

impl From<checkin::Model> for Checkin {
    fn from(c: checkin::Model) -> Self {
        Self {
            id: c.id,
            company_id: c.company_id,
            employee_id: c.employee_id,
            kind: c.kind,
            method: c.method,
            at: c.at,
            shift_date: c.local_date,
            nfc_tag_id: c.nfc_tag_id,
            location_id: c.location_id,
            latitude: c.latitude,
            longitude: c.longitude,
            recorded_by: c.recorded_by,
            reason: c.reason,
            checkin_id: c.shift_id,
            checked_out_at: c.ended_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckin {
    pub kind: Kind,
    pub method: Method,
    /// For `nfc`: the UID the device read.
    pub nfc_tag_uid: Option<String>,
    /// For `geo`: the device's position.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// For `manual`: whose check-in it is (the caller's own when absent).
    pub employee_id: Option<Uuid>,
    /// For `manual`: when it happened (now when absent); never ahead of time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// For `manual`: why, 1 to 500 characters.
    pub reason: Option<String>,
}

fn only_for(field: &'static str, method: &str) -> Invalid {
    Invalid::new(field, format!("only a {method} check-in takes it"))
}

impl CreateCheckin {
    fn into_new(self, caller: &Caller) -> Result<NewCheckin, Invalid> {
        let manual = self.method == Method::Manual;
        if !manual {
            for (field, given) in [
                ("employee_id", self.employee_id.is_some()),
                ("at", self.at.is_some()),
                ("reason", self.reason.is_some()),
            ] {
                if given {
                    return Err(only_for(field, "manual"));
                }
            }
        }
        if self.method != Method::Nfc && self.nfc_tag_uid.is_some() {
            return Err(only_for("nfc_tag_uid", "nfc"));
        }
        if self.method != Method::Geo && (self.latitude.is_some() || self.longitude.is_some()) {
            return Err(only_for("latitude", "geo"));
        }
        let proof = match self.method {
            Method::Nfc => Proof::Nfc(TagUid::parse(
                "nfc_tag_uid",
                self.nfc_tag_uid.as_deref().unwrap_or_default(),
            )?),
            Method::Geo => Proof::Geo(Position::parse(self.latitude, self.longitude)?),
            Method::Manual => Proof::Manual {
                at: self.at.unwrap_or_else(OffsetDateTime::now_utc),
                reason: reason(self.reason.as_deref())?,
            },
        };
        Ok(NewCheckin {
            kind: self.kind,
            employee_id: self.employee_id.unwrap_or(caller.employee_id()),
            proof,
        })
    }
}

fn reason(reason: Option<&str>) -> Result<String, Invalid> {
    Name::parse("reason", reason.unwrap_or_default(), REASON_MAX).map(Name::into_inner)
}

/// Records a check-in or check-out: the caller's own by NFC tag or geofence, or, by
/// an administrator or the employee's manager, a manual one with a reason.
#[utoipa::path(post, path = "/api/v1/presence/checkins", tag = "presence", security(("bearer" = [])),
    request_body = CreateCheckin,
    responses((status = 201, body = Checkin), (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem, description = "A manual check-in by someone who is not an administrator or the employee's manager"),
        (status = 404, body = Problem, description = "No active employee of the company has this id"),
        (status = 409, body = Problem, description = "Already checked in"),
        (status = 422, body = Problem, description = "An unknown tag, a position outside every geofence, an \"out\" without an open \"in\", or a time that overlaps a shift")))]
pub(super) async fn create_checkin(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateCheckin>,
) -> ApiResult<(StatusCode, Json<Checkin>)> {
    let new = body.into_new(&caller)?;
    let row = checkins::record(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        caller.employee_id(),
        new,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFilter {
    /// Only this employee's.
    pub employee_id: Option<Uuid>,
    /// From this shift date (`YYYY-MM-DD`, company time zone).
    #[param(value_type = Option<String>)]
    pub from: Option<CalendarDate>,
    /// Up to this shift date, inclusive.
    #[param(value_type = Option<String>)]
    pub to: Option<CalendarDate>,
}

/// The check-ins the caller may see, in the order they were recorded.
#[utoipa::path(get, path = "/api/v1/presence/checkins", tag = "presence", security(("bearer" = [])),
    params(ListFilter, PageParams),
    responses((status = 200, body = Page<Checkin>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_checkins(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(filter): Query<ListFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Checkin>>> {
    let cursor = page.parse()?;
    let filter = CheckinFilter {
        employee_id: filter.employee_id,
        from: filter.from.map(CalendarDate::get),
        to: filter.to.map(CalendarDate::get),
    };
    let rows = checkins::list(&ctx.db, &caller.tenant(), caller.viewer(), filter, &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |c| c.id).map(Checkin::from),
    ))
}

/// One check-in the caller may see.
#[utoipa::path(get, path = "/api/v1/presence/checkins/{id}", tag = "presence", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Checkin), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn get_checkin(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Checkin>> {
    let row = checkins::get(&ctx.db, &caller.tenant(), caller.viewer(), id).await?;
    Ok(Json(row.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectCheckin {
    /// When it really happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Why, 1 to 500 characters.
    pub reason: String,
}

/// Corrects the time of a check-in or check-out (an administrator or the employee's
/// manager), keeping the change in its history.
#[utoipa::path(patch, path = "/api/v1/presence/checkins/{id}", tag = "presence", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CorrectCheckin,
    responses((status = 200, body = Checkin), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem, description = "A time ahead of now, a check-out before its check-in, or a shift that would overlap another")))]
pub(super) async fn correct_checkin(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<CorrectCheckin>,
) -> ApiResult<Json<Checkin>> {
    let reason = reason(Some(&body.reason))?;
    let row = checkins::correct(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        caller.employee_id(),
        id,
        body.at,
        reason,
    )
    .await?;
    Ok(Json(row.into()))
}

/// A manual record or a correction of a check-in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckinChange {
    pub id: Uuid,
    pub checkin_id: Uuid,
    /// `recorded` (a manual check-in) or `corrected`.
    pub change: String,
    /// The time before a correction.
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub changed_by: Uuid,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

impl From<checkin_change::Model> for CheckinChange {
    fn from(c: checkin_change::Model) -> Self {
        Self {
            id: c.id,
            checkin_id: c.checkin_id,
            change: c.change,
            previous_at: c.previous_at,
            at: c.at,
            changed_by: c.changed_by,
            reason: c.reason,
            changed_at: c.changed_at,
        }
    }
}

/// Who recorded or corrected a check-in by hand, when and why, oldest first.
#[utoipa::path(get, path = "/api/v1/presence/checkins/{id}/history", tag = "presence", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CheckinChange>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn checkin_history(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<CheckinChange>>> {
    let rows = checkins::history(&ctx.db, &caller.tenant(), caller.viewer(), id).await?;
    Ok(Json(rows.into_iter().map(CheckinChange::from).collect()))
}
