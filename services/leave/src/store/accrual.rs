//! The accrual job: each (employee, type, period) credited exactly once. A run looks
//! at every company with an accruing leave type and credits, for each active
//! employee, every period due since their last credit (so a period a stopped service
//! missed is caught up on the next run); the ledger's unique index refuses a second
//! credit of a period, so runs at once or twice over change nothing. At each New
//! Year it closes the year before: what exceeds the carry-forward cap expires, and
//! where the policy says so, carried days not taken within its months expire too.
//! What is due goes by each company's calendar: a period begins at midnight where the
//! company is (its time zone, from leave's copy of org). Every run is logged with its
//! outcome.

use std::collections::{HashMap, HashSet};

use roster_storage::StoreError;
use roster_storage::lock;
use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::{accrual_run, leave_type, ledger_entry};
use super::year_end::{company_year, insert_once, settle};
use crate::domain::{Days, LedgerKind, credit, periods_due, periods_of_turns};

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Ledger entries written.
    pub credited: u64,
    /// Employees looked at (per accruing type).
    pub employees: u64,
}

/// Runs the job as of the moment `at`, logging the run; answers what it did, or the
/// error, which the log holds too.
#[tracing::instrument(skip(db))]
pub async fn run(db: &ServiceDb, at: OffsetDateTime) -> Result<Report, StoreError> {
    let id = Uuid::now_v7();
    let txn = db.begin_write(Scope::AllCompanies).await?;
    accrual_run::ActiveModel {
        id: Set(id),
        started_at: Set(OffsetDateTime::now_utc()),
        finished_at: Set(None),
        outcome: Set("running".to_owned()),
        credited: Set(0),
        employees: Set(0),
        error: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let result = credit_all(db, at).await;
    let (outcome, report, error) = match &result {
        Ok(report) => ("succeeded", *report, None),
        Err(e) => ("failed", Report::default(), Some(format!("{e:#}"))),
    };
    let txn = db.begin_write(Scope::AllCompanies).await?;
    accrual_run::ActiveModel {
        id: Set(id),
        finished_at: Set(Some(OffsetDateTime::now_utc())),
        outcome: Set(outcome.to_owned()),
        credited: Set(i64::try_from(report.credited).unwrap_or(i64::MAX)),
        employees: Set(i64::try_from(report.employees).unwrap_or(i64::MAX)),
        error: Set(error),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    result
}

/// The latest run of the job, if it ever ran.
pub async fn latest_run(db: &ServiceDb) -> Result<Option<accrual_run::Model>, DbError> {
    Ok(accrual_run::Entity::find()
        .order_by_desc(accrual_run::Column::StartedAt)
        .one(&db.read(Scope::AllCompanies).await?)
        .await?)
}

async fn credit_all(db: &ServiceDb, at: OffsetDateTime) -> Result<Report, StoreError> {
    let read = db.read(Scope::AllCompanies).await?;
    let types = leave_type::Entity::find()
        .order_by_asc(leave_type::Column::CompanyId)
        .all(&read)
        .await?;
    drop(read);
    let mut by_company: Vec<(Uuid, Vec<leave_type::Model>)> = Vec::new();
    for t in types {
        match by_company.last_mut() {
            Some((company, of)) if *company == t.company_id => of.push(t),
            _ => by_company.push((t.company_id, vec![t])),
        }
    }
    let mut report = Report::default();
    for (company_id, types) in by_company {
        let done = credit_company(db, company_id, &types, at).await?;
        report.credited += done.credited;
        report.employees += done.employees;
    }
    Ok(report)
}

/// Whether type `t` has a turn of the year due by `today` that is not closed yet: a
/// type whose line of that period exists is done, and costs no more queries.
fn turn_due(t: &leave_type::Model, done: &HashSet<(Uuid, String)>, today: Date) -> bool {
    periods_of_turns(t.accrual_start, t.carry_forward_expiry_months, today)
        .into_iter()
        .any(|period| !done.contains(&(t.id, period)))
}

/// The (type, period) of every expiry line the company has: the turns closed.
async fn closed_periods(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<HashSet<(Uuid, String)>, DbError> {
    let rows = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::LeaveTypeId)
        .column(ledger_entry::Column::Period)
        .distinct()
        .filter(ledger_entry::Column::CompanyId.eq(company_id))
        .filter(ledger_entry::Column::Kind.eq(LedgerKind::Expiry))
        .into_tuple::<(Uuid, Option<String>)>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, period)| Some((kind, period?)))
        .collect())
}

/// The latest period credited to each (employee, type) of the company.
async fn latest_credits(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<HashMap<(Uuid, Uuid), String>, DbError> {
    let rows = ledger_entry::Entity::find()
        .select_only()
        .column(ledger_entry::Column::EmployeeId)
        .column(ledger_entry::Column::LeaveTypeId)
        .column_as(ledger_entry::Column::Period.max(), "latest")
        .filter(ledger_entry::Column::CompanyId.eq(company_id))
        .filter(ledger_entry::Column::Kind.eq(LedgerKind::Accrual))
        .group_by(ledger_entry::Column::EmployeeId)
        .group_by(ledger_entry::Column::LeaveTypeId)
        .into_tuple::<(Uuid, Uuid, Option<String>)>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(employee, kind, latest)| Some(((employee, kind), latest?)))
        .collect())
}

async fn credit_company(
    db: &ServiceDb,
    company_id: Uuid,
    types: &[leave_type::Model],
    at: OffsetDateTime,
) -> Result<Report, StoreError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let today = roster_replica::company_today(&txn, company_id, at).await?;
    let employees = roster_replica::hire_dates(&txn, company_id).await?;
    let latest = latest_credits(&txn, company_id).await?;
    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for t in types {
        let accrual = t.accrual;
        let allowance = Days::from_thousandths(t.annual_allowance);
        for (employee_id, hired) in &employees {
            let from = hired.map_or(t.accrual_start, |h| h.max(t.accrual_start));
            let after = latest.get(&(*employee_id, t.id));
            for period in periods_due(accrual, from, today) {
                let key = period.key();
                if after.is_some_and(|a| key <= *a) {
                    continue;
                }
                rows.push(ledger_entry::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    company_id: Set(company_id),
                    employee_id: Set(*employee_id),
                    leave_type_id: Set(t.id),
                    kind: Set(LedgerKind::Accrual),
                    amount: Set(credit(allowance, accrual, period, from).thousandths()),
                    effective_date: Set(period.start().max(from)),
                    period: Set(Some(key)),
                    request_id: Set(None),
                    note: Set(None),
                    recorded_by: Set(None),
                    created_at: Set(now),
                });
            }
        }
    }
    let mut credited = insert_once(&txn, rows).await?;
    // The turns of the years since each type began, after this run's credits (a
    // December caught up belongs to the year it closes), each year after the one
    // before; the company's requests wait meanwhile, so none is written beside a close.
    let done = closed_periods(&txn, company_id).await?;
    let due: Vec<&leave_type::Model> = types.iter().filter(|t| turn_due(t, &done, today)).collect();
    if !due.is_empty() {
        lock::hold(&txn, &[company_year(company_id)]).await?;
        let ids: Vec<Uuid> = employees.iter().map(|(id, _)| *id).collect();
        for t in due {
            credited += settle(&txn, company_id, t, &ids, today, true).await?;
        }
    }
    txn.commit().await?;
    let looked_at = employees.len() * types.len();
    Ok(Report {
        credited,
        employees: looked_at as u64,
    })
}
