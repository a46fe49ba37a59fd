#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod error;
pub mod migrations;
pub mod store;

pub use error::OrgError;
use roster_service::ServiceDef;

/// The org service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "org",
    migrations: migrations::all,
    routes: api::routes,
};
