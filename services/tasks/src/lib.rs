#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod migrations;
pub mod store;

use roster_events::{Envelope, Event};
use roster_replica::{Field, Reaction, Replica, ReplicaHandler};
use roster_service::{Consumes, Keeps, ServiceDef, nothing_to_start};
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
    doctor: roster_service::nothing_to_check,
    retained: &[],
    keeps: Keeps {
        employees: Some(REPLICA),
        org: None,
    },
};

/// The employees tasks keeps a copy of, and what of them: enough to check assignees
/// and to find a manager's reports.
const REPLICA: Replica = Replica {
    fields: &[Field::Email, Field::Names, Field::Manager],
};

static HANDLER: ReplicaHandler = ReplicaHandler::reacting(REPLICA, &UNASSIGN);
static UNASSIGN: Unassign = Unassign;

/// An employee who became inactive leaves their open tasks unassigned, unless the
/// replica knows them active again (the event is a dead letter retried after their
/// return).
#[derive(Debug)]
struct Unassign;

#[async_trait::async_trait]
impl Reaction for Unassign {
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
        let unassigned = store::tasks::unassign_open(txn, employee.company_id, employee.id).await?;
        if unassigned > 0 {
            tracing::info!(employee_id = %employee.id, unassigned, "unassigned the open tasks of an inactive employee");
        }
        Ok(())
    }
}
