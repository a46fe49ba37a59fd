#![doc = include_str!("README.md")]

mod m20261122_000001_create_people;
mod m20261122_000003_saga_attempts;

use roster_migrate::{Migrations, TenantPolicies, TenantTable};

pub fn all() -> Migrations {
    vec![
        Box::new(m20261122_000001_create_people::Migration),
        Box::new(TenantPolicies {
            name: "m20261122_000002_tenant_policies",
            tables: &TENANT_TABLES,
        }),
        Box::new(m20261122_000003_saga_attempts::Migration),
    ]
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
