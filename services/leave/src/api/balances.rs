use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, Caller, Json, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Days, Invalid, LedgerKind, Name};
use crate::store::entities::ledger_entry;
use crate::store::ledger::{self, Balance, NewEntry};

/// One leave type's balance, in days.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LeaveBalance {
    pub leave_type_id: Uuid,
    pub name: String,
    /// Allocations, accruals, carry-forward, expiry and adjustments.
    pub entitled: f64,
    pub taken: f64,
    /// Requested, not decided yet.
    pub pending: f64,
    /// Entitled less taken and pending.
    pub available: f64,
}

impl From<Balance> for LeaveBalance {
    fn from(b: Balance) -> Self {
        Self {
            leave_type_id: b.leave_type_id,
            name: b.name,
            entitled: b.entitled.as_f64(),
            taken: b.taken.as_f64(),
            pending: b.pending.as_f64(),
            available: b.available.as_f64(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BalanceParams {
    /// Whose; the caller's own when absent.
    pub employee_id: Option<Uuid>,
}

/// An employee's balance of every leave type.
#[utoipa::path(get, path = "/api/v1/leave/balances", tag = "leave", security(("bearer" = [])),
    params(BalanceParams),
    responses((status = 200, body = Vec<LeaveBalance>), (status = 401, body = Problem),
        (status = 404, body = Problem, description = "An employee the caller may not see")))]
pub(super) async fn list_balances(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(params): Query<BalanceParams>,
) -> ApiResult<Json<Vec<LeaveBalance>>> {
    let employee_id = params.employee_id.unwrap_or(caller.employee_id());
    let rows = ledger::balances(&ctx.db, &caller.tenant(), caller.viewer(), employee_id).await?;
    Ok(Json(rows.into_iter().map(LeaveBalance::from).collect()))
}

/// One employee's balances, in a report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EmployeeBalances {
    pub employee_id: Uuid,
    pub name: String,
    pub surname: String,
    /// One per leave type of the company, by type name.
    pub balances: Vec<LeaveBalance>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BalanceReport {
    /// Every active employee the caller may see, by surname.
    pub employees: Vec<EmployeeBalances>,
}

/// Every balance of every active employee the caller may see: an administrator the
/// whole company, a manager themselves and their direct reports, anyone else
/// themselves.
#[utoipa::path(get, path = "/api/v1/leave/balances/report", tag = "leave", security(("bearer" = [])),
    responses((status = 200, body = BalanceReport), (status = 401, body = Problem)))]
pub(super) async fn report(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<BalanceReport>> {
    let rows = ledger::report(&ctx.db, &caller.tenant(), caller.viewer()).await?;
    let employees = rows
        .into_iter()
        .map(|row| EmployeeBalances {
            employee_id: row.person.id,
            name: row.person.name,
            surname: row.person.surname,
            balances: row.balances.into_iter().map(LeaveBalance::from).collect(),
        })
        .collect();
    Ok(Json(BalanceReport { employees }))
}

/// A line of a balance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub leave_type_id: Uuid,
    pub kind: LedgerKind,
    /// Days, signed: what the line adds to the balance.
    pub days: f64,
    #[schema(value_type = String)]
    pub effective_date: Date,
    /// The month (`YYYY-MM`) or year an accrual credits.
    pub period: Option<String>,
    pub request_id: Option<Uuid>,
    pub note: Option<String>,
    /// Who recorded it; null when Roster did (accrual).
    pub recorded_by: Option<Uuid>,
}

impl From<ledger_entry::Model> for LedgerEntry {
    fn from(e: ledger_entry::Model) -> Self {
        Self {
            id: e.id,
            leave_type_id: e.leave_type_id,
            kind: e.kind,
            days: Days::from_thousandths(e.amount).as_f64(),
            effective_date: e.effective_date,
            period: e.period,
            request_id: e.request_id,
            note: e.note,
            recorded_by: e.recorded_by,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// Only this leave type's lines.
    pub leave_type_id: Option<Uuid>,
}

/// Every line of an employee's balances, oldest first: each balance is the sum of
/// its lines.
#[utoipa::path(get, path = "/api/v1/leave/balances/{employee_id}/ledger", tag = "leave",
    security(("bearer" = [])), params(("employee_id" = Uuid, Path), LedgerParams),
    responses((status = 200, body = Vec<LedgerEntry>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn ledger(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(employee_id): Path<Uuid>,
    Query(params): Query<LedgerParams>,
) -> ApiResult<Json<Vec<LedgerEntry>>> {
    let rows = ledger::entries(
        &ctx.db,
        &caller.tenant(),
        caller.viewer(),
        employee_id,
        params.leave_type_id,
    )
    .await?;
    Ok(Json(rows.into_iter().map(LedgerEntry::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjust {
    pub employee_id: Uuid,
    pub leave_type_id: Uuid,
    /// Days granted (`allocation`, positive) or corrected (`adjustment`, either sign).
    pub days: f64,
    /// `allocation` or `adjustment`.
    pub kind: String,
    /// Why, 1 to 500 characters.
    pub note: String,
}

/// Grants days or corrects a balance (admin), as a line of its ledger.
#[utoipa::path(post, path = "/api/v1/leave/adjustments", tag = "leave", security(("bearer" = [])),
    request_body = Adjust,
    responses((status = 201, body = LedgerEntry), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn adjust(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<Adjust>,
) -> ApiResult<(StatusCode, Json<LedgerEntry>)> {
    let kind = match body.kind.as_str() {
        "allocation" => LedgerKind::Allocation,
        "adjustment" => LedgerKind::Adjustment,
        _ => return Err(Invalid::new("kind", "allocation or adjustment").into()),
    };
    let magnitude = Days::parse("days", body.days.abs(), Days::MAX_ALLOWANCE)?;
    if magnitude == Days::ZERO || (kind == LedgerKind::Allocation && body.days < 0.0) {
        return Err(Invalid::new(
            "days",
            "an allocation grants days; an adjustment is not zero",
        )
        .into());
    }
    let amount = if body.days < 0.0 {
        -magnitude
    } else {
        magnitude
    };
    let new = NewEntry {
        employee_id: body.employee_id,
        leave_type_id: body.leave_type_id,
        kind,
        amount,
        note: Name::parse("note", &body.note, 500)?.into_inner(),
    };
    let row = ledger::record(&ctx.db, &caller.tenant(), caller.employee_id(), new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}
