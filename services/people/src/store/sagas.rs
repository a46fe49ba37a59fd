use roster_storage::{Scope, ServiceDb, Tenant};
use sea_orm::UpdateMany;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use time::Duration;
use uuid::Uuid;

use super::employees::{self, Employee, EmployeeChange, NewEmployee};
use super::entities::employee;
use super::entities::saga;
use super::now;
use crate::domain::Status;
use crate::migrations::m20261206_000001_one_saga_per_employee::INDEX as ONE_PER_EMPLOYEE;
use roster_storage::StoreError;
use roster_storage::quota::Quota;

/// A saga's states, as stored.
pub const STARTED: &str = "started";
pub const ACCOUNT_CREATED: &str = "account_created";
pub const ACCOUNT_CHANGED: &str = "account_changed";
pub const COMPENSATING: &str = "compensating";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

const UNFINISHED: [&str; 4] = [STARTED, ACCOUNT_CREATED, ACCOUNT_CHANGED, COMPENSATING];

#[derive(Debug)]
pub struct NewSaga {
    pub kind: &'static str,
    pub company_id: Uuid,
    pub employee_id: Uuid,
    pub payload: String,
}

/// A company's active employees, with the hires under way, at most `quotas.employees`.
const EMPLOYEES: Quota = Quota {
    what: "employees",
    subject: "quota.employees",
};

/// Records a saga before its first step, leased to the caller for `lease`. Refused
/// (409) while another saga of the same employee is unfinished, and, for a hire
/// (`hires` the company's quota of employees), when the company's active employees
/// and the hires under way reach it.
pub async fn create(
    db: &ServiceDb,
    new: NewSaga,
    lease: Duration,
    hires: Option<u64>,
) -> Result<saga::Model, StoreError> {
    let txn = db.begin_write(Tenant::of_company(new.company_id)).await?;
    if let Some(limit) = hires {
        EMPLOYEES.hold(&txn, new.company_id).await?;
        let active = employee::Entity::find()
            .filter(employee::Column::CompanyId.eq(new.company_id))
            .filter(employee::Column::Status.eq(Status::Active.as_str()))
            .count(&txn)
            .await?;
        let under_way = saga::Entity::find()
            .filter(saga::Column::CompanyId.eq(new.company_id))
            .filter(saga::Column::Kind.eq(new.kind))
            .filter(saga::Column::State.is_in(UNFINISHED))
            .count(&txn)
            .await?;
        EMPLOYEES.within(active + under_way, limit)?;
    }
    let saga = insert(&txn, new, lease).await?;
    txn.commit().await?;
    Ok(saga)
}

/// Records a saga that changes an employee, like [`create`], with the payload `plan`
/// makes of the employee as they are once the saga is theirs alone: any saga of theirs
/// before it has finished, and its change with it, so what the plan would put back is
/// what is, not what a read before the saga saw.
pub async fn create_for_employee(
    db: &ServiceDb,
    new: NewSaga,
    lease: Duration,
    plan: impl FnOnce(&employee::Model) -> Result<String, StoreError>,
) -> Result<saga::Model, StoreError> {
    let tenant = Tenant::of_company(new.company_id);
    let txn = db.begin_write(tenant).await?;
    let saga = insert(&txn, new, lease).await?;
    let employee = employees::find(&txn, &tenant, saga.employee_id)
        .await?
        .ok_or(StoreError::NotFound("employee"))?;
    let payload = plan(&employee)?;
    let mut saga: saga::ActiveModel = saga.into();
    saga.payload = Set(payload);
    let saga = saga.update(&txn).await?;
    txn.commit().await?;
    Ok(saga)
}

/// Inserts a saga at its start, leased for `lease`; refused (409) while another saga
/// of the same employee is unfinished.
async fn insert(
    txn: &DatabaseTransaction,
    new: NewSaga,
    lease: Duration,
) -> Result<saga::Model, StoreError> {
    let at = now();
    let saga = saga::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.to_owned()),
        company_id: Set(new.company_id),
        employee_id: Set(new.employee_id),
        state: Set(STARTED.to_owned()),
        payload: Set(new.payload),
        error: Set(None),
        lease_until: Set(at + lease),
        attempt: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(txn)
    .await
    .map_err(|e| match roster_storage::DbError::from(e) {
        error if error.is_unique_violation_of(ONE_PER_EMPLOYEE, "sagas.employee_id") => {
            StoreError::Conflict(
                "another change of this employee is under way; try again in a moment",
            )
        }
        error => StoreError::Db(error),
    })?;
    Ok(saga)
}

/// The company a saga works for.
fn tenant_of(saga: &saga::Model) -> Tenant {
    Tenant::of_company(saga.company_id)
}

