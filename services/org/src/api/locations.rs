use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Geofence, Name, OptionalText};
use crate::store::entities::location;
use crate::store::locations::{self, LocationChange, NewLocation};
use roster_storage::StoreError;

const NAME_MAX: usize = 100;
const ADDRESS_MAX: usize = 500;

/// A place people work at, with the geofence that check-ins there must fall in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Location {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub address: Option<String>,
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
    /// The geofence's radius in metres.
    pub radius_m: i32,
    /// The holiday calendar of people working here; null for the company's default.
    pub holiday_calendar_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<location::Model> for Location {
    fn from(l: location::Model) -> Self {
        Self {
            id: l.id,
            company_id: l.company_id,
            name: l.name,
            address: l.address,
            latitude: l.latitude,
            longitude: l.longitude,
            radius_m: l.radius_m,
            holiday_calendar_id: l.holiday_calendar_id,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLocation {
    pub name: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    /// 1 to 50,000 metres.
    pub radius_m: i64,
    pub holiday_calendar_id: Option<Uuid>,
}

/// Creates a location (admin).
#[utoipa::path(post, path = "/api/v1/org/locations", tag = "org", security(("bearer" = [])),
    request_body = CreateLocation,
    responses((status = 201, body = Location), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn create_location(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateLocation>,
) -> ApiResult<(StatusCode, Json<Location>)> {
    let new = NewLocation {
        name: Name::parse("name", &body.name, NAME_MAX)?,
        address: OptionalText::parse("address", body.address.as_deref(), ADDRESS_MAX)?,
        geofence: Geofence::parse(body.latitude, body.longitude, body.radius_m)
            .map_err(StoreError::Invalid)?,
        holiday_calendar_id: body.holiday_calendar_id,
    };
    let location =
        locations::create(&ctx.db, &caller.tenant(), new, ctx.config.quotas.locations).await?;
    Ok((StatusCode::CREATED, Json(location.into())))
}

/// The company's locations, in creation order.
#[utoipa::path(get, path = "/api/v1/org/locations", tag = "org", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<Location>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_locations(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Location>>> {
    let cursor = page.parse()?;
    let rows = locations::list(&ctx.db, &caller.tenant(), &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |l| l.id).map(Location::from),
    ))
}

/// One location.
#[utoipa::path(get, path = "/api/v1/org/locations/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Location), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn get_location(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Location>> {
    Ok(Json(
        locations::get(&ctx.db, &caller.tenant(), id).await?.into(),
    ))
}

/// Any of the fields; absent ones keep their value. The geofence changes as a whole:
/// give `latitude`, `longitude` and `radius_m` together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLocation {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub radius_m: Option<i64>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub holiday_calendar_id: Option<Option<Uuid>>,
}

/// Changes a location (admin).
#[utoipa::path(patch, path = "/api/v1/org/locations/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateLocation,
    responses((status = 200, body = Location), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn update_location(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateLocation>,
) -> ApiResult<Json<Location>> {
    let geofence = match (body.latitude, body.longitude, body.radius_m) {
        (None, None, None) => None,
        (Some(lat), Some(lon), Some(radius)) => {
            Some(Geofence::parse(lat, lon, radius).map_err(StoreError::Invalid)?)
        }
        _ => {
            return Err(roster_http::ApiError::invalid(
                "latitude",
                "latitude, longitude and radius_m change together",
            ));
        }
    };
    let change = LocationChange {
        name: body
            .name
            .as_deref()
            .map(|n| Name::parse("name", n, NAME_MAX))
            .transpose()?,
        address: body
            .address
            .map(|a| OptionalText::parse("address", a.as_deref(), ADDRESS_MAX))
            .transpose()?,
        geofence,
        holiday_calendar_id: body.holiday_calendar_id,
    };
    Ok(Json(
        locations::update(&ctx.db, &caller.tenant(), id, change)
            .await?
            .into(),
    ))
}

/// Deletes a location (admin).
#[utoipa::path(delete, path = "/api/v1/org/locations/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn delete_location(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    locations::delete(&ctx.db, &caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
