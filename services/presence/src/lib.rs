#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod migrations;
pub mod store;

use roster_replica::{Field, OrgPart, OrgReplica, Replica, ReplicaHandler};
use roster_service::{Consumes, Keeps, ServiceDef, nothing_to_start};

/// The presence service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "presence",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start: nothing_to_start,
    publishes: true,
    consumes: Some(Consumes {
        from: &["people", "org"],
        handler: &HANDLER,
    }),
    doctor: roster_service::nothing_to_check,
    retained: &[],
    keeps: Keeps {
        employees: Some(REPLICA),
        org: Some(ORG),
    },
};

/// The employees presence keeps a copy of, and what of them.
const REPLICA: Replica = Replica {
    fields: &[Field::Names, Field::Manager, Field::Teams],
};

/// What of org presence keeps: each company's time zone (the day a shift counts on)
/// and its locations (the geofences).
const ORG: OrgReplica = OrgReplica {
    parts: &[OrgPart::Companies, OrgPart::Locations],
};

/// Applies people's and org's events to the replicas.
static HANDLER: ReplicaHandler = ReplicaHandler::new(REPLICA).with_org(ORG);