/// An update of the saga that applies only while the runner still holds it: no other
/// runner has claimed it since.
fn while_held(saga: &saga::Model, state: &str) -> UpdateMany<saga::Entity> {
    saga::Entity::update_many()
        .col_expr(saga::Column::State, Expr::value(state))
        .col_expr(saga::Column::UpdatedAt, Expr::value(now()))
        .filter(saga::Column::Id.eq(saga.id))
        .filter(saga::Column::Attempt.eq(saga.attempt))
}

/// Moves a saga to `state`, keeping `error` when given, and renews the runner's lease.
/// Answers false, changing nothing, when another runner has taken the saga over (this
/// one was slower than its lease): this one must stop.
pub async fn set_state(
    db: &ServiceDb,
    saga: &saga::Model,
    state: &str,
    error: Option<&str>,
    lease: Duration,
) -> Result<bool, StoreError> {
    let txn = db.begin_write(tenant_of(saga)).await?;
    let mut update =
        while_held(saga, state).col_expr(saga::Column::LeaseUntil, Expr::value(now() + lease));
    if let Some(error) = error {
        update = update.col_expr(saga::Column::Error, Expr::value(error));
    }
    let held = update.exec(&txn).await?.rows_affected == 1;
    txn.commit().await?;
    Ok(held)
}

/// The last step of a saga that changes an employee and their account: the employee is
/// changed and the saga marked done in one transaction. Answers `None`, changing
/// nothing, when another runner has taken the saga over.
pub async fn finish_change(
    db: &ServiceDb,
    saga: &saga::Model,
    change: EmployeeChange,
) -> Result<Option<Employee>, StoreError> {
    let tenant = tenant_of(saga);
    let txn = db.begin_write(tenant).await?;
    if while_held(saga, DONE).exec(&txn).await?.rows_affected == 0 {
        return Ok(None);
    }
    let changed = employees::update_in(&txn, &tenant, saga.employee_id, change).await?;
    roster_bus::outbox::commit(db, txn).await?;
    Ok(Some(changed))
}

/// The saga's last step: the employee is inserted and the saga marked done in one
/// transaction, so neither can happen without the other. Answers false, changing
/// nothing, when another runner has taken the saga over.
pub async fn finish(
    db: &ServiceDb,
    saga: &saga::Model,
    employee: NewEmployee,
) -> Result<bool, StoreError> {
    let tenant = tenant_of(saga);
    let txn = db.begin_write(tenant).await?;
    // The hire moves from under way to active: a count of the quota between the two
    // (its two statements each see what was committed when it ran) would see it in
    // neither.
    EMPLOYEES.share(&txn, saga.company_id).await?;
    if while_held(saga, DONE).exec(&txn).await?.rows_affected == 0 {
        return Ok(false);
    }
    employees::insert(&txn, &tenant, saga.employee_id, employee).await?;
    roster_bus::outbox::commit(db, txn).await?;
    Ok(true)
}

/// Takes over up to `limit` unfinished sagas whose lease has run out (their process
/// stopped or crashed, or is too slow), leasing each for `lease`. A saga is taken by one
/// runner only, and only as it was read: the conditional update decides (its attempt,
/// its state and its lease unchanged since), and counts the attempt, which the runner
/// it was taken from sees when it next writes. A saga its runner moved or finished
/// between the read and the update is not taken.
pub async fn claim_due(
    db: &ServiceDb,
    lease: Duration,
    limit: u64,
) -> Result<Vec<saga::Model>, StoreError> {
    let at = now();
    let due = saga::Entity::find()
        .filter(saga::Column::State.is_in(UNFINISHED))
        .filter(saga::Column::LeaseUntil.lt(at))
        .order_by_asc(saga::Column::CreatedAt)
        .limit(limit)
        .all(&db.read(Scope::AllCompanies).await?)
        .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for saga in due {
        let txn = db.begin_write(tenant_of(&saga)).await?;
        let taken = saga::Entity::update_many()
            .col_expr(saga::Column::LeaseUntil, Expr::value(at + lease))
            .col_expr(saga::Column::Attempt, Expr::value(saga.attempt + 1))
            .filter(saga::Column::Id.eq(saga.id))
            .filter(saga::Column::Attempt.eq(saga.attempt))
            .filter(saga::Column::State.eq(saga.state.as_str()))
            .filter(saga::Column::LeaseUntil.lt(at))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if taken == 1 {
            claimed.push(saga::Model {
                attempt: saga.attempt + 1,
                lease_until: at + lease,
                ..saga
            });
        }
    }
    Ok(claimed)
}
