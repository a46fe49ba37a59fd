use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::Method;
use axum::middleware;
use futures::future::BoxFuture;
use roster_bus::{Bus, Consumer, EmbeddedBus, NatsBus, Relay};
use roster_config::{BusKind, Config, StorageConfig, StorageMode};
use roster_http::layers::{self, Limits};
use roster_http::rate::CompanyRate;
use roster_http::{
    Access, AccessPolicy, Metrics, Rule, ServiceToken, authenticate, authorize, rule,
};
use roster_migrate::Migrator;
use roster_storage::prune::Retained;
use roster_storage::{Backend, ServiceDb};
use roster_tokens::{ISSUING_SERVICE, VerificationState, Verifier};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::health::{self, PlatformState};
use crate::openapi::PlatformDoc;
use crate::{Background, First, Links, ServiceContext, ServiceDef};

/// Runs a set of services in one process, on one listener.
pub struct Host {
    services: Vec<(ServiceDef, ServiceContext)>,
    background: Background,
    links: Links,
    policy: AccessPolicy,
    verifier: Verifier,
    limits: Limits,
    grace: Duration,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("services", &self.services)
            .field("background", &self.background.len())
            .finish_non_exhaustive()
    }
}

/// The routes every host serves beside its services'.
pub const PLATFORM_ACCESS: &[Rule] = &[
    rule("GET", "/health/live", Access::Public),
    rule("GET", "/health/ready", Access::Public),
    rule("GET", "/metrics", Access::Public),
    rule("GET", "/api/v1/openapi.json", Access::Public),
];

/// The internal route of the issuing service that tells every other service how to
/// verify tokens.
pub const VERIFICATION_PATH: &str = "/internal/v1/auth/verification";

impl Host {
    /// Opens each service's storage (creating what is missing), applies its pending
    /// migrations and runs its start. Fails with the service and the place it could not
    /// reach. `token` is the credential the services present to each other.
    pub async fn start(
        config: &Config,
        services: &[ServiceDef],
        verifier: Verifier,
        token: ServiceToken,
    ) -> anyhow::Result<Self> {
        let config = Arc::new(config.clone());
        let links = Links::new(
            &config,
            services.iter().map(|s| s.name).collect(),
            token.clone(),
        )?;
        let policy = AccessPolicy::new(
            PLATFORM_ACCESS
                .iter()
                .chain(services.iter().flat_map(|s| s.access))
                .copied(),
            token,
        )
        .map_err(|e| anyhow::anyhow!("the access table is wrong: {e}"))?
        .with_rate(CompanyRate::new(
            config.quotas.requests_per_minute,
            config.quotas.writes_per_minute,
        ));
        let mut opened = Vec::with_capacity(services.len());
        for def in services {
            let storage = config.storage_for(def.name);
            let db = roster_storage::open(def.name, storage)
                .await
                .with_context(|| format!("{}: cannot open {}", def.name, describe(storage)))?;
            let applied = Migrator::new(&db, (def.migrations)())
                .up(None)
                .await
                .with_context(|| format!("{}: cannot migrate {}", def.name, db.place()))?;
            if !applied.is_empty() {
                tracing::info!(service = def.name, applied = ?applied, "migrated");
            }
            let ctx = ServiceContext::new(db, config.clone(), links.clone(), verifier.clone());
            opened.push((*def, ctx));
        }
        let mut background = events(&config, &opened).await?;
        for (def, ctx) in &opened {
            background.extend(
                (def.start)(ctx.clone())
                    .await
                    .with_context(|| format!("{}: cannot start", def.name))?,
            );
        }
        background.extend(
            opened
                .iter()
                .filter(|(_, ctx)| ctx.db.backend() == Backend::Sqlite)
                .map(|(_, ctx)| {
                    let db = ctx.db.clone();
                    crate::every(
                        STATISTICS_EVERY,
                        First::AtOnce,
                        "refresh the planner's statistics",
                        move || {
                            let db = db.clone();
                            async move { db.refresh_statistics().await }
                        },
                    )
                }),
        );
        background.extend(opened.iter().map(|(def, ctx)| {
            let mut retained: Vec<Retained> = def.retained.to_vec();
            if def.publishes {
                retained.extend(roster_bus::PRODUCER_RETAINED);
            }
            if def.consumes.is_some() {
                retained.extend(roster_bus::CONSUMER_RETAINED);
            }
            let (db, config) = (ctx.db.clone(), config.clone());
            crate::every(
                config.retention.every(),
                First::AtOnce,
                "prune what is past its retention",
                move || {
                    let (db, config, retained) = (db.clone(), config.clone(), retained.clone());
                    async move {
                        for table in &retained {
                            let pruned = roster_storage::prune::prune(&db, table, &config).await?;
                            if pruned > 0 {
                                tracing::info!(
                                    service = db.service(),
                                    table = table.table,
                                    pruned,
                                    "pruned what is past its retention"
                                );
                            }
                        }
                        Ok::<_, roster_storage::DbError>(())
                    }
                },
            )
        }));
        if !links.hosts(ISSUING_SERVICE) {
            background.push(follow_issuer(&config, &links, verifier.clone()));
        }
        Ok(Self {
            services: opened,
            background,
            links,
            policy,
            verifier,
            limits: Limits {
                request_timeout: Duration::from_secs(config.server.request_timeout_secs),
                body_limit: config.server.body_limit_bytes,
            },
            grace: Duration::from_secs(config.server.shutdown_grace_secs),
        })
    }

