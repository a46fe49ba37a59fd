//! The presence service's migrations: its replica of people's employees (with the
//! inbox that feeds it), its copy of org's companies and locations, then the tag
//! registry and the check-ins with the history of their changes, numbered by a
//! revision, and the outbox of their events.

mod m20261202_000003_create_presence;

use roster_bus::outbox_migrations;
use roster_migrate::{Migrations, RevisionColumn, TenantPolicies, TenantTable};

use crate::{ORG, REPLICA};

pub fn all() -> Migrations {
    let mut all = REPLICA.migrations();
    all.extend(ORG.migrations(
        "m20261202_000001_org_replica",
        "m20261202_000002_org_replica_policies",
    ));
    all.push(Box::new(m20261202_000003_create_presence::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261202_000004_presence_policies",
        tables: &TENANT_TABLES,
    }));
    all.push(Box::new(RevisionColumn {
        name: "m20261202_000005_checkin_revisions",
        table: "checkins",
    }));
    all.extend(outbox_migrations(
        "m20261202_000006_outbox",
        "m20261202_000007_outbox_policies",
    ));
    all
}

/// The service's own tables of company data, under row-level security in the
/// PostgreSQL modes (the replicas' are their own migrations').
const TENANT_TABLES: [TenantTable; 3] = [
    TenantTable::Company {
        table: "nfc_tags",
        column: "company_id",
    },
    TenantTable::Company {
        table: "checkins",
        column: "company_id",
    },
    TenantTable::Company {
        table: "checkin_changes",
        column: "company_id",
    },
];
