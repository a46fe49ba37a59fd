//! The turns of the year in the ledger: each turn due is closed once per employee and
//! type (an `expiry` line keyed by its period), from the balance's other lines
//! (`domain::turns`). A closed turn is settled again when a line is written late into
//! the year it closed (leave of December approved or cancelled in January): the
//! difference between what the turns expire now and what their lines say is written
//! as a correction (an `expiry` line without a period), so the ledger stays a log.

use std::collections::HashMap;

use roster_storage::DbError;
use roster_storage::lock::Subject;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait, Set,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::{leave_type, ledger_entry};
use crate::domain::{CarryForward, Days, LedgerKind, Line, turns};

/// Rows per statement, and employees per query.
const CHUNK: usize = 500;

/// What closing a company's turns of the year is about: the accrual job holds it alone
/// while it closes them, and every write to an employee's leave shares it, so a close
/// never misses a line written beside it.
pub(crate) fn company_year(company_id: Uuid) -> Subject {
    Subject::new("leave.year_end", company_id, company_id)
}

/// Inserts the lines, each (employee, type, kind, period) once; answers how many were
/// new.
pub(crate) async fn insert_once(
    txn: &DatabaseTransaction,
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

/// One balance's lines as the turns see them: the others, what its keyed expiry
/// lines hold per period, and its corrections (negative, as stored).
#[derive(Default)]
struct Balance {
    lines: Vec<Line>,
    closed: HashMap<String, Days>,
    corrections: Days,
}

/// Settles the turns of type `kind` for each of `employees` as of `today`: when
/// `close_new`, closes the turns due and not closed yet; and where the lines of the
/// turns closed no longer sum to what those turns expire (a line was written late
/// into a year they closed), writes the difference. Answers the lines written.
pub(crate) async fn settle(
    txn: &DatabaseTransaction,
    company_id: Uuid,
    kind: &leave_type::Model,
    employees: &[Uuid],
    today: Date,
    close_new: bool,
) -> Result<u64, DbError> {
    let policy = CarryForward {
        cap: Days::from_thousandths(kind.carry_forward_max),
        expiry_months: kind.carry_forward_expiry_months,
    };
    let mut balances: HashMap<Uuid, Balance> = HashMap::new();
    for chunk in employees.chunks(CHUNK) {
        let rows = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::CompanyId.eq(company_id))
            .filter(ledger_entry::Column::LeaveTypeId.eq(kind.id))
            .filter(ledger_entry::Column::EmployeeId.is_in(chunk.iter().copied()))
            .order_by_asc(ledger_entry::Column::EffectiveDate)
            .all(txn)
            .await?;
        for row in rows {
            let balance = balances.entry(row.employee_id).or_default();
            let amount = Days::from_thousandths(row.amount);
            match (row.kind, row.period) {
                (LedgerKind::Expiry, Some(period)) => {
                    let held = balance.closed.entry(period).or_default();
                    *held = *held + amount;
                }
                (LedgerKind::Expiry, None) => balance.corrections = balance.corrections + amount,
                (line_kind, _) => balance.lines.push(Line {
                    on: row.effective_date,
                    amount,
                    taken: line_kind == LedgerKind::Taken,
                }),
            }
        }
    }
    let now = OffsetDateTime::now_utc();
    let line = |employee_id: Uuid, amount: Days, on: Date, period: Option<String>, note: String| {
        ledger_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(company_id),
            employee_id: Set(employee_id),
            leave_type_id: Set(kind.id),
            kind: Set(LedgerKind::Expiry),
            amount: Set((-amount).thousandths()),
            effective_date: Set(on),
            period: Set(period),
            request_id: Set(None),
            note: Set(Some(note)),
            recorded_by: Set(None),
            created_at: Set(now),
        }
    };
    let mut rows = Vec::new();
    for (employee_id, balance) in balances {
        let mut expected = Days::ZERO;
        let mut latest: Option<Date> = None;
        for turn in turns(&balance.lines, policy, kind.accrual_start, today) {
            if balance.closed.contains_key(&turn.period) {
                expected = expected + turn.amount;
                latest = latest.max(Some(turn.on));
            } else if close_new {
                rows.push(line(
                    employee_id,
                    turn.amount,
                    turn.on,
                    Some(turn.period),
                    turn.note,
                ));
            }
        }
        let held: Days = balance.closed.values().copied().sum();
        // Expiry lines are stored negative: what they expire is their opposite.
        let expired = -(held + balance.corrections);
        let (Some(on), difference) = (latest, expected - expired) else {
            continue;
        };
        if difference != Days::ZERO {
            let note = match difference > Days::ZERO {
                true => format!(
                    "the years closed settled again after a late change: {difference} more days expire"
                ),
                false => format!(
                    "the years closed settled again after a late change: {} days fewer expire",
                    -difference
                ),
            };
            rows.push(line(employee_id, difference, on, None, note));
        }
    }
    insert_once(txn, rows).await
}

/// Whether a line of `employee_id`'s type `kind` effective on `on` falls before a turn
/// already closed, which must then be settled again.
pub(crate) async fn closed_after(
    txn: &DatabaseTransaction,
    employee_id: Uuid,
    kind: Uuid,
    on: Date,
) -> Result<bool, DbError> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::EmployeeId.eq(employee_id))
        .filter(ledger_entry::Column::LeaveTypeId.eq(kind))
        .filter(ledger_entry::Column::Kind.eq(LedgerKind::Expiry))
        .filter(ledger_entry::Column::Period.is_not_null())
        .filter(ledger_entry::Column::EffectiveDate.gt(on))
        .one(txn)
        .await?
        .is_some())
}
