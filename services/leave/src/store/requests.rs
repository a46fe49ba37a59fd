//! Leave requests: counted over the company's working days and holidays, checked
//! against overlaps and the balance, decided by the employee's manager or an
//! administrator, cancelled with their days given back. An approved request's days are
//! a `taken` line of the ledger; its cancellation a line that gives them back.

use roster_bus::outbox;
use roster_events::{self as events, Event, NewEvent};
use roster_http::{Cursor, Viewer};
use roster_storage::StoreError;
use roster_storage::lock;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, Set,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::{leave_type, ledger_entry, request};
use super::ledger::balance_of;
use super::pending::{employee_leave, of_company, pending_total};
use super::year_end::{closed_after, settle};
use crate::domain::{Days, Halves, Invalid, LedgerKind, Status, working_days};

/// A request as the employee makes it.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub leave_type_id: Uuid,
    pub start_date: Date,
    pub end_date: Date,
    pub halves: Halves,
    pub reason: Option<String>,
}

/// What a filter on the list keeps.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestFilter {
    pub status: Option<Status>,
    pub employee_id: Option<Uuid>,
}

/// The requests `viewer` sees: an administrator every one of the company; anyone
/// else their own, and a manager those of their direct reports.
fn seen_by(viewer: Viewer) -> Condition {
    match viewer {
        Viewer::Admin => Condition::all(),
        Viewer::Member { employee_id } => Condition::any()
            .add(request::Column::EmployeeId.eq(employee_id))
            .add(request::Column::EmployeeId.in_subquery(roster_replica::reports_of(employee_id))),
    }
}

/// Requests leave for `employee_id` (the caller): pending, or approved at once when
/// its type needs no approval.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
    new: NewRequest,
) -> Result<request::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    if !roster_replica::is_active(&txn, tenant.company_id(), employee_id).await? {
        return Err(StoreError::NotFound("employee"));
    }
    let kind = leave_type::Entity::find_by_id(new.leave_type_id)
        .filter(leave_type::Column::CompanyId.eq(tenant.company_id()))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            Invalid::new("leave_type_id", "no leave type of this company has this id")
        })?;
    let rules = roster_replica::company_rules(&txn, tenant.company_id())
        .await?
        .ok_or(StoreError::Conflict(
            "leave has not yet received this company's settings from org; try again in a moment",
        ))?;
    let holidays =
        roster_replica::holidays(&txn, tenant.company_id(), new.start_date, new.end_date).await?;
    let days = working_days(
        new.start_date,
        new.end_date,
        new.halves,
        &rules.working_days,
        &holidays,
    )?;
    lock::hold(&txn, &employee_leave(tenant.company_id(), employee_id)).await?;
    if overlapping(
        &txn,
        tenant,
        employee_id,
        None,
        new.start_date,
        new.end_date,
        new.halves,
    )
    .await?
    {
        return Err(Invalid::new(
            "start_date",
            "another request of yours, pending or approved, covers some of these days",
        )
        .into());
    }
    if kind.paid {
        let available = balance_of(&txn, tenant, employee_id, kind.id).await?
            - pending_total(&txn, tenant, employee_id, kind.id).await?;
        if days > available {
            return Err(Invalid::new(
                "end_date",
                format!(
                    "{days} days exceed the {available} available of {}",
                    kind.name
                ),
            )
            .into());
        }
    }
    let now = OffsetDateTime::now_utc();
    let status = match kind.requires_approval {
        true => Status::Pending,
        false => Status::Approved,
    };
    let row = request::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        employee_id: Set(employee_id),
        leave_type_id: Set(kind.id),
        start_date: Set(new.start_date),
        end_date: Set(new.end_date),
        start_afternoon: Set(new.halves.start_afternoon),
        end_morning: Set(new.halves.end_morning),
        days: Set(days.thousandths()),
        status: Set(status),
        reason: Set(new.reason),
        decided_by: Set(None),
        decided_at: Set(None),
        comment: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        revision: Set(1),
    }
    .insert(&txn)
    .await?;
    if status == Status::Approved {
        take(&txn, &row, None).await?;
    }
    record(&txn, &row, &kind.name, None, Some(employee_id)).await?;
    outbox::commit(db, txn).await?;
    Ok(row)
}

/// Records the event of `row` as it now is (requested when it has no previous status,
/// updated after), in the transaction of the change, naming the manager who is to
/// decide it.
async fn record(
    txn: &DatabaseTransaction,
    row: &request::Model,
    type_name: &str,
    previous_status: Option<String>,
    changed_by: Option<Uuid>,
) -> Result<(), StoreError> {
    let manager_id = roster_replica::manager_of(txn, row.company_id, row.employee_id).await?;
    let payload = events::LeaveRequest {
        id: row.id,
        employee_id: row.employee_id,
        leave_type_id: row.leave_type_id,
        leave_type_name: type_name.to_owned(),
        start_date: row.start_date,
        end_date: row.end_date,
        days: row.days,
        status: row.status.as_str().to_owned(),
        previous_status,
        manager_id,
        changed_by,
    };
    let event = match payload.previous_status {
        None => Event::LeaveRequested(payload),
        Some(_) => Event::LeaveRequestUpdated(payload),
    };
    let event = NewEvent::at_revision(row.revision, event, row.id, row.company_id);
    outbox::record(txn, [event]).await?;
    Ok(())
}

