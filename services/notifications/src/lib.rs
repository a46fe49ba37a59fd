#![doc = include_str!("../README.md")]

mod api;
mod migrations;
pub mod render;
pub mod send;
pub mod store;

use std::sync::Arc;

use futures::future::BoxFuture;
use minijinja::Value;
use roster_events::{Envelope, Event, LeaveRequest, Task};
use roster_replica::{Field, Reaction, Replica, ReplicaHandler};
use roster_secrets::DataKey;
use roster_service::doctor::Finding;
use roster_service::{
    Background, Consumes, Keeps, Retained, ServiceContext, ServiceDb, ServiceDef,
};
use roster_storage::prune::before;
use sea_orm::DatabaseTransaction;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use uuid::Uuid;

use render::{LEAVE_AWAITING, LEAVE_DECIDED, TASK_ASSIGNED, TASK_UNASSIGNED, Template, WELCOME};
use send::Sender;
use send::mail::Mailer;
use store::deliveries::{Channel, NewDelivery};
use store::notifications::NewNotification;

/// The notifications service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "notifications",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start,
    publishes: false,
    consumes: Some(Consumes {
        from: &["people", "tasks", "leave"],
        handler: &HANDLER,
    }),
    doctor,
    retained: &[
        Retained {
            table: "deliveries",
            key: "id",
            finished_before: |cutoff| {
                use store::deliveries::Status;
                let settled = [Status::Delivered, Status::Failed, Status::Bounced];
                Condition::all()
                    .add(Expr::col(Alias::new("status")).is_in(settled.map(Status::as_str)))
                    .add(before("updated_at", cutoff))
            },
            keep: |config| config.retention.deliveries(),
            with: &[("delivery_attempts", "delivery_id")],
        },
        Retained {
            table: "notifications",
            key: "id",
            finished_before: |cutoff| before("created_at", cutoff),
            keep: |config| config.retention.notifications(),
            with: &[],
        },
    ],
    keeps: Keeps {
        employees: Some(REPLICA),
        org: None,
    },
};

/// Notifications whose company wording failed to render, given in the default one.
pub const TEMPLATE_FAILURES: &str = "roster_notifications_template_failures_total";

/// What the routes need that start builds: the key that seals webhooks' secrets.
#[derive(Debug)]
pub(crate) struct Keys {
    pub(crate) data_key: DataKey,
}

/// Starts the sender of email and webhook deliveries.
fn start(ctx: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async move {
        metrics::describe_counter!(
            send::DELIVERIES,
            "Email and webhook deliveries settled, by channel and the status they reached."
        );
        metrics::describe_counter!(
            TEMPLATE_FAILURES,
            "Notifications given in the default wording because the company's own failed to render, by kind."
        );
        let config = &ctx.config.notifications;
        let data_key = DataKey::from_config(&ctx.config.security)
            .map_err(|e| anyhow::anyhow!("notifications: {e}"))?;
        let mailer = Mailer::new(config, &ctx.config.storage_for(SERVICE.name).dir)?;
        if let Some(dir) = mailer.dir() {
            tracing::info!(dir = %dir.display(), "email is written as .eml files, not sent");
        }
        let sender = Sender::new(ctx.db.clone(), config.clone(), mailer, data_key.clone())?;
        ctx.provide(Arc::new(Keys { data_key }))?;
        let run: BoxFuture<'static, ()> = Box::pin(sender.run());
        Ok(vec![run])
    })
}

/// What `roster doctor` says of notifications: deliveries that failed or bounced in
/// the last day (a warning: the far end refused), and deliveries overdue by more than
/// five minutes (a failure: nothing is sending them).
fn doctor(db: ServiceDb) -> BoxFuture<'static, anyhow::Result<Vec<Finding>>> {
    Box::pin(async move { checks(&db).await })
}

async fn checks(db: &ServiceDb) -> anyhow::Result<Vec<Finding>> {
    let now = time::OffsetDateTime::now_utc();
    let standing = store::deliveries::standing(
        db,
        now - time::Duration::DAY,
        now - time::Duration::minutes(5),
    )
    .await?;
    let mut findings = Vec::new();
    if standing.overdue > 0 {
        findings.push(Finding::fail(format!(
            "{} email and webhook deliveries are overdue by more than five minutes: is notifications running?",
            standing.overdue
        )));
    }
    if standing.failed + standing.bounced > 0 {
        findings.push(Finding::warn(format!(
            "{} deliveries failed and {} bounced in the last 24 hours (GET /api/v1/notifications/deliveries?status=failed)",
            standing.failed, standing.bounced
        )));
    }
    if findings.is_empty() {
        findings.push(Finding::ok("every email and webhook delivery is on time"));
    }
    Ok(findings)
}

/// The employees notifications keeps a copy of, and what of them.
const REPLICA: Replica = Replica {
    fields: &[Field::Email, Field::Names, Field::Phone],
};

static HANDLER: ReplicaHandler = ReplicaHandler::reacting(REPLICA, &NOTIFY);
static NOTIFY: Notify = Notify;

/// Turns the events that concern someone into their notifications: a welcome to a
/// new employee, a task to its new assignee (unless they assigned it themselves), to
/// a task's creator the news that it lost its assignee, who left, to a manager a
/// report's leave request to decide, and to an employee the decision on theirs.
#[derive(Debug)]
struct Notify;

