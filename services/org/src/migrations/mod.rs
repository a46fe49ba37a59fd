#![doc = include_str!("README.md")]

mod m20261122_000001_create_org;

use roster_migrate::{Migrations, TenantPolicies, TenantTable};

pub fn all() -> Migrations {
    vec![
        Box::new(m20261122_000001_create_org::Migration),
        Box::new(TenantPolicies {
            name: "m20261122_000002_tenant_policies",
            tables: &TENANT_TABLES,
        }),
    ]
}

/// Every table of company data, under row-level security in the PostgreSQL modes.
const TENANT_TABLES: [TenantTable; 6] = [
    TenantTable::Company {
        table: "companies",
        column: "id",
    },
    TenantTable::Company {
        table: "company_settings",
        column: "company_id",
    },
    TenantTable::Company {
        table: "teams",
        column: "company_id",
    },
    TenantTable::Company {
        table: "holiday_calendars",
        column: "company_id",
    },
    TenantTable::Company {
        table: "holidays",
        column: "company_id",
    },
    TenantTable::Company {
        table: "locations",
        column: "company_id",
    },
];
