//! Tasks: created, listed and read as the caller may see them, changed along the
//! status workflow. Assignees are checked against the replica of people's employees.

use roster_bus::outbox;
use roster_events::{self as events, Event, NewEvent};
use roster_http::{Cursor, Viewer};
use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Select, Set,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::task;
use crate::domain::{Invalid, Status};

/// The tasks `viewer` sees: an administrator every task of the company; anyone else
/// the tasks they created or are assigned, and a manager those of their direct
/// reports.
fn seen_by(viewer: Viewer) -> Condition {
    match viewer {
        Viewer::Admin => Condition::all(),
        Viewer::Member { employee_id } => Condition::any()
            .add(task::Column::CreatorId.eq(employee_id))
            .add(task::Column::AssigneeId.eq(employee_id))
            .add(task::Column::AssigneeId.in_subquery(roster_replica::reports_of(employee_id))),
    }
}

#[derive(Debug)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub due_date: Option<Date>,
}

/// Changes to a task; `None` keeps a field, `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct TaskChange {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub assignee_id: Option<Option<Uuid>>,
    pub due_date: Option<Option<Date>>,
    pub status: Option<Status>,
}

impl TaskChange {
    /// Whether it changes anything but the status.
    pub fn beyond_status(&self) -> bool {
        self.title.is_some()
            || self.description.is_some()
            || self.assignee_id.is_some()
            || self.due_date.is_some()
    }
}

/// What a filter on the list keeps.
#[derive(Debug, Default, Clone, Copy)]
pub struct TaskFilter {
    pub status: Option<Status>,
    pub assignee_id: Option<Uuid>,
}

fn of_company(tenant: &Tenant) -> Select<task::Entity> {
    task::Entity::find().filter(task::Column::CompanyId.eq(tenant.company_id()))
}

/// Task `id`, if `viewer` may see it.
fn visible(tenant: &Tenant, viewer: Viewer, id: Uuid) -> Select<task::Entity> {
    of_company(tenant)
        .filter(task::Column::Id.eq(id))
        .filter(seen_by(viewer))
}

/// An assignee must be an active employee of the company (otherwise 422) whom the
/// caller may give work to: an administrator anyone, a member themselves and the
/// people who report to them, directly or not (otherwise 403).
async fn check_assignee(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    viewer: Viewer,
    assignee_id: Uuid,
) -> Result<(), StoreError> {
    let company_id = tenant.company_id();
    if !roster_replica::is_active(conn, company_id, assignee_id).await? {
        return Err(Invalid::new(
            "assignee_id",
            "no active employee of this company has this id",
        )
        .into());
    }
    match viewer {
        Viewer::Admin => Ok(()),
        Viewer::Member { employee_id } if employee_id == assignee_id => Ok(()),
        Viewer::Member { employee_id } => {
            match roster_replica::oversees(conn, company_id, employee_id, assignee_id).await? {
                true => Ok(()),
                false => Err(StoreError::Forbidden(
                    "a member assigns tasks to themselves and to the people who report to them (directly or not); an administrator to anyone",
                )),
            }
        }
    }
}

#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    creator_id: Uuid,
    new: NewTask,
) -> Result<task::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    if let Some(assignee_id) = new.assignee_id {
        check_assignee(&txn, tenant, viewer, assignee_id).await?;
    }
    let at = OffsetDateTime::now_utc();
    let task = task::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        title: Set(new.title),
        description: Set(new.description),
        status: Set(Status::Todo),
        assignee_id: Set(new.assignee_id),
        creator_id: Set(creator_id),
        due_date: Set(new.due_date),
        created_at: Set(at),
        updated_at: Set(at),
        revision: Set(1),
    }
    .insert(&txn)
    .await?;
    record(&txn, &task, Event::TaskCreated, None, Some(creator_id)).await?;
    outbox::commit(db, txn).await?;
    Ok(task)
}

/// Records the event of `task` as it now is (`TaskCreated` or `TaskUpdated`, numbered
/// by its revision), in the transaction of the change.
async fn record(
    conn: &impl ConnectionTrait,
    task: &task::Model,
    kind: fn(events::Task) -> Event,
    previous_assignee_id: Option<Uuid>,
    changed_by: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let payload = events::Task {
        id: task.id,
        title: task.title.clone(),
        status: task.status.as_str().to_owned(),
        assignee_id: task.assignee_id,
        creator_id: task.creator_id,
        due_date: task.due_date,
        previous_assignee_id,
        changed_by,
    };
    let event = NewEvent::at_revision(task.revision, kind(payload), task.id, task.company_id);
    outbox::record(conn, [event]).await
}

pub async fn get(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    id: Uuid,
) -> Result<task::Model, StoreError> {
    visible(tenant, viewer, id)
        .one(&db.read(tenant).await?)
        .await?
        .ok_or(StoreError::NotFound("task"))
}

