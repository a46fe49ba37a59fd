#![doc = include_str!("../README.md")]

mod health;
mod host;
mod link;
mod openapi;

use std::sync::Arc;

use futures::future::BoxFuture;
pub use host::{Host, VERIFICATION_PATH, serve_router, shutdown_signal};
pub use link::{Link, LinkError, Links};
use roster_config::Config;
use roster_http::Rule;
pub use roster_migrate::Migrations;
pub use roster_storage::ServiceDb;
use roster_tokens::Verifier;
pub use utoipa_axum::router::OpenApiRouter;

/// Work a service runs in the background while it is served (a saga resumer, a key
/// refresher). Each future runs until the host stops it.
pub type Background = Vec<BoxFuture<'static, ()>>;

/// What a service is. Each service crate exports one as a constant.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDef {
    /// Lowercase, used in paths (`/api/v1/<name>/`), database, schema and role names.
    pub name: &'static str,
    /// Its migrations, oldest first.
    pub migrations: fn() -> Migrations,
    /// Its routes, with full paths, bound to its context.
    pub routes: fn(ServiceContext) -> OpenApiRouter,
    /// Who may call each of its routes: every route is listed exactly once.
    pub access: &'static [Rule],
    /// Runs once its database is migrated, before any request; answers the work to run
    /// in the background once the host serves.
    pub start: fn(ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>>,
}

/// For services with nothing to do at start.
pub fn nothing_to_start(_: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async { Ok(Vec::new()) })
}

/// What a service's code gets: its own database, the configuration, links to the
/// other services, and the process's token verifier.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub db: ServiceDb,
    pub config: Arc<Config>,
    pub links: Links,
    pub verifier: Verifier,
}
