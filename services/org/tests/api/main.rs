//! The org service over HTTP, on every topology.
#![allow(clippy::unwrap_used)]

mod company;
mod holidays;
mod isolation;
mod locations;
mod teams;

use roster_testing::{ADMIN, TestApp, Topology};
use uuid::Uuid;

/// An org app with one company and its administrator's token.
#[derive(Debug)]
pub struct Org {
    pub app: TestApp,
    pub company: Uuid,
    pub admin: String,
}

impl Org {
    pub async fn spawn(topology: Topology) -> Option<Self> {
        let app = TestApp::spawn(topology, &[roster_org::SERVICE]).await?;
        let company = new_company(&app, "Acme").await;
        let admin = app.token(company, ADMIN);
        Some(Self {
            app,
            company,
            admin,
        })
    }
}

/// Creates a company the way signup does.
pub async fn new_company(app: &TestApp, name: &str) -> Uuid {
    roster_org::create_company(app.db("org"), name)
        .await
        .expect("cannot create a company")
}
