use roster_storage::{Scope, ServiceDb, Tenant};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::Duration;
use uuid::Uuid;

use super::employees::{self, NewEmployee};
use super::entities::saga;
use super::now;
use roster_http::StoreError;

/// A saga's states, as stored.
pub const STARTED: &str = "started";
pub const ACCOUNT_CREATED: &str = "account_created";
pub const COMPENSATING: &str = "compensating";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

const UNFINISHED: [&str; 3] = [STARTED, ACCOUNT_CREATED, COMPENSATING];

#[derive(Debug)]
pub struct NewSaga {
    pub kind: &'static str,
    pub company_id: Uuid,
    pub employee_id: Uuid,
    pub payload: String,
}

/// Records a saga before its first step, leased to the caller for `lease`.
pub async fn create(
    db: &ServiceDb,
    new: NewSaga,
    lease: Duration,
) -> Result<saga::Model, StoreError> {
    let txn = db.begin_write(Tenant::of_company(new.company_id)).await?;
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
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(saga)
}

/// The company a saga works for.
fn tenant_of(saga: &saga::Model) -> Tenant {
    Tenant::of_company(saga.company_id)
}

/// Moves a saga to `state`, keeping `error` when given.
pub async fn set_state(
    db: &ServiceDb,
    saga: &saga::Model,
    state: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant_of(saga)).await?;
    let mut update = saga::Entity::update_many()
        .col_expr(saga::Column::State, Expr::value(state))
        .col_expr(saga::Column::UpdatedAt, Expr::value(now()));
    if let Some(error) = error {
        update = update.col_expr(saga::Column::Error, Expr::value(error));
    }
    update
        .filter(saga::Column::Id.eq(saga.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The saga's last step: the employee is inserted and the saga marked done in one
/// transaction, so neither can happen without the other.
pub async fn finish(
    db: &ServiceDb,
    saga: &saga::Model,
    employee: NewEmployee,
) -> Result<(), StoreError> {
    let tenant = tenant_of(saga);
    let txn = db.begin_write(tenant).await?;
    employees::insert(&txn, &tenant, saga.employee_id, employee).await?;
    saga::Entity::update_many()
        .col_expr(saga::Column::State, Expr::value(DONE))
        .col_expr(saga::Column::UpdatedAt, Expr::value(now()))
        .filter(saga::Column::Id.eq(saga.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Takes over up to `limit` unfinished sagas whose lease has run out (their process
/// stopped or crashed), leasing each for `lease`. A saga is taken by one process only:
/// the conditional update decides.
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
            .filter(saga::Column::Id.eq(saga.id))
            .filter(saga::Column::LeaseUntil.eq(saga.lease_until))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if taken == 1 {
            claimed.push(saga);
        }
    }
    Ok(claimed)
}
