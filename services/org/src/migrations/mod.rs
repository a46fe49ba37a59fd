#![doc = include_str!("README.md")]

mod m20261122_000001_create_org;
mod m20261206_000001_removed_companies;

use roster_bus::outbox_migrations;
use roster_migrate::{Migrations, RevisionColumn, TenantPolicies, TenantTable};

pub fn all() -> Migrations {
    let mut all: Migrations = vec![
        Box::new(m20261122_000001_create_org::Migration),
        Box::new(TenantPolicies {
            name: "m20261122_000002_tenant_policies",
            tables: &TENANT_TABLES,
        }),
        Box::new(RevisionColumn {
            name: "m20261123_000001_company_revisions",
            table: "companies",
        }),
        Box::new(RevisionColumn {
            name: "m20261123_000002_team_revisions",
            table: "teams",
        }),
        Box::new(RevisionColumn {
            name: "m20261123_000003_location_revisions",
            table: "locations",
        }),
        Box::new(RevisionColumn {
            name: "m20261123_000004_calendar_revisions",
            table: "holiday_calendars",
        }),
    ];
    all.extend(outbox_migrations(
        "m20261123_000005_outbox",
        "m20261123_000006_outbox_policies",
    ));
    all.push(Box::new(m20261206_000001_removed_companies::Migration));
    all
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
