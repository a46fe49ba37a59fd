#![doc = include_str!("../README.md")]

mod bulk;
mod db;
mod error;
mod location;
pub mod lock;
mod private;
mod provision;
pub mod prune;
pub mod quota;
mod store_error;
mod tenant;

pub use bulk::insert_all;
pub use db::{AppliedWatch, Backend, PoolStats, ServiceDb, TableSize};
pub use error::DbError;
pub use location::{Location, PgLocation, ident};
pub use private::{narrow_file, private_dir, private_file};
pub use provision::{checkpoint, provision, remove, remove_all};
pub use store_error::StoreError;
pub use tenant::{ALL_COMPANIES_SETTING, COMPANY_SETTING, Scope, Tenant, policy_condition};

/// Opens a service's storage: provisions what is missing, then connects as the service.
pub async fn open(
    service: &'static str,
    config: &roster_config::StorageConfig,
) -> Result<ServiceDb, DbError> {
    let location = Location::resolve(service, config);
    provision(&location).await?;
    ServiceDb::connect(service, &location, config).await
}
