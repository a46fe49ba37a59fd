//! Balances and leave kept elsewhere (a former system, or the history `roster seed`
//! makes) brought in, in bulk: opening allocations, and requests approved in the
//! past with the days they took. They publish no events: what they record was
//! decided, and told, where it came from; each request is at
//! [`roster_events::IMPORTED_REVISION`], so its first change here is its first event.

use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::{leave_type, ledger_entry, request};
use crate::domain::{Days, Halves, Invalid, LedgerKind, Status, working_days};

/// Days granted to an employee of a type, from `effective_date`.
#[derive(Debug, Clone)]
pub struct Opening {
    pub employee_id: Uuid,
    pub leave_type_id: Uuid,
    pub days: Days,
    pub effective_date: Date,
}

/// Whole days of leave from `start_date` to `end_date`, approved by `decided_by`.
#[derive(Debug, Clone)]
pub struct PastLeave {
    pub employee_id: Uuid,
    pub leave_type_id: Uuid,
    pub start_date: Date,
    pub end_date: Date,
    pub decided_by: Uuid,
}

/// Writes the openings and the approved leave of the company in one transaction,
/// each leave's days counted over the company's working days and holidays as a
/// request's are; answers the rows written. Leave must not overlap other leave of
/// the employee.
pub async fn leave(
    db: &ServiceDb,
    tenant: &Tenant,
    openings: &[Opening],
    taken: &[PastLeave],
) -> Result<u64, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let types: Vec<Uuid> = leave_type::Entity::find()
        .filter(leave_type::Column::CompanyId.eq(tenant.company_id()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let mut kinds = openings
        .iter()
        .map(|o| o.leave_type_id)
        .chain(taken.iter().map(|t| t.leave_type_id));
    if kinds.any(|kind| !types.contains(&kind)) {
        return Err(
            Invalid::new("leave_type_id", "no leave type of this company has this id").into(),
        );
    }
    let rules = roster_replica::company_rules(&txn, tenant.company_id())
        .await?
        .ok_or(StoreError::Conflict(
            "leave has not yet received this company's settings from org; try again in a moment",
        ))?;
    let (from, to) = taken.iter().fold((Date::MAX, Date::MIN), |(from, to), t| {
        (from.min(t.start_date), to.max(t.end_date))
    });
    let holidays = match taken.is_empty() {
        true => Vec::new(),
        false => roster_replica::holidays(&txn, tenant.company_id(), from, to).await?,
    };
    let now = OffsetDateTime::now_utc();
    let line = |employee_id, leave_type_id, kind: LedgerKind, amount: Days, effective_date| {
        ledger_entry::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(tenant.company_id()),
            employee_id: Set(employee_id),
            leave_type_id: Set(leave_type_id),
            kind: Set(kind),
            amount: Set(amount.thousandths()),
            effective_date: Set(effective_date),
            period: Set(None),
            request_id: Set(None),
            note: Set(Some("imported".to_owned())),
            recorded_by: Set(None),
            created_at: Set(now),
        }
    };
    let mut lines: Vec<ledger_entry::ActiveModel> = openings
        .iter()
        .map(|o| {
            line(
                o.employee_id,
                o.leave_type_id,
                LedgerKind::Allocation,
                o.days,
                o.effective_date,
            )
        })
        .collect();
    let mut requests = Vec::with_capacity(taken.len());
    for leave in taken {
        let days = working_days(
            leave.start_date,
            leave.end_date,
            Halves::default(),
            &rules.working_days,
            &holidays,
        )?;
        let id = Uuid::now_v7();
        requests.push(request::ActiveModel {
            id: Set(id),
            company_id: Set(tenant.company_id()),
            employee_id: Set(leave.employee_id),
            leave_type_id: Set(leave.leave_type_id),
            start_date: Set(leave.start_date),
            end_date: Set(leave.end_date),
            start_afternoon: Set(false),
            end_morning: Set(false),
            days: Set(days.thousandths()),
            status: Set(Status::Approved),
            reason: Set(None),
            decided_by: Set(Some(leave.decided_by)),
            decided_at: Set(Some(now)),
            comment: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            revision: Set(roster_events::IMPORTED_REVISION),
        });
        let mut taken = line(
            leave.employee_id,
            leave.leave_type_id,
            LedgerKind::Taken,
            -days,
            leave.start_date,
        );
        taken.request_id = Set(Some(id));
        taken.recorded_by = Set(Some(leave.decided_by));
        lines.push(taken);
    }
    let mut written = roster_storage::insert_all(&txn, requests).await?;
    written += roster_storage::insert_all(&txn, lines).await?;
    txn.commit().await?;
    Ok(written)
}
