#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod migrations;
pub mod store;

use roster_events::{Employee, Envelope, Event};
use roster_replica::{Field, Replica};
use roster_service::{Consumes, ServiceDef, nothing_to_start};
use sea_orm::DatabaseTransaction;

/// The tasks service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "tasks",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start: nothing_to_start,
    publishes: true,
    consumes: Some(Consumes {
        from: &["people"],
        handler: &HANDLER,
    }),
};

/// The employees tasks keeps a copy of, and what of them: enough to check assignees
/// and to find a manager's reports.
pub const REPLICA: Replica = Replica {
    fields: &[Field::Email, Field::Names, Field::Manager],
};

static HANDLER: Handler = Handler;

/// Applies people's events to the replica and reacts in the same transaction (the
/// one that records the events in the inbox, so it happens exactly once): an employee
/// who became inactive leaves their open tasks unassigned.
#[derive(Debug)]
struct Handler;

#[async_trait::async_trait]
impl roster_bus::Handler for Handler {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
        event: &Event,
    ) -> anyhow::Result<()> {
        self.handle_all(txn, &[(envelope, event)]).await
    }

    async fn handle_all(
        &self,
        txn: &DatabaseTransaction,
        events: &[(&Envelope, &Event)],
    ) -> anyhow::Result<()> {
        let employees: Vec<(u64, &Employee)> = events
            .iter()
            .filter_map(|(envelope, event)| Some((envelope.sequence, event.employee()?)))
            .collect();
        let written = REPLICA.apply_all(txn, employees.iter().copied()).await?;
        for (_, employee) in employees {
            if !employee.is_active() && written.contains(&employee.id) {
                let unassigned =
                    store::tasks::unassign_open(txn, employee.company_id, employee.id).await?;
                if unassigned > 0 {
                    tracing::info!(employee_id = %employee.id, unassigned, "unassigned the open tasks of an inactive employee");
                }
            }
        }
        Ok(())
    }
}
