//! Roster as a whole: every service, every topology, the binary itself.
#![allow(clippy::unwrap_used)]

mod accounts;
mod attacks;
mod availability;
mod bench;
mod cli;
mod consistency;
mod crash;
mod events;
mod faults;
mod files;
mod gateway;
mod isolation;
mod leave;
mod ledger_model;
mod migrations;
mod notifications;
mod platform;
mod presence;
mod process;
mod producers;
mod replicas;
mod retention;
mod roles;
mod row_security;
mod scenario;
mod seed;
mod tasks;
mod tokens;

use std::time::{Duration, Instant};

use roster_testing::TestApp;
use uuid::Uuid;

/// Polls `check` every 20 ms until it holds, failing with `what` once `limit` passed.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// [`within`] 20 s: time enough for events to travel on a loaded machine.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    within(Duration::from_secs(20), what, check).await;
}

/// Creates a company the way signup does.
pub async fn new_company(app: &TestApp, name: &str) -> Uuid {
    roster_org::create_company(app.db("org"), name)
        .await
        .expect("cannot create a company")
}
