#![doc = include_str!("../README.md")]

mod health;
mod host;
mod openapi;

pub use host::{Host, serve_router, shutdown_signal};
pub use roster_migrate::Migrations;
pub use roster_storage::ServiceDb;
pub use utoipa_axum::router::OpenApiRouter;

/// What a service is. Each service crate exports one as a constant.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDef {
    /// Lowercase, used in paths (`/api/v1/<name>/`), database, schema and role names.
    pub name: &'static str,
    /// Its migrations, oldest first.
    pub migrations: fn() -> Migrations,
    /// Its routes, with full paths, bound to its context.
    pub routes: fn(ServiceContext) -> OpenApiRouter,
}

/// What a service's routes get: its own database and nothing else's.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub db: ServiceDb,
}
