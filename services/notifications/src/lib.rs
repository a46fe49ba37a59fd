#![doc = include_str!("../README.md")]

mod api;
mod migrations;
pub mod render;
pub mod store;

use minijinja::Value;
use roster_events::{Employee, Envelope, Event, LeaveRequest, Task};
use roster_replica::{Field, Reaction, Replica, ReplicaHandler};
use roster_service::{Consumes, ServiceDef, nothing_to_start};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use render::{LEAVE_AWAITING, LEAVE_DECIDED, TASK_ASSIGNED, TASK_UNASSIGNED, Template, WELCOME};
use store::notifications::NewNotification;

/// The notifications service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "notifications",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start: nothing_to_start,
    publishes: false,
    consumes: Some(Consumes {
        from: &["people", "tasks", "leave"],
        handler: &HANDLER,
    }),
};

/// The employees notifications keeps a copy of, and what of them.
pub const REPLICA: Replica = Replica {
    fields: &[Field::Email, Field::Names, Field::Phone],
};

static HANDLER: ReplicaHandler = ReplicaHandler::reacting(REPLICA, &NOTIFY);
static NOTIFY: Notify = Notify;

/// Turns the events that concern someone into their notifications: a welcome to a
/// new employee, a task to its new assignee (unless they assigned it themselves), and
/// to a task's creator the news that it lost its assignee, who left.
#[derive(Debug)]
struct Notify;

#[async_trait::async_trait]
impl Reaction for Notify {
    async fn react(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
        event: &Event,
        written: bool,
    ) -> anyhow::Result<()> {
        let note = match event {
            Event::EmployeeCreated(employee) if written => Some(welcome(envelope, employee)?),
            Event::TaskCreated(task) | Event::TaskUpdated(task) => about_task(envelope, task)?,
            Event::LeaveRequested(request) | Event::LeaveRequestUpdated(request) => {
                about_leave(txn, envelope, request).await?
            }
            _ => None,
        };
        store::notifications::insert_all(txn, note.into_iter().collect()).await?;
        Ok(())
    }
}

fn note(
    envelope: &Envelope,
    employee_id: Uuid,
    template: &Template,
    context: &Value,
    link: Option<String>,
) -> anyhow::Result<NewNotification> {
    let (title, body) = render::render(template, context)?;
    Ok(NewNotification {
        company_id: envelope.company_id,
        employee_id,
        kind: template.kind,
        title,
        body,
        link,
        event_id: envelope.id,
    })
}

fn welcome(envelope: &Envelope, employee: &Employee) -> anyhow::Result<NewNotification> {
    let context = minijinja::context! { employee => Value::from_serialize(employee) };
    note(envelope, employee.id, &WELCOME, &context, None)
}

/// Who learns of a task's change: its new assignee, or its creator when it lost its
/// assignee to a departure.
fn about_task(envelope: &Envelope, task: &Task) -> anyhow::Result<Option<NewNotification>> {
    let context = minijinja::context! { task => Value::from_serialize(task) };
    let link = Some(format!("/api/v1/tasks/{}", task.id));
    let (to, template) = match (task.assignee_id, task.previous_assignee_id) {
        (Some(to), before) if before != Some(to) && task.changed_by != Some(to) => {
            (to, &TASK_ASSIGNED)
        }
        (None, Some(_)) if task.changed_by.is_none() => (task.creator_id, &TASK_UNASSIGNED),
        _ => return Ok(None),
    };
    note(envelope, to, template, &context, link).map(Some)
}

/// Who learns of a leave request's change: the manager who is to decide a new pending
/// one, and the employee when someone else approved or rejected theirs.
async fn about_leave(
    txn: &DatabaseTransaction,
    envelope: &Envelope,
    request: &LeaveRequest,
) -> anyhow::Result<Option<NewNotification>> {
    let (to, template) = match (request.status.as_str(), request.previous_status.as_deref()) {
        ("pending", None) => match request.manager_id {
            Some(manager) => (manager, &LEAVE_AWAITING),
            None => return Ok(None),
        },
        ("approved" | "rejected", Some("pending"))
            if request.changed_by != Some(request.employee_id) =>
        {
            (request.employee_id, &LEAVE_DECIDED)
        }
        _ => return Ok(None),
    };
    let filter = roster_replica::PeopleFilter {
        employee_id: Some(request.employee_id),
        ..Default::default()
    };
    let employee = roster_replica::people(txn, envelope.company_id, filter)
        .await?
        .into_iter()
        .next();
    // Rust prints 3.0 as 3 and 2.5 as 2.5.
    let days = (request.days as f64 / 1000.0).to_string();
    let context = minijinja::context! {
        request => Value::from_serialize(request),
        employee => minijinja::context! {
            name => employee.as_ref().map(|e| e.name.clone()),
            surname => employee.as_ref().map(|e| e.surname.clone()),
        },
        days => days,
    };
    let link = Some("/api/v1/leave/requests".to_owned());
    note(envelope, to, template, &context, link).map(Some)
}
