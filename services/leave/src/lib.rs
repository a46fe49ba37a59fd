#![doc = include_str!("../README.md")]

pub mod domain;

use roster_migrate::Migrations;
use roster_replica::{Field, Replica, ReplicaHandler};
use roster_service::{Consumes, ServiceDef};

/// The leave service.
pub const SERVICE: ServiceDef = ServiceDef::consumer_only(
    "leave",
    migrations,
    Consumes {
        from: &["people"],
        handler: &HANDLER,
    },
);

/// The employees leave keeps a copy of, and what of them.
pub const REPLICA: Replica = Replica {
    fields: &[Field::Names, Field::Manager, Field::HireDate],
};

/// Applies people's events to the replica. A reaction to an employee's change
/// belongs here, in the transaction of the replica's change and the inbox record, so
/// it happens exactly once.
static HANDLER: ReplicaHandler = ReplicaHandler::new(REPLICA);

fn migrations() -> Migrations {
    REPLICA.migrations()
}