/// Whether another request of the employee that holds days (pending or approved,
/// other than `except`) shares a day with `start..=end`, halves considered.
async fn overlapping(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    employee_id: Uuid,
    except: Option<Uuid>,
    start: Date,
    end: Date,
    halves: Halves,
) -> Result<bool, StoreError> {
    let mut theirs = of_company(tenant)
        .filter(request::Column::EmployeeId.eq(employee_id))
        .filter(request::Column::EndDate.gte(start))
        .filter(request::Column::StartDate.lte(end))
        .filter(request::Column::Status.is_in(Status::HOLDING.map(Status::as_str)));
    if let Some(id) = except {
        theirs = theirs.filter(request::Column::Id.ne(id));
    }
    Ok(theirs
        .all(txn)
        .await?
        .iter()
        .any(|held| overlaps(held, start, end, halves)))
}

/// Whether a held request shares a day with `start..=end`, halves considered: an
/// afternoon that starts one and a morning that ends the other on the same day do
/// not meet.
fn overlaps(held: &request::Model, start: Date, end: Date, halves: Halves) -> bool {
    if held.end_date < start || end < held.start_date {
        return false;
    }
    let morning_then_afternoon =
        held.end_date == start && held.end_morning && halves.start_afternoon;
    let afternoon_then_morning =
        end == held.start_date && halves.end_morning && held.start_afternoon;
    !(morning_then_afternoon || afternoon_then_morning)
}

/// The ledger line of an approved request's days (negative), or of their return
/// (positive) when `returned` names who cancelled it. A line that falls into a year
/// already closed settles that year's turns again.
async fn take(
    txn: &DatabaseTransaction,
    row: &request::Model,
    returned: Option<Option<Uuid>>,
) -> Result<(), StoreError> {
    let (amount, note, by) = match returned {
        None => (-row.days, "approved".to_owned(), row.decided_by),
        Some(by) => (
            row.days,
            "cancelled: the days are given back".to_owned(),
            by,
        ),
    };
    ledger_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(row.company_id),
        employee_id: Set(row.employee_id),
        leave_type_id: Set(row.leave_type_id),
        kind: Set(LedgerKind::Taken),
        amount: Set(amount),
        effective_date: Set(row.start_date),
        period: Set(None),
        request_id: Set(Some(row.id)),
        note: Set(Some(note)),
        recorded_by: Set(by),
        created_at: Set(OffsetDateTime::now_utc()),
    }
    .insert(txn)
    .await?;
    if closed_after(txn, row.employee_id, row.leave_type_id, row.start_date).await? {
        let kind = leave_type::Entity::find_by_id(row.leave_type_id)
            .one(txn)
            .await?
            .ok_or(StoreError::NotFound("leave type"))?;
        let now = OffsetDateTime::now_utc();
        let today = roster_replica::company_today(txn, row.company_id, now).await?;
        settle(txn, row.company_id, &kind, &[row.employee_id], today, false).await?;
    }
    Ok(())
}

