//! Roster as a whole: every service, every topology, the binary itself.
#![allow(clippy::unwrap_used)]

mod accounts;
mod availability;
mod bench;
mod cli;
mod crash;
mod events;
mod faults;
mod gateway;
mod isolation;
mod leave;
mod migrations;
mod notifications;
mod platform;
mod presence;
mod process;
mod producers;
mod replicas;
mod roles;
mod row_security;
mod scenario;
mod seed;
mod tasks;
mod tokens;

use roster_testing::TestApp;
use uuid::Uuid;

/// Creates a company the way signup does.
pub async fn new_company(app: &TestApp, name: &str) -> Uuid {
    roster_org::create_company(app.db("org"), name)
        .await
        .expect("cannot create a company")
}
