//! The leave service's migrations: its replica of people's employees (with the inbox
//! that feeds it), its copy of org's companies and holiday calendars, then the leave
//! types, the ledger of balances and the log of accrual runs, then the requests,
//! numbered by a revision, and the outbox of their events.

mod m20261202_000003_create_leave;
mod m20261202_000005_create_requests;

use roster_bus::outbox_migrations;
use roster_migrate::{Migrations, RevisionColumn, TenantPolicies, TenantTable};

use crate::{ORG, REPLICA};

pub fn all() -> Migrations {
    let mut all = REPLICA.migrations();
    all.extend(ORG.migrations(
        "m20261202_000001_org_replica",
        "m20261202_000002_org_replica_policies",
    ));
    all.push(Box::new(m20261202_000003_create_leave::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261202_000004_leave_policies",
        tables: &TENANT_TABLES,
    }));
    all.push(Box::new(m20261202_000005_create_requests::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261202_000006_request_policies",
        tables: &REQUEST_TABLES,
    }));
    all.push(Box::new(RevisionColumn {
        name: "m20261202_000007_request_revisions",
        table: "leave_requests",
    }));
    all.extend(outbox_migrations(
        "m20261202_000008_outbox",
        "m20261202_000009_outbox_policies",
    ));
    all
}

const REQUEST_TABLES: [TenantTable; 1] = [TenantTable::Company {
    table: "leave_requests",
    column: "company_id",
}];

/// The service's own tables of company data, under row-level security in the
/// PostgreSQL modes (the replicas' are their own migrations'). The accrual runs span
/// every company and hold none's data.
const TENANT_TABLES: [TenantTable; 2] = [
    TenantTable::Company {
        table: "leave_types",
        column: "company_id",
    },
    TenantTable::Company {
        table: "leave_ledger",
        column: "company_id",
    },
];
