//! What pending requests hold: the days a balance shows as pending, not yet taken,
//! and what a check of an employee's leave locks. Ledger and requests both read it;
//! it reads neither.

use std::collections::HashMap;

use roster_storage::StoreError;
use roster_storage::Tenant;
use roster_storage::lock::Subject;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Select,
};
use uuid::Uuid;

use super::entities::request;
use super::sum_per_employee_and_type;
use super::year_end::company_year;
use crate::domain::{Days, Status};

/// The company's requests.
pub(super) fn of_company(tenant: &Tenant) -> Select<request::Entity> {
    request::Entity::find().filter(request::Column::CompanyId.eq(tenant.company_id()))
}

/// What every check of an employee's leave is about: their balances and the days
/// their requests hold, and (shared with the others of the company) the company's
/// turns of the year. Each write that checks or changes either holds them first (see
/// `roster_storage::lock`), so two requests at once are checked one after the other,
/// and none is written beside a close of the year.
pub(crate) fn employee_leave(company_id: Uuid, employee_id: Uuid) -> [Subject; 2] {
    [
        company_year(company_id).shared(),
        Subject::new("leave.employee", company_id, employee_id),
    ]
}

/// The days of the employee's pending requests, with their types.
pub(crate) async fn pending_days(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    employee_id: Uuid,
) -> Result<Vec<(Uuid, Days)>, StoreError> {
    Ok(of_company(tenant)
        .filter(request::Column::EmployeeId.eq(employee_id))
        .filter(request::Column::Status.eq(Status::Pending.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.leave_type_id, Days::from_thousandths(r.days)))
        .collect())
}

/// The days of the company's pending requests, per (employee, type), summed by the
/// database.
pub(crate) async fn pending_sums(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
) -> Result<HashMap<(Uuid, Uuid), Days>, StoreError> {
    let pending = of_company(tenant).filter(request::Column::Status.eq(Status::Pending.as_str()));
    let columns = (request::Column::EmployeeId, request::Column::LeaveTypeId);
    Ok(sum_per_employee_and_type(conn, pending, columns, "days").await?)
}

/// The days the employee's pending requests of `leave_type_id` hold.
pub(crate) async fn pending_total(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    employee_id: Uuid,
    leave_type_id: Uuid,
) -> Result<Days, StoreError> {
    let query = of_company(tenant)
        .filter(request::Column::EmployeeId.eq(employee_id))
        .filter(request::Column::LeaveTypeId.eq(leave_type_id))
        .filter(request::Column::Status.eq(Status::Pending.as_str()));
    let columns = (request::Column::EmployeeId, request::Column::LeaveTypeId);
    let sums = sum_per_employee_and_type(txn, query, columns, "days").await?;
    Ok(sums
        .get(&(employee_id, leave_type_id))
        .copied()
        .unwrap_or_default())
}