    /// The services' databases, in the order the services were given.
    pub fn databases(&self) -> impl Iterator<Item = &ServiceDb> {
        self.services.iter().map(|(_, ctx)| &ctx.db)
    }

    /// Every route of every service, with health, metrics and OpenAPI, behind the
    /// platform's layers.
    pub fn router(&self) -> Router {
        let state = PlatformState {
            dbs: Arc::new(self.databases().cloned().collect()),
            metrics: Metrics::get(),
            openapi: Arc::new(OnceLock::new()),
        };
        let api = self.services.iter().fold(
            OpenApiRouter::with_openapi(PlatformDoc::openapi())
                .merge(health::routes(state.clone())),
            |api, (def, ctx)| api.merge((def.routes)(ctx.clone())),
        );
        let (router, doc) = api.split_for_parts();
        let json = doc.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            String::from("{}")
        });
        let _ = state.openapi.set(json);
        let router = router
            .route_layer(middleware::from_fn_with_state(
                self.policy.clone(),
                authorize,
            ))
            .layer(middleware::from_fn_with_state(
                self.verifier.clone(),
                authenticate,
            ));
        layers::apply(router, self.limits)
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests
    /// finish within the grace period, stops the background work and closes the pools.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = self.router();
        self.links.set_local(Some(router.clone()));
        let mut background = JoinSet::new();
        for work in self.background.drain(..) {
            background.spawn(work);
        }
        let result = serve_router(listener, router, shutdown, self.grace).await;
        background.shutdown().await;
        self.links.set_local(None);
        for db in self.databases() {
            db.close().await;
        }
        result
    }
}

/// The bus, then for each hosted service its consumer (subscribed before any relay
/// runs, so an embedded bus has every consumer before the first event) and its relay.
async fn events(
    config: &Arc<Config>,
    services: &[(ServiceDef, ServiceContext)],
) -> anyhow::Result<Background> {
    roster_bus::metrics::describe();
    let bus: Arc<dyn Bus> = match config.bus.kind {
        BusKind::Embedded => Arc::new(EmbeddedBus::new()),
        BusKind::Nats => Arc::new(
            NatsBus::connect(&config.bus)
                .await
                .context("cannot reach the NATS server")?,
        ),
    };
    let mut background: Background = Vec::new();
    for (def, ctx) in services {
        let Some(consumes) = def.consumes else {
            continue;
        };
        let (sink, input) = tokio::sync::mpsc::channel(CONSUMER_QUEUE);
        for producer in consumes.from {
            bus.subscribe(def.name, producer, sink.clone())
                .await
                .with_context(|| {
                    format!("{}: cannot subscribe to {producer}'s events", def.name)
                })?;
        }
        let consumer = Consumer::new(ctx.db.clone(), consumes.handler, config.events.clone());
        background.push(Box::pin(consumer.run(input)));
    }
    for (def, ctx) in services.iter().filter(|(def, _)| def.publishes) {
        bus.declare(def.name)
            .await
            .with_context(|| format!("{}: cannot prepare its event stream", def.name))?;
        let relay = Relay::new(ctx.db.clone(), bus.clone(), config.events.clone());
        background.push(Box::pin(relay.run()));
    }
    Ok(background)
}

