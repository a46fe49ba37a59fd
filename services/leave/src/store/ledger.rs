//! The ledger: every line of every balance, and the balances it sums to.

use std::collections::{BTreeMap, HashMap};

use roster_http::Viewer;
use roster_storage::StoreError;
use roster_storage::{DbError, ServiceDb, Tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::{leave_type, ledger_entry};
use crate::domain::{Days, Invalid, LedgerKind};

/// Refuses, as unknown, an employee whose balances `viewer` may not see: an
/// administrator sees every employee of the company; anyone else themselves, and a
/// manager their direct reports.
async fn check_sees(
    viewer: Viewer,
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    employee_id: Uuid,
) -> Result<(), StoreError> {
    let sees = match viewer {
        Viewer::Admin => {
            roster_replica::is_employee(conn, tenant.company_id(), employee_id).await?
        }
        Viewer::Member { employee_id: me } => {
            me == employee_id || roster_replica::manages(conn, me, employee_id).await?
        }
    };
    match sees {
        true => Ok(()),
        false => Err(StoreError::NotFound("employee")),
    }
}

/// One leave type's balance of one employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub leave_type_id: Uuid,
    pub name: String,
    /// Every entry but what was taken: allocations, accruals, carry-forward, expiry
    /// and adjustments.
    pub entitled: Days,
    pub taken: Days,
    /// Requested and not decided yet.
    pub pending: Days,
    /// What may still be requested: entitled, less taken and pending.
    pub available: Days,
}

/// The ledger of `employee_id` for one type or all, oldest first.
pub async fn entries(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    employee_id: Uuid,
    leave_type_id: Option<Uuid>,
) -> Result<Vec<ledger_entry::Model>, StoreError> {
    let txn = db.read(tenant).await?;
    check_sees(viewer, &txn, tenant, employee_id).await?;
    let mut query = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::CompanyId.eq(tenant.company_id()))
        .filter(ledger_entry::Column::EmployeeId.eq(employee_id));
    if let Some(id) = leave_type_id {
        query = query.filter(ledger_entry::Column::LeaveTypeId.eq(id));
    }
    Ok(query
        .order_by_asc(ledger_entry::Column::EffectiveDate)
        .order_by_asc(ledger_entry::Column::Id)
        .all(&txn)
        .await?)
}

/// The sum of the company's ledger lines that `filter` keeps, per (employee, type).
pub(crate) async fn sums(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    filter: Condition,
) -> Result<HashMap<(Uuid, Uuid), Days>, DbError> {
    let lines = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::CompanyId.eq(company_id))
        .filter(filter);
    let columns = (
        ledger_entry::Column::EmployeeId,
        ledger_entry::Column::LeaveTypeId,
    );
    Ok(super::sum_per_employee_and_type(conn, lines, columns, "amount").await?)
}

/// The balance of one employee and type: the sum of its lines, summed by the database.
pub(crate) async fn balance_of(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    employee_id: Uuid,
    leave_type_id: Uuid,
) -> Result<Days, StoreError> {
    let only = Condition::all()
        .add(ledger_entry::Column::EmployeeId.eq(employee_id))
        .add(ledger_entry::Column::LeaveTypeId.eq(leave_type_id));
    let sums = sums(conn, tenant.company_id(), only).await?;
    Ok(sums
        .get(&(employee_id, leave_type_id))
        .copied()
        .unwrap_or_default())
}

/// Every balance of `employee_id`, one per leave type of the company, by type name.
pub async fn balances(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    employee_id: Uuid,
) -> Result<Vec<Balance>, StoreError> {
    let txn = db.read(tenant).await?;
    check_sees(viewer, &txn, tenant, employee_id).await?;
    let types = leave_type::Entity::find()
        .filter(leave_type::Column::CompanyId.eq(tenant.company_id()))
        .order_by_asc(leave_type::Column::Name)
        .all(&txn)
        .await?;
    let lines = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::CompanyId.eq(tenant.company_id()))
        .filter(ledger_entry::Column::EmployeeId.eq(employee_id))
        .all(&txn)
        .await?;
    let mut sums: BTreeMap<Uuid, (Days, Days)> = BTreeMap::new();
    for line in lines {
        let (entitled, taken) = sums.entry(line.leave_type_id).or_default();
        let amount = Days::from_thousandths(line.amount);
        match line.kind {
            LedgerKind::Taken => *taken = *taken - amount,
            _ => *entitled = *entitled + amount,
        }
    }
    let mut pending: BTreeMap<Uuid, Days> = BTreeMap::new();
    for (kind, days) in super::pending::pending_days(&txn, tenant, employee_id).await? {
        let held = pending.entry(kind).or_default();
        *held = *held + days;
    }
    Ok(types
        .into_iter()
        .map(|t| {
            let (entitled, taken) = sums.remove(&t.id).unwrap_or_default();
            let pending = pending.remove(&t.id).unwrap_or_default();
            Balance {
                leave_type_id: t.id,
                name: t.name,
                entitled,
                taken,
                pending,
                available: entitled - taken - pending,
            }
        })
        .collect())
}