/// A page of the requests `viewer` may see, in the order they were made.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    filter: RequestFilter,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<request::Model>, StoreError> {
    let mut query = of_company(tenant).filter(seen_by(viewer));
    if let Some(status) = filter.status {
        query = query.filter(request::Column::Status.eq(status.as_str()));
    }
    if let Some(employee_id) = filter.employee_id {
        query = query.filter(request::Column::EmployeeId.eq(employee_id));
    }
    Ok(cursor
        .page_by(query, request::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Cancel,
}

impl Decision {
    fn outcome(self) -> Status {
        match self {
            Self::Approve => Status::Approved,
            Self::Reject => Status::Rejected,
            Self::Cancel => Status::Cancelled,
        }
    }
}

/// Approves, rejects or cancels request `id` as `by` (seeing as `viewer`): approval
/// and rejection by the employee's manager or an administrator, never by the
/// employee; cancellation by any of them, except of approved leave that has begun
/// (on the company's calendar), which is the manager's or an administrator's.
#[tracing::instrument(skip(db))]
pub async fn decide(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    by: Uuid,
    id: Uuid,
    decision: Decision,
    comment: Option<String>,
) -> Result<request::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let seen = of_company(tenant)
        .filter(request::Column::Id.eq(id))
        .filter(seen_by(viewer));
    let employee_id = seen
        .clone()
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("leave request"))?
        .employee_id;
    // The employee's leave first, then the request as it is now: every write to it
    // holds the same subject, so nothing changes it between this read and the commit.
    lock::hold(&txn, &employee_leave(tenant.company_id(), employee_id)).await?;
    let row = seen
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("leave request"))?;
    let own = row.employee_id == by;
    let approver = match viewer {
        Viewer::Admin => true,
        Viewer::Member { employee_id } => {
            roster_replica::manages(&txn, employee_id, row.employee_id).await?
        }
    };
    match decision {
        Decision::Approve | Decision::Reject if own || !approver => {
            return Err(StoreError::Forbidden(
                "only the employee's manager or an administrator decides a request, never its employee",
            ));
        }
        Decision::Cancel if !own && !approver => {
            return Err(StoreError::Forbidden(
                "only the employee, their manager or an administrator cancels a request",
            ));
        }
        _ => {}
    }
    let current = row.status;
    if decision == Decision::Cancel && current == Status::Approved && own {
        // Days taken are not the employee's to give back alone: once approved leave
        // has begun, cancelling it is the approver's act, as approving it was.
        let today =
            roster_replica::company_today(&txn, row.company_id, OffsetDateTime::now_utc()).await?;
        if row.start_date <= today {
            return Err(StoreError::Forbidden(
                "the leave has begun: only the employee's manager or an administrator cancels it, never its employee",
            ));
        }
    }
    let next = decision.outcome();
    if !current.may_become(next) {
        return Err(StoreError::Conflict(match current {
            Status::Approved => "the request is approved: it can only be cancelled",
            _ => "the request is decided already",
        }));
    }
    if next == Status::Approved {
        check_still_fits(&txn, tenant, &row).await?;
    }
    let decided = change_status(&txn, row, next, Some(by), comment).await?;
    outbox::commit(db, txn).await?;
    Ok(decided)
}

/// Approval commits the request's days, so it checks again what its creation checked,
/// against the state now (an adjustment or a year's end may have lowered the balance
/// since): no other request holds any of its days, and a paid type's balance covers
/// them. The caller holds the employee's leave.
async fn check_still_fits(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    row: &request::Model,
) -> Result<(), StoreError> {
    let halves = Halves {
        start_afternoon: row.start_afternoon,
        end_morning: row.end_morning,
    };
    let (start, end) = (row.start_date, row.end_date);
    if overlapping(
        txn,
        tenant,
        row.employee_id,
        Some(row.id),
        start,
        end,
        halves,
    )
    .await?
    {
        return Err(StoreError::Conflict(
            "another request of the employee covers some of these days",
        ));
    }
    let kind = leave_type::Entity::find_by_id(row.leave_type_id)
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound("leave type"))?;
    if kind.paid {
        let balance = balance_of(txn, tenant, row.employee_id, kind.id).await?;
        if Days::from_thousandths(row.days) > balance {
            return Err(StoreError::Conflict(
                "the employee's balance no longer covers these days",
            ));
        }
    }
    Ok(())
}

/// Moves a request to `next`, writing the ledger line it calls for.
async fn change_status(
    txn: &DatabaseTransaction,
    row: request::Model,
    next: Status,
    by: Option<Uuid>,
    comment: Option<String>,
) -> Result<request::Model, StoreError> {
    let was = row.status;
    let now = OffsetDateTime::now_utc();
    let revision = row.revision + 1;
    let mut change = row.into_active_model();
    change.status = Set(next);
    change.updated_at = Set(now);
    change.revision = Set(revision);
    if next != Status::Cancelled {
        change.decided_by = Set(by);
        change.decided_at = Set(Some(now));
    }
    if comment.is_some() {
        change.comment = Set(comment);
    }
    let row = change.update(txn).await?;
    match (was, next) {
        (_, Status::Approved) => take(txn, &row, None).await?,
        (Status::Approved, Status::Cancelled) => take(txn, &row, Some(by)).await?,
        _ => {}
    }
    let type_name = leave_type::Entity::find_by_id(row.leave_type_id)
        .one(txn)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    record(txn, &row, &type_name, Some(was.as_str().to_owned()), by).await?;
    Ok(row)
}

/// Cancels the pending requests of `employee_id`, in the caller's transaction (the one
/// that records their deactivation in the replica), holding their leave as every
/// write to it does; answers how many.
pub async fn cancel_pending(
    txn: &DatabaseTransaction,
    company_id: Uuid,
    employee_id: Uuid,
) -> Result<u64, StoreError> {
    lock::hold(txn, &employee_leave(company_id, employee_id)).await?;
    let pending = request::Entity::find()
        .filter(request::Column::CompanyId.eq(company_id))
        .filter(request::Column::EmployeeId.eq(employee_id))
        .filter(request::Column::Status.eq(Status::Pending.as_str()))
        .all(txn)
        .await?;
    let count = pending.len() as u64;
    for row in pending {
        let comment = Some("cancelled: the employee left".to_owned());
        change_status(txn, row, Status::Cancelled, None, comment).await?;
    }
    Ok(count)
}
