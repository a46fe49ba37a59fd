#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod migrations;
pub mod store;

use std::time::Duration;

use futures::future::BoxFuture;
use roster_events::{Envelope, Event};
use roster_replica::{Field, OrgPart, OrgReplica, Reaction, Replica, ReplicaHandler};
use roster_service::doctor::Finding;
use roster_service::{
    Background, Consumes, Keeps, Retained, ServiceContext, ServiceDb, ServiceDef,
};
use roster_storage::prune::before;
use sea_orm::DatabaseTransaction;
use time::OffsetDateTime;

/// The leave service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "leave",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start,
    publishes: true,
    consumes: Some(Consumes {
        from: &["people", "org"],
        handler: &HANDLER,
    }),
    doctor,
    retained: &[Retained {
        table: "accrual_runs",
        key: "id",
        finished_before: |cutoff| before("finished_at", cutoff),
        keep: |config| config.retention.accrual_runs(),
        with: &[],
    }],
    keeps: Keeps {
        employees: Some(REPLICA),
        org: Some(ORG),
    },
};

/// The employees leave keeps a copy of, and what of them.
const REPLICA: Replica = Replica {
    fields: &[Field::Names, Field::Manager, Field::HireDate],
};

/// What of org leave keeps: each company's working days and its holiday calendars,
/// over which requests are counted.
const ORG: OrgReplica = OrgReplica {
    parts: &[OrgPart::Companies, OrgPart::Calendars],
};

/// Applies people's and org's events to the replicas.
static HANDLER: ReplicaHandler = ReplicaHandler::reacting(REPLICA, &CANCEL).with_org(ORG);
static CANCEL: CancelPending = CancelPending;

/// An employee who became inactive has their pending requests cancelled, unless the
/// replica knows them active again (the event is a dead letter retried after their
/// return).
#[derive(Debug)]
struct CancelPending;

#[async_trait::async_trait]
impl Reaction for CancelPending {
    async fn react(
        &self,
        txn: &DatabaseTransaction,
        _: &Envelope,
        event: &Event,
    ) -> anyhow::Result<()> {
        let Some(employee) = event.employee().filter(|e| !e.is_active()) else {
            return Ok(());
        };
        if roster_replica::is_active(txn, employee.company_id, employee.id).await? {
            return Ok(());
        }
        let cancelled =
            store::requests::cancel_pending(txn, employee.company_id, employee.id).await?;
        if cancelled > 0 {
            tracing::info!(employee_id = %employee.id, cancelled, "cancelled the pending leave of an inactive employee");
        }
        Ok(())
    }
}

/// How often the accrual job runs; each run credits what is due and nothing twice.
const ACCRUAL_INTERVAL: Duration = Duration::from_secs(3600);

/// Metrics of the accrual job.
pub const ACCRUAL_RUNS: &str = "roster_leave_accrual_runs_total";
pub const ACCRUAL_LAST_SUCCESS: &str = "roster_leave_accrual_last_success_seconds";

/// Starts the accrual job: at once, then every hour.
fn start(ctx: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async move {
        metrics::describe_counter!(ACCRUAL_RUNS, "Runs of the leave accrual job, by outcome.");
        metrics::describe_gauge!(
            ACCRUAL_LAST_SUCCESS,
            "When the leave accrual job last succeeded (Unix time)."
        );
        let job: BoxFuture<'static, ()> = Box::pin(async move {
            let mut tick = tokio::time::interval(ACCRUAL_INTERVAL);
            loop {
                tick.tick().await;
                accrue(&ctx).await;
            }
        });
        Ok(vec![job])
    })
}

/// What `roster doctor` says of leave: how the accrual job's latest run went. A
/// failed run, or one that never finished, fails; none for two intervals warns.
fn doctor(db: ServiceDb) -> BoxFuture<'static, anyhow::Result<Vec<Finding>>> {
    Box::pin(async move { checks(&db).await })
}

async fn checks(db: &ServiceDb) -> anyhow::Result<Vec<Finding>> {
    let Some(run) = store::accrual::latest_run(db).await? else {
        return Ok(vec![Finding::warn(
            "the accrual job has never run (it runs when leave starts, then hourly)",
        )]);
    };
    let at = run
        .started_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| run.started_at.to_string());
    let age = OffsetDateTime::now_utc() - run.started_at;
    let stale = age > ACCRUAL_INTERVAL * 2;
    let finding = match run.outcome.as_str() {
        "failed" => Finding::fail(format!(
            "the accrual run of {at} failed: {}; the next run catches up what it missed",
            run.error.as_deref().unwrap_or("no error recorded")
        )),
        "running" if stale => Finding::fail(format!(
            "the accrual run of {at} never finished (the process stopped mid-run?); the next run catches up"
        )),
        "running" => Finding::ok(format!("an accrual run is under way since {at}")),
        _ if stale => Finding::warn(format!(
            "the accrual job last ran at {at}, over two hours ago: is leave running?"
        )),
        _ => Finding::ok(format!(
            "the accrual run of {at} succeeded: {} ledger lines over {} employees",
            run.credited, run.employees
        )),
    };
    Ok(vec![finding])
}

async fn accrue(ctx: &ServiceContext) {
    let now = OffsetDateTime::now_utc();
    match store::accrual::run(&ctx.db, now).await {
        Ok(report) => {
            metrics::counter!(ACCRUAL_RUNS, "outcome" => "succeeded").increment(1);
            metrics::gauge!(ACCRUAL_LAST_SUCCESS).set(now.unix_timestamp() as f64);
            tracing::info!(
                credited = report.credited,
                employees = report.employees,
                "leave accrual ran"
            );
        }
        Err(e) => {
            metrics::counter!(ACCRUAL_RUNS, "outcome" => "failed").increment(1);
            tracing::error!(error = %e, "leave accrual failed; the next run catches up");
        }
    }
}
