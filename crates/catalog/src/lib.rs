//! Every service Roster has, in start order: the one list that the binary, the
//! tooling and the tests read, and what derives from it. Adding a service is one line
//! here.

use roster_replica::{OrgReplica, Replica};
use roster_service::ServiceDef;

/// Every service Roster has, in start order.
pub const SERVICES: &[ServiceDef] = &[
    roster_org::SERVICE,
    roster_auth::SERVICE,
    roster_people::SERVICE,
    roster_presence::SERVICE,
    roster_tasks::SERVICE,
    roster_leave::SERVICE,
    roster_notifications::SERVICE,
];

/// The names of [`SERVICES`].
pub fn service_names() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).collect()
}

/// The services with these names, in start order.
pub fn services_named(names: &[String]) -> Vec<ServiceDef> {
    SERVICES
        .iter()
        .filter(|s| names.iter().any(|n| n == s.name))
        .copied()
        .collect()
}

/// Every service that keeps a replica of people's employees, with it.
pub fn replicas() -> impl Iterator<Item = (&'static str, Replica)> {
    SERVICES
        .iter()
        .filter_map(|s| Some((s.name, s.keeps.employees?)))
}

/// Every service that keeps a copy of parts of org, with what it keeps.
pub fn org_replicas() -> impl Iterator<Item = (&'static str, OrgReplica)> {
    SERVICES.iter().filter_map(|s| Some((s.name, s.keeps.org?)))
}
