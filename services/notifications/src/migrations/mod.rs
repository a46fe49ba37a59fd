//! The notifications service's migrations: its replica of people's employees (with
//! the inbox that feeds it), then the notifications, then their deliveries by email
//! and webhook, the companies' templates and webhooks and each person's preferences.

mod m20261201_000001_create_notifications;
mod m20261203_000001_create_deliveries;
mod m20261206_000001_widen_delivery_targets;

use roster_migrate::{Migrations, TenantPolicies, TenantTable};

use crate::REPLICA;

pub fn all() -> Migrations {
    let mut all = REPLICA.migrations();
    all.push(Box::new(m20261201_000001_create_notifications::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261201_000002_notifications_policies",
        tables: &TENANT_TABLES,
    }));
    all.push(Box::new(m20261203_000001_create_deliveries::Migration));
    all.push(Box::new(TenantPolicies {
        name: "m20261203_000002_delivery_policies",
        tables: &DELIVERY_TABLES,
    }));
    all.push(Box::new(m20261206_000001_widen_delivery_targets::Migration));
    all
}

/// The service's own tables of company data, under row-level security in the
/// PostgreSQL modes (the replica's are its own migration's).
const TENANT_TABLES: [TenantTable; 1] = [TenantTable::Company {
    table: "notifications",
    column: "company_id",
}];

/// The tables of delivery, templates, preferences and webhooks, each company's own.
const DELIVERY_TABLES: [TenantTable; 5] = [
    TenantTable::Company {
        table: "deliveries",
        column: "company_id",
    },
    TenantTable::Company {
        table: "delivery_attempts",
        column: "company_id",
    },
    TenantTable::Company {
        table: "templates",
        column: "company_id",
    },
    TenantTable::Company {
        table: "preferences",
        column: "company_id",
    },
    TenantTable::Company {
        table: "webhooks",
        column: "company_id",
    },
];