/// Deliveries a consumer takes ahead of what it has applied.
const CONSUMER_QUEUE: usize = 4096;

/// How often a SQLite database's planner statistics are taken afresh (and when its
/// service starts).
const STATISTICS_EVERY: Duration = Duration::from_secs(3600);

/// How long the issuing service holds a follower's request when nothing changed:
/// `auth.sync_interval_secs`, and well within the request timeout of both sides.
pub fn follow_hold(config: &Config) -> Duration {
    let most = (config.server.request_timeout_secs / 2).max(1);
    Duration::from_secs(config.auth.sync_interval_secs.clamp(1, most))
}

/// Keeps the verifier up to date with the issuing service's keys and revocations when
/// it runs in another process: at once (retrying quickly until it answers), then by
/// a long poll that the issuer answers as soon as it revokes a session, and after
/// [`follow_hold`] otherwise, so a revocation reaches this process at once and the
/// keys within `auth.sync_interval_secs`.
fn follow_issuer(config: &Config, links: &Links, verifier: Verifier) -> BoxFuture<'static, ()> {
    let interval = Duration::from_secs(config.auth.sync_interval_secs);
    let hold = follow_hold(config);
    let link = match links.to(ISSUING_SERVICE) {
        Ok(link) => link,
        Err(e) => {
            tracing::warn!(error = %e, "tokens can be verified only with keys this process trusts on its own");
            return Box::pin(std::future::pending());
        }
    };
    Box::pin(async move {
        let mut held: Option<u64> = None;
        let mut wait = Duration::from_millis(50);
        loop {
            let path = match held {
                Some(version) => format!("{VERIFICATION_PATH}?after={version}"),
                None => VERIFICATION_PATH.to_owned(),
            };
            let asked = std::time::Instant::now();
            let answer = link
                .call::<VerificationState>(Method::GET, &path, None::<&()>)
                .await
                .map_err(anyhow::Error::from)
                .and_then(|state| {
                    verifier.apply(&state)?;
                    Ok(state.version)
                });
            match answer {
                Ok(version) => {
                    wait = Duration::from_millis(50);
                    // An issuer that did not hold the request (nothing to wait on):
                    // ask again after a period rather than at once.
                    if held == Some(version) && asked.elapsed() < hold / 2 {
                        tokio::time::sleep(interval).await;
                    }
                    held = Some(version);
                }
                Err(e) => {
                    match held {
                        // Until the first success, try often: the issuer may be starting too.
                        None => {
                            tracing::debug!(error = %e, "cannot fetch the token keys yet; retrying")
                        }
                        Some(_) => {
                            tracing::warn!(error = %e, "cannot refresh the token keys and revocations")
                        }
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(interval);
                }
            }
        }
    })
}

/// Serves a router until `shutdown` resolves, then stops accepting and lets in-flight
/// requests finish within `grace`. Peers' addresses reach handlers as `ConnectInfo`.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let metrics = Metrics::get();
    let upkeep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            metrics.upkeep();
        }
    });
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let router = router.layer(axum::Extension(roster_http::Stopping(stopping_rx.clone())));
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = stopping_tx.send(true);
    });
    let deadline = async move {
        let _ = stopping_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        result = server.into_future() => result.context("the server failed"),
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
            Ok(())
        }
    };
    upkeep.abort();
    result
}

fn describe(storage: &StorageConfig) -> String {
    match (storage.mode, &storage.url) {
        (StorageMode::Sqlite, _) | (_, None) => {
            format!("its SQLite file under {}", storage.dir.display())
        }
        (mode, Some(url)) => format!("its storage ({mode}) at {url}"),
    }
}

/// Listens for Ctrl-C and SIGTERM from the call on (a signal that arrives before the
/// future is first polled is not lost); the future resolves on either. Call it before
/// announcing that the process serves.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| {
            let signal = signal(kind);
            async move {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            }
        };
        let (interrupt, terminate) = (
            listen(SignalKind::interrupt(), "Ctrl-C"),
            listen(SignalKind::terminate(), "SIGTERM"),
        );
        async move {
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}
