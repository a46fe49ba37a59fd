use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::middleware;
use roster_config::{Config, StorageConfig, StorageMode};
use roster_http::layers::{self, Limits};
use roster_http::{Metrics, authenticate};
use roster_migrate::Migrator;
use roster_storage::ServiceDb;
use roster_tokens::Verifier;
use tokio::net::TcpListener;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::health::{self, PlatformState};
use crate::openapi::PlatformDoc;
use crate::{ServiceContext, ServiceDef};

/// Runs a set of services in one process, on one listener.
#[derive(Debug)]
pub struct Host {
    services: Vec<(ServiceDef, ServiceDb)>,
    verifier: Verifier,
    limits: Limits,
    grace: Duration,
}

impl Host {
    /// Opens each service's storage (creating what is missing) and applies its pending
    /// migrations. Fails with the service and the place it could not reach.
    pub async fn start(
        config: &Config,
        services: &[ServiceDef],
        verifier: Verifier,
    ) -> anyhow::Result<Self> {
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
            opened.push((*def, db));
        }
        Ok(Self {
            services: opened,
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
        self.services.iter().map(|(_, db)| db)
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
            |api, (def, db)| api.merge((def.routes)(ServiceContext { db: db.clone() })),
        );
        let (router, doc) = api.split_for_parts();
        let json = doc.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialise the OpenAPI document");
            String::from("{}")
        });
        let _ = state.openapi.set(json);
        let router = router.layer(middleware::from_fn_with_state(
            self.verifier.clone(),
            authenticate,
        ));
        layers::apply(router, self.limits)
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests
    /// finish within the grace period, and closes the pools.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let result = serve_router(listener, self.router(), shutdown, self.grace).await;
        for db in self.databases() {
            db.close().await;
        }
        result
    }
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

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
