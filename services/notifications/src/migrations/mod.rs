//! The notifications service's migrations: its replica of people's employees (with
//! the inbox that feeds it), then the notifications.

mod m20261201_000001_create_notifications;

use roster_migrate::{Migrations, TenantPolicies, TenantTable};

use crate::REPLICA;

pub fn all() -> Migrations {
    let mut all = REPLICA.migrations();
    all.push(Box::new(m20261201_000001_create_notifications::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261201_000002_notifications_policies",
        tables: &TENANT_TABLES,
    }));
    all
}

/// The service's own tables of company data, under row-level security in the
/// PostgreSQL modes (the replica's are its own migration's).
const TENANT_TABLES: [TenantTable; 1] = [TenantTable::Company {
    table: "notifications",
    column: "company_id",
}];