/// An administrator's allocation (days granted) or adjustment (a correction, either
/// way) of a balance, effective on the day it is recorded where the company is.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub employee_id: Uuid,
    pub leave_type_id: Uuid,
    /// An allocation or an adjustment.
    pub kind: LedgerKind,
    pub amount: Days,
    pub note: String,
}

/// Records an allocation or adjustment by `by`.
#[tracing::instrument(skip(db))]
pub async fn record(
    db: &ServiceDb,
    tenant: &Tenant,
    by: Uuid,
    new: NewEntry,
) -> Result<ledger_entry::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let subjects = super::pending::employee_leave(tenant.company_id(), new.employee_id);
    roster_storage::lock::hold(&txn, &subjects).await?;
    if !roster_replica::is_active(&txn, tenant.company_id(), new.employee_id).await? {
        return Err(Invalid::new(
            "employee_id",
            "no active employee of this company has this id",
        )
        .into());
    }
    let known = leave_type::Entity::find_by_id(new.leave_type_id)
        .filter(leave_type::Column::CompanyId.eq(tenant.company_id()))
        .one(&txn)
        .await?
        .is_some();
    if !known {
        return Err(
            Invalid::new("leave_type_id", "no leave type of this company has this id").into(),
        );
    }
    let now = OffsetDateTime::now_utc();
    let today = roster_replica::company_today(&txn, tenant.company_id(), now).await?;
    let row = ledger_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        employee_id: Set(new.employee_id),
        leave_type_id: Set(new.leave_type_id),
        kind: Set(new.kind),
        amount: Set(new.amount.thousandths()),
        effective_date: Set(today),
        period: Set(None),
        request_id: Set(None),
        note: Set(Some(new.note)),
        recorded_by: Set(Some(by)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// One employee's balances, in a company's report.
#[derive(Debug, Clone)]
pub struct EmployeeBalances {
    pub person: roster_replica::Person,
    /// One per leave type of the company, by type name.
    pub balances: Vec<Balance>,
}

/// Every balance of every active employee `viewer` may see (an administrator the
/// whole company, a manager themselves and their direct reports, anyone else
/// themselves), by surname: three grouped sums over the company, whatever its size.
pub async fn report(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
) -> Result<Vec<EmployeeBalances>, StoreError> {
    let txn = db.read(tenant).await?;
    let company_id = tenant.company_id();
    let filter = roster_replica::PeopleFilter {
        seen_by_manager: match viewer {
            Viewer::Admin => None,
            Viewer::Member { employee_id } => Some(employee_id),
        },
        ..Default::default()
    };
    let people = roster_replica::people(&txn, company_id, filter).await?;
    let types = leave_type::Entity::find()
        .filter(leave_type::Column::CompanyId.eq(company_id))
        .order_by_asc(leave_type::Column::Name)
        .all(&txn)
        .await?;
    let kind = ledger_entry::Column::Kind;
    let entitled = sums(
        &txn,
        company_id,
        Condition::all().add(kind.ne(LedgerKind::Taken)),
    )
    .await?;
    let taken = sums(
        &txn,
        company_id,
        Condition::all().add(kind.eq(LedgerKind::Taken)),
    )
    .await?;
    let pending = super::pending::pending_sums(&txn, tenant).await?;
    Ok(people
        .into_iter()
        .map(|person| {
            let balances = types
                .iter()
                .map(|t| {
                    let key = (person.id, t.id);
                    let entitled = entitled.get(&key).copied().unwrap_or_default();
                    // Taken lines are negative: what was taken is their opposite.
                    let taken = -taken.get(&key).copied().unwrap_or_default();
                    let pending = pending.get(&key).copied().unwrap_or_default();
                    Balance {
                        leave_type_id: t.id,
                        name: t.name.clone(),
                        entitled,
                        taken,
                        pending,
                        available: entitled - taken - pending,
                    }
                })
                .collect();
            EmployeeBalances { person, balances }
        })
        .collect())
}
