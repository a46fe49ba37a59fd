#![doc = include_str!("../README.md")]

pub mod doctor;
pub mod fault;
mod health;
mod host;
mod link;
mod openapi;

use std::any::Any;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
pub use host::{
    Host, PLATFORM_ACCESS, VERIFICATION_PATH, follow_hold, serve_router, shutdown_signal,
};
pub use link::{Link, LinkError, Links};
pub use roster_bus::Handler;
use roster_config::Config;
use roster_http::Rule;
pub use roster_migrate::Migrations;
use roster_replica::{OrgReplica, Replica};
pub use roster_storage::ServiceDb;
pub use roster_storage::prune::Retained;
use roster_tokens::Verifier;
pub use utoipa_axum::router::OpenApiRouter;

/// Work a service runs in the background while it is served (a saga resumer, a key
/// refresher). Each future runs until the host stops it.
pub type Background = Vec<BoxFuture<'static, ()>>;

/// When [`every`] first runs its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum First {
    /// As soon as the host serves.
    AtOnce,
    /// One period after, for work the service's start has just done.
    AfterAPeriod,
}

/// Background work that runs `work` every `period`, first as `first` says; a failure
/// is logged as a warning ("cannot <what>") and the work runs again at the next tick.
pub fn every<F, Fut, T, E>(
    period: std::time::Duration,
    first: First,
    what: &'static str,
    mut work: F,
) -> BoxFuture<'static, ()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send,
    E: std::fmt::Display,
{
    Box::pin(async move {
        let mut tick = tokio::time::interval(period);
        if first == First::AfterAPeriod {
            tick.tick().await;
        }
        loop {
            tick.tick().await;
            if let Err(e) = work().await {
                tracing::warn!(error = %e, "cannot {what}");
            }
        }
    })
}

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
    /// Whether it records events in an outbox (`roster_bus::outbox`): the host runs its
    /// relay.
    pub publishes: bool,
    /// The events it consumes, if any: the host runs its consumer.
    pub consumes: Option<Consumes>,
    /// What `roster doctor` checks of the service's own data, beyond what every
    /// service is checked for (its migrations, outbox and dead letters).
    pub doctor: fn(ServiceDb) -> BoxFuture<'static, anyhow::Result<Vec<doctor::Finding>>>,
    /// The tables whose finished rows it keeps only for a while: the host prunes them
    /// every `retention.every_minutes` (see `roster_storage::prune`).
    pub retained: &'static [Retained],
    /// The copies of other services' records it keeps: what `roster replicas` checks
    /// and rebuilds.
    pub keeps: Keeps,
}

/// The copies of other services' records a service keeps, of whom and what
/// (`roster_replica`).
#[derive(Debug, Clone, Copy)]
pub struct Keeps {
    /// Of people's employees.
    pub employees: Option<Replica>,
    /// Of parts of org.
    pub org: Option<OrgReplica>,
}

impl Keeps {
    /// A service that keeps no copy.
    pub const NOTHING: Self = Self {
        employees: None,
        org: None,
    };
}

/// What a consuming service consumes: every event of the producers named, applied by
/// its handler.
#[derive(Clone, Copy)]
pub struct Consumes {
    pub from: &'static [&'static str],
    pub handler: &'static dyn Handler,
}

impl std::fmt::Debug for Consumes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumes")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Fails when the embedded bus, which carries events only within one process, would
/// leave a hosted service's events without some of their consumers, or a hosted
/// consumer without its producers: they must run in one process, or over NATS.
pub fn check_embedded_bus(all: &[ServiceDef], hosted: &[ServiceDef]) -> anyhow::Result<()> {
    let is_hosted = |name: &str| hosted.iter().any(|s| s.name == name);
    for consumer in all {
        let Some(consumes) = consumer.consumes else {
            continue;
        };
        for producer in consumes.from {
            if is_hosted(producer) != is_hosted(consumer.name) {
                let (here, away) = match is_hosted(producer) {
                    true => (*producer, consumer.name),
                    false => (consumer.name, *producer),
                };
                anyhow::bail!(
                    "bus.kind = embedded carries events only within one process, and {} consumes {}'s events: host {here} and {away} together, or set bus.kind = nats",
                    consumer.name,
                    producer
                );
            }
        }
    }
    Ok(())
}

impl ServiceDef {
    /// A service that, so far, only keeps data fed by other services' events: no
    /// routes, nothing to start, no events of its own.
    pub const fn consumer_only(
        name: &'static str,
        migrations: fn() -> Migrations,
        consumes: Consumes,
    ) -> Self {
        Self {
            name,
            migrations,
            routes: no_routes,
            access: &[],
            start: nothing_to_start,
            publishes: false,
            consumes: Some(consumes),
            doctor: nothing_to_check,
            retained: &[],
            keeps: Keeps::NOTHING,
        }
    }
}

fn no_routes(_: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
}

/// For services with nothing to do at start.
pub fn nothing_to_start(_: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async { Ok(Vec::new()) })
}

/// For services with nothing of their own for `roster doctor` to check.
pub fn nothing_to_check(_: ServiceDb) -> BoxFuture<'static, anyhow::Result<Vec<doctor::Finding>>> {
    Box::pin(async { Ok(Vec::new()) })
}

/// What a service's code gets: its own database, the configuration, links to the
/// other services, the process's token verifier, and the state its start provides.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    pub db: ServiceDb,
    pub config: Arc<Config>,
    pub links: Links,
    pub verifier: Verifier,
    state: Arc<OnceLock<Arc<dyn Any + Send + Sync>>>,
}

impl ServiceContext {
    pub(crate) fn new(
        db: ServiceDb,
        config: Arc<Config>,
        links: Links,
        verifier: Verifier,
    ) -> Self {
        Self {
            db,
            config,
            links,
            verifier,
            state: Arc::default(),
        }
    }

    /// Keeps the service's own state (built by its start) for its routes. Once.
    pub fn provide<T: Any + Send + Sync>(&self, state: Arc<T>) -> anyhow::Result<()> {
        self.state
            .set(state)
            .map_err(|_| anyhow::anyhow!("{}: state provided twice", self.db.service()))
    }

    /// The state the service's start provided; an error names what is missing.
    pub fn state<T: Any + Send + Sync>(&self) -> anyhow::Result<Arc<T>> {
        self.state
            .get()
            .cloned()
            .and_then(|state| state.downcast::<T>().ok())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no {} was provided at start",
                    self.db.service(),
                    std::any::type_name::<T>()
                )
            })
    }
}
