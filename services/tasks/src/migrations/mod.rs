//! The tasks service's migrations: its replica of people's employees (with the inbox
//! that feeds it), then the tasks, numbered by a revision, and the outbox of their
//! events.

mod m20261201_000001_create_tasks;

use roster_bus::outbox_migrations;
use roster_migrate::{Migrations, RevisionColumn, TenantPolicies, TenantTable};

use crate::REPLICA;

pub fn all() -> Migrations {
    let mut all = REPLICA.migrations();
    all.push(Box::new(m20261201_000001_create_tasks::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261201_000002_tasks_policies",
        tables: &TENANT_TABLES,
    }));
    all.push(Box::new(RevisionColumn {
        name: "m20261201_000003_task_revisions",
        table: "tasks",
    }));
    all.extend(outbox_migrations(
        "m20261201_000004_outbox",
        "m20261201_000005_outbox_policies",
    ));
    all
}

/// The service's own tables of company data, under row-level security in the
/// PostgreSQL modes (the replica's are its own migration's).
const TENANT_TABLES: [TenantTable; 1] = [TenantTable::Company {
    table: "tasks",
    column: "company_id",
}];