/// A page of the tasks `viewer` may see, in creation order.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    filter: TaskFilter,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<task::Model>, StoreError> {
    let mut query = of_company(tenant).filter(seen_by(viewer));
    if let Some(status) = filter.status {
        query = query.filter(task::Column::Status.eq(status.as_str()));
    }
    if let Some(assignee_id) = filter.assignee_id {
        query = query.filter(task::Column::AssigneeId.eq(assignee_id));
    }
    Ok(cursor
        .page_by(query, task::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// What the caller may change of a task they can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rights {
    /// Every field: an administrator, the task's creator, or its assignee's manager.
    All,
    /// The status only: the assignee.
    Status,
    None,
}

/// The caller's rights on `task`.
async fn rights(
    conn: &impl ConnectionTrait,
    viewer: Viewer,
    task: &task::Model,
) -> Result<Rights, StoreError> {
    let Viewer::Member { employee_id } = viewer else {
        return Ok(Rights::All);
    };
    if task.creator_id == employee_id {
        return Ok(Rights::All);
    }
    if let Some(assignee_id) = task.assignee_id {
        if roster_replica::manages(conn, employee_id, assignee_id).await? {
            return Ok(Rights::All);
        }
        if assignee_id == employee_id {
            return Ok(Rights::Status);
        }
    }
    Ok(Rights::None)
}

/// Changes task `id` as `changed_by` (seeing as `viewer`) asked.
#[tracing::instrument(skip(db))]
pub async fn update(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    changed_by: Uuid,
    id: Uuid,
    change: TaskChange,
) -> Result<task::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    // Locks the row: two changes of one task apply one after the other.
    let task = visible(tenant, viewer, id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("task"))?;
    match rights(&txn, viewer, &task).await? {
        Rights::All => {}
        Rights::Status if !change.beyond_status() => {}
        Rights::Status => {
            return Err(StoreError::Forbidden(
                "the assignee may change the status only",
            ));
        }
        Rights::None => {
            return Err(StoreError::Forbidden(
                "only an administrator, the creator, the assignee or their manager may change a task",
            ));
        }
    }
    let current = task.status;
    if let Some(next) = change.status
        && !current.may_become(next)
    {
        return Err(Invalid::new(
            "status",
            format!(
                "a task {} cannot become {}; the workflow is todo -> in_progress -> done, or cancelled while open",
                current.as_str(),
                next.as_str()
            ),
        )
        .into());
    }
    if !current.is_open() && change.beyond_status() {
        return Err(StoreError::Conflict(
            "a task that is done or cancelled cannot be changed",
        ));
    }
    if let Some(Some(assignee_id)) = change.assignee_id
        && task.assignee_id != Some(assignee_id)
    {
        check_assignee(&txn, tenant, viewer, assignee_id).await?;
    }
    let previous_assignee_id = task.assignee_id;
    let revision = task.revision + 1;
    let mut row = task.into_active_model();
    row.revision = Set(revision);
    if let Some(title) = change.title {
        row.title = Set(title);
    }
    if let Some(description) = change.description {
        row.description = Set(description);
    }
    if let Some(assignee_id) = change.assignee_id {
        row.assignee_id = Set(assignee_id);
    }
    if let Some(due_date) = change.due_date {
        row.due_date = Set(due_date);
    }
    if let Some(status) = change.status {
        row.status = Set(status);
    }
    row.updated_at = Set(OffsetDateTime::now_utc());
    let task = row.update(&txn).await?;
    record(
        &txn,
        &task,
        Event::TaskUpdated,
        previous_assignee_id,
        Some(changed_by),
    )
    .await?;
    outbox::commit(db, txn).await?;
    Ok(task)
}

/// Leaves the open tasks of `employee_id` unassigned, each with its event, in the
/// caller's transaction (the one that records their deactivation in the replica);
/// answers how many. The creator learns of it from the event.
pub async fn unassign_open(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    employee_id: Uuid,
) -> Result<u64, sea_orm::DbErr> {
    let open: Vec<&str> = Status::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(Status::as_str)
        .collect();
    let tasks = task::Entity::find()
        .filter(task::Column::CompanyId.eq(company_id))
        .filter(task::Column::AssigneeId.eq(employee_id))
        .filter(task::Column::Status.is_in(open))
        .lock_exclusive()
        .all(conn)
        .await?;
    let count = tasks.len() as u64;
    for task in tasks {
        let revision = task.revision + 1;
        let mut row = task.into_active_model();
        row.assignee_id = Set(None);
        row.revision = Set(revision);
        row.updated_at = Set(OffsetDateTime::now_utc());
        let task = row.update(conn).await?;
        record(conn, &task, Event::TaskUpdated, Some(employee_id), None).await?;
    }
    Ok(count)
}
