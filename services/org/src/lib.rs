#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
pub mod migrations;
pub mod store;

use roster_contracts::org::COMPANY_NAME_MAX;
use roster_service::{Keeps, ServiceDef, nothing_to_start};
use roster_storage::ServiceDb;
use roster_storage::StoreError;
use uuid::Uuid;

/// The org service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "org",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start: nothing_to_start,
    publishes: true,
    consumes: None,
    doctor: roster_service::nothing_to_check,
    retained: &[],
    keeps: Keeps::NOTHING,
};

/// Creates a company with default settings and its default holiday calendar; answers
/// its id. Signup does the same through org's internal route.
pub async fn create_company(db: &ServiceDb, name: &str) -> Result<Uuid, StoreError> {
    let name = domain::Name::parse("company_name", name, COMPANY_NAME_MAX)?;
    let (company, _) = store::companies::ensure(db, Uuid::now_v7(), name).await?;
    Ok(company.id)
}
