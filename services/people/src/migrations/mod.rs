#![doc = include_str!("README.md")]

mod m20261122_000001_create_people;
mod m20261122_000003_saga_attempts;
pub(crate) mod m20261206_000001_one_saga_per_employee;

use roster_bus::outbox_migrations;
use roster_migrate::{Migrations, RevisionColumn, TenantPolicies, TenantTable};

pub fn all() -> Migrations {
    let mut all: Migrations = vec![
        Box::new(m20261122_000001_create_people::Migration),
        Box::new(TenantPolicies {
            name: "m20261122_000002_tenant_policies",
            tables: &TENANT_TABLES,
        }),
        Box::new(m20261122_000003_saga_attempts::Migration),
        Box::new(RevisionColumn {
            name: "m20261123_000001_employee_revisions",
            table: "employees",
        }),
    ];
    all.extend(outbox_migrations(
        "m20261123_000002_outbox",
        "m20261123_000003_outbox_policies",
    ));
    all.push(Box::new(m20261206_000001_one_saga_per_employee::Migration));
    all
}

/// Every table of company data, under row-level security in the PostgreSQL modes.
const TENANT_TABLES: [TenantTable; 3] = [
    TenantTable::Company {
        table: "employees",
        column: "company_id",
    },
    TenantTable::Company {
        table: "employee_teams",
        column: "company_id",
    },
    TenantTable::Company {
        table: "sagas",
        column: "company_id",
    },
];