#[async_trait::async_trait]
impl Reaction for Notify {
    async fn react(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
        event: &Event,
    ) -> anyhow::Result<()> {
        let notice = match event {
            Event::EmployeeCreated(employee) => Some(Notice {
                to: employee.id,
                template: &WELCOME,
                context: render::employee_context(employee),
                link: None,
            }),
            Event::TaskCreated(task) | Event::TaskUpdated(task) => about_task(task),
            Event::LeaveRequested(request) | Event::LeaveRequestUpdated(request) => {
                about_leave(txn, envelope, request).await?
            }
            _ => None,
        };
        match notice {
            Some(notice) => give(txn, envelope, notice).await,
            None => Ok(()),
        }
    }
}

/// A notification to give: to whom, of which kind, with what its template is given.
struct Notice {
    to: Uuid,
    template: &'static Template,
    context: Value,
    link: Option<String>,
}

/// Gives `notice` by every channel its recipient has on for its kind, in the
/// company's wording: in-app at once, email and webhooks queued for the sender.
async fn give(
    txn: &DatabaseTransaction,
    envelope: &Envelope,
    notice: Notice,
) -> anyhow::Result<()> {
    let company_id = envelope.company_id;
    let kind = notice.template.kind;
    let wording = store::templates::wording(txn, company_id, notice.template).await?;
    let (title, body) = match render::render(
        notice.template,
        &wording.title,
        &wording.body,
        &notice.context,
    ) {
        Ok(rendered) => rendered,
        // The company's wording passed its check on a sample, yet fails on these
        // values: the notification is given in the default wording, and the failure
        // is told to whoever runs Roster; it never costs the event.
        Err(e) => {
            tracing::warn!(%company_id, kind, error = %e, "a company's wording failed to render; the default wording is used");
            metrics::counter!(TEMPLATE_FAILURES, "kind" => kind).increment(1);
            let template = notice.template;
            render::render(template, template.title, template.body, &notice.context)?
        }
    };
    let title: String = title.chars().take(render::MAX_TITLE).collect();
    let on = store::preferences::channels(txn, company_id, notice.to, kind).await?;
    let mut deliveries = Vec::new();
    if on.email
        && let Some(address) = roster_replica::email_of(txn, company_id, notice.to).await?
    {
        deliveries.push(NewDelivery {
            company_id,
            employee_id: notice.to,
            event_id: envelope.id,
            kind,
            channel: Channel::Email,
            target: address,
            webhook_id: None,
            subject: title.clone(),
            body: body.clone(),
        });
    }
    for hook in store::webhooks::receiving(txn, company_id, kind).await? {
        let payload = serde_json::json!({
            "kind": kind,
            "event_id": envelope.id,
            "company_id": company_id,
            "employee_id": notice.to,
            "title": title,
            "body": body,
            "link": notice.link,
            "occurred_at": envelope.occurred_at.format(&time::format_description::well_known::Rfc3339)?,
        });
        deliveries.push(NewDelivery {
            company_id,
            employee_id: notice.to,
            event_id: envelope.id,
            kind,
            channel: Channel::Webhook,
            target: hook.url,
            webhook_id: Some(hook.id),
            subject: title.clone(),
            body: payload.to_string(),
        });
    }
    store::deliveries::queue(txn, deliveries).await?;
    if on.in_app {
        store::notifications::insert_all(
            txn,
            vec![NewNotification {
                company_id,
                employee_id: notice.to,
                kind,
                title,
                body,
                link: notice.link,
                event_id: envelope.id,
            }],
        )
        .await?;
    }
    Ok(())
}

/// Who learns of a task's change: its new assignee, or its creator when it lost its
/// assignee to a departure.
fn about_task(task: &Task) -> Option<Notice> {
    let (to, template) = match (task.assignee_id, task.previous_assignee_id) {
        (Some(to), before) if before != Some(to) && task.changed_by != Some(to) => {
            (to, &TASK_ASSIGNED)
        }
        (None, Some(_)) if task.changed_by.is_none() => (task.creator_id, &TASK_UNASSIGNED),
        _ => return None,
    };
    Some(Notice {
        to,
        template,
        context: render::task_context(task),
        link: Some(format!("/api/v1/tasks/{}", task.id)),
    })
}

/// Who learns of a leave request's change: the manager who is to decide a new pending
/// one, and the employee when someone else approved, rejected or cancelled theirs.
async fn about_leave(
    txn: &DatabaseTransaction,
    envelope: &Envelope,
    request: &LeaveRequest,
) -> anyhow::Result<Option<Notice>> {
    let (to, template) = match (request.status.as_str(), request.previous_status.as_deref()) {
        ("pending", None) => match request.manager_id {
            Some(manager) => (manager, &LEAVE_AWAITING),
            None => return Ok(None),
        },
        // Decided or cancelled by someone (not Roster on a leaver's behalf) other
        // than the employee: they are told.
        ("approved" | "rejected", Some("pending")) | ("cancelled", Some(_))
            if request
                .changed_by
                .is_some_and(|by| by != request.employee_id) =>
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
    Ok(Some(Notice {
        to,
        template,
        context: render::leave_context(request, employee.as_ref()),
        link: Some("/api/v1/leave/requests".to_owned()),
    }))
}
