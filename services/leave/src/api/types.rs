use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, Caller, Json, Problem};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Accrual, Days, Invalid, Name};
use crate::store::entities::leave_type;
use crate::store::types::{self, NewType};

/// The longest leave type name, in characters.
const NAME_MAX: usize = 100;

/// A kind of leave and its policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeaveType {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub paid: bool,
    /// Days a year.
    pub annual_allowance_days: f64,
    pub accrual: Accrual,
    /// Days of a year's balance that carry into the next (the rest expires).
    pub carry_forward_max_days: f64,
    /// Months into the new year after which carried days not taken expire; never
    /// when null.
    pub carry_forward_expiry_months: Option<i32>,
    pub requires_approval: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<leave_type::Model> for LeaveType {
    fn from(t: leave_type::Model) -> Self {
        Self {
            id: t.id,
            company_id: t.company_id,
            name: t.name,
            paid: t.paid,
            annual_allowance_days: Days::from_thousandths(t.annual_allowance).as_f64(),
            accrual: t.accrual,
            carry_forward_max_days: Days::from_thousandths(t.carry_forward_max).as_f64(),
            carry_forward_expiry_months: t.carry_forward_expiry_months,
            requires_approval: t.requires_approval,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeaveType {
    /// 1 to 100 characters, unique in the company.
    pub name: String,
    pub paid: bool,
    /// 0 to 366 days, to the thousandth.
    pub annual_allowance_days: f64,
    pub accrual: Accrual,
    /// 0 (nothing carries) when absent.
    pub carry_forward_max_days: Option<f64>,
    /// 1 to 24.
    pub carry_forward_expiry_months: Option<i32>,
    /// True when absent.
    pub requires_approval: Option<bool>,
}

/// Defines a leave type (admin). Accrual begins with the current month or year.
#[utoipa::path(post, path = "/api/v1/leave/types", tag = "leave", security(("bearer" = [])),
    request_body = CreateLeaveType,
    responses((status = 201, body = LeaveType), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "A leave type of this name exists"),
        (status = 422, body = Problem)))]
pub(super) async fn create_type(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateLeaveType>,
) -> ApiResult<(StatusCode, Json<LeaveType>)> {
    if body
        .carry_forward_expiry_months
        .is_some_and(|m| !(1..=24).contains(&m))
    {
        return Err(Invalid::new("carry_forward_expiry_months", "between 1 and 24").into());
    }
    let new = NewType {
        name: Name::parse("name", &body.name, NAME_MAX)?.into_inner(),
        paid: body.paid,
        annual_allowance: Days::parse(
            "annual_allowance_days",
            body.annual_allowance_days,
            Days::MAX_ALLOWANCE,
        )?,
        accrual: body.accrual,
        carry_forward_max: Days::parse(
            "carry_forward_max_days",
            body.carry_forward_max_days.unwrap_or_default(),
            Days::MAX_ALLOWANCE,
        )?,
        carry_forward_expiry_months: body.carry_forward_expiry_months,
        requires_approval: body.requires_approval.unwrap_or(true),
    };
    let row = types::create(
        &ctx.db,
        &caller.tenant(),
        new,
        ctx.config.quotas.leave_types,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// The company's leave types, by name.
#[utoipa::path(get, path = "/api/v1/leave/types", tag = "leave", security(("bearer" = [])),
    responses((status = 200, body = Vec<LeaveType>), (status = 401, body = Problem)))]
pub(super) async fn list_types(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<Vec<LeaveType>>> {
    let rows = types::list(&ctx.db, &caller.tenant()).await?;
    Ok(Json(rows.into_iter().map(LeaveType::from).collect()))
}
