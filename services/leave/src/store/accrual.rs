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

use roster_http::StoreError;
use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use super::entities::{accrual_run, leave_type, ledger_entry};
use super::ledger::{ACCRUAL, EXPIRY, TAKEN, sums};
use crate::domain::{Accrual, Days, carried_left, credit, expires_at_year_end, periods_due};

/// Rows per insert statement.
const CHUNK: usize = 500;

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

/// Inserts the lines, each (employee, type, kind, period) once; answers how many were
/// new.
async fn insert_once(
    txn: &sea_orm::DatabaseTransaction,
    rows: Vec<ledger_entry::ActiveModel>,
) -> Result<u64, DbError> {
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut insert = ledger_entry::Entity::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .into_query();
        insert.returning_col(ledger_entry::Column::Id);
        written += txn.query_all(&insert).await?.len() as u64;
    }
    Ok(written)
}

/// The first day of the month `months` after January of `year`.
fn months_into(year: i32, months: i32) -> Option<Date> {
    let (year, month) = (year + months.div_euclid(12), months.rem_euclid(12) + 1);
    Date::from_calendar_date(year, Month::try_from(u8::try_from(month).ok()?).ok()?, 1).ok()
}

/// The expiry lines due at the turns of the years since each type began: at each
/// New Year what of the closing balance exceeds the carry-forward cap, and, where the
/// policy sets a time, what of the carried days was not taken by then. Each is keyed
/// by its period, so a turn is closed once.
async fn year_ends(
    txn: &sea_orm::DatabaseTransaction,
    company_id: Uuid,
    types: &[leave_type::Model],
    employees: &[(Uuid, Option<Date>)],
    today: Date,
) -> Result<Vec<ledger_entry::ActiveModel>, DbError> {
    let first = types.iter().map(|t| t.accrual_start.year() + 1).min();
    let Some(first) = first.filter(|y| *y <= today.year()) else {
        return Ok(Vec::new());
    };
    let now = OffsetDateTime::now_utc();
    let line = |employee_id: Uuid,
                t: &leave_type::Model,
                amount: Days,
                on: Date,
                period: String,
                note: String| {
        ledger_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(company_id),
            employee_id: Set(employee_id),
            leave_type_id: Set(t.id),
            kind: Set(EXPIRY.to_owned()),
            amount: Set((-amount).thousandths()),
            effective_date: Set(on),
            period: Set(Some(period)),
            request_id: Set(None),
            note: Set(Some(note)),
            recorded_by: Set(None),
            created_at: Set(now),
        }
    };
    // A turn is closed for a type in one transaction for all its employees: a type
    // whose line of that period exists is done, and costs no more queries.
    let done = closed_periods(txn, company_id).await?;
    let mut lines = Vec::new();
    for year in first..=today.year() {
        let (Some(new_year), Some(last_day)) = (
            months_into(year, 0),
            Date::from_calendar_date(year - 1, Month::December, 31).ok(),
        ) else {
            continue;
        };
        let (closing_key, carried_key) = ((year - 1).to_string(), format!("{}-carried", year - 1));
        let due: Vec<(&leave_type::Model, bool, Option<Date>)> = types
            .iter()
            .filter(|t| t.accrual_start < new_year)
            .filter_map(|t| {
                let close = !done.contains(&(t.id, closing_key.clone()));
                let until = t
                    .carry_forward_expiry_months
                    .and_then(|months| months_into(year, months))
                    .filter(|until| *until <= today)
                    .filter(|_| !done.contains(&(t.id, carried_key.clone())));
                (close || until.is_some()).then_some((t, close, until))
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        let closing = sums(
            txn,
            company_id,
            Condition::all().add(ledger_entry::Column::EffectiveDate.lte(last_day)),
        )
        .await?;
        for (t, close, until) in due {
            let cap = Days::from_thousandths(t.carry_forward_max);
            let taken_since = match until {
                Some(until) => {
                    let taken = Condition::all()
                        .add(ledger_entry::Column::LeaveTypeId.eq(t.id))
                        .add(ledger_entry::Column::Kind.eq(TAKEN))
                        .add(ledger_entry::Column::EffectiveDate.gte(new_year))
                        .add(ledger_entry::Column::EffectiveDate.lt(until));
                    sums(txn, company_id, taken).await?
                }
                None => HashMap::new(),
            };
            for (employee_id, _) in employees {
                let Some(closed) = closing.get(&(*employee_id, t.id)).copied() else {
                    continue;
                };
                let expired = expires_at_year_end(closed, cap);
                let carried = closed - expired;
                if close {
                    lines.push(line(
                        *employee_id,
                        t,
                        expired,
                        new_year,
                        closing_key.clone(),
                        format!(
                            "{} closed at {closed} days: {carried} carried forward, {expired} expired",
                            year - 1
                        ),
                    ));
                }
                if let Some(until) = until {
                    let taken = -taken_since
                        .get(&(*employee_id, t.id))
                        .copied()
                        .unwrap_or_default();
                    let left = carried_left(carried, taken);
                    lines.push(line(
                        *employee_id,
                        t,
                        left,
                        until,
                        carried_key.clone(),
                        format!("{left} of the {carried} days carried from {} were not taken by {until}", year - 1),
                    ));
                }
            }
        }
    }
    Ok(lines)
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
        .filter(ledger_entry::Column::Kind.eq(EXPIRY))
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
        .filter(ledger_entry::Column::Kind.eq(ACCRUAL))
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
        let Some(accrual) = Accrual::parse(&t.accrual) else {
            continue;
        };
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
                    kind: Set(ACCRUAL.to_owned()),
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
    // December caught up belongs to the year it closes).
    let closes = year_ends(&txn, company_id, types, &employees, today).await?;
    credited += insert_once(&txn, closes).await?;
    txn.commit().await?;
    let looked_at = employees.len() * types.len();
    Ok(Report {
        credited,
        employees: looked_at as u64,
    })
}
