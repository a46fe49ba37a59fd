#![doc = include_str!("README.md")]

mod m20261122_000001_create_auth;
pub(crate) mod m20261206_000001_email_unique_per_company;

use roster_bus::outbox_migrations;
use roster_migrate::{Migrations, RevisionColumn, TenantPolicies, TenantTable};

pub fn all() -> Migrations {
    let mut all: Migrations = vec![
        Box::new(m20261122_000001_create_auth::Migration),
        Box::new(TenantPolicies {
            name: "m20261122_000002_tenant_policies",
            tables: &TENANT_TABLES,
        }),
        Box::new(RevisionColumn {
            name: "m20261123_000001_account_revisions",
            table: "accounts",
        }),
    ];
    all.extend(outbox_migrations(
        "m20261123_000002_outbox",
        "m20261123_000003_outbox_policies",
    ));
    all.push(Box::new(
        m20261206_000001_email_unique_per_company::Migration,
    ));
    all
}

/// Every table of company data, under row-level security in the PostgreSQL modes.
const TENANT_TABLES: [TenantTable; 3] = [
    TenantTable::Company {
        table: "accounts",
        column: "company_id",
    },
    TenantTable::Company {
        table: "sessions",
        column: "company_id",
    },
    TenantTable::Under {
        table: "refresh_tokens",
        key: "session_id",
        parent: "sessions",
    },
];
