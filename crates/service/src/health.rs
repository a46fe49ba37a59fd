//! The routes every host serves beside its services': health, metrics, OpenAPI.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use roster_http::Metrics;
use roster_storage::ServiceDb;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Clone)]
pub(crate) struct PlatformState {
    pub dbs: Arc<Vec<ServiceDb>>,
    pub metrics: Metrics,
    /// The OpenAPI document, set once the routes are assembled.
    pub openapi: Arc<OnceLock<String>>,
}

pub(crate) fn routes(state: PlatformState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
        .with_state(state)
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Liveness {
    status: &'static str,
}

/// The process answers.
#[utoipa::path(get, path = "/health/live", tag = "platform",
    responses((status = 200, body = Liveness)))]
async fn live() -> axum::Json<Liveness> {
    axum::Json(Liveness { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready` when every check is up, `unavailable` otherwise.
    status: &'static str,
    /// One check per service database.
    checks: BTreeMap<&'static str, Check>,
}

/// A service's database as anyone may see it: whether it answers, never where it
/// lives nor what it said (the log has both).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Check {
    /// `up` or `down`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

/// Every database answers a query within its acquire timeout.
#[utoipa::path(get, path = "/health/ready", tag = "platform",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn ready(State(state): State<PlatformState>) -> impl IntoResponse {
    let checks = futures::future::join_all(state.dbs.iter().map(|db| async move {
        let result = db.ping().await;
        if let Err(e) = &result {
            tracing::warn!(service = db.service(), place = db.place(), error = %e, "a database does not answer");
        }
        let check = Check {
            status: if result.is_ok() { "up" } else { "down" },
            error: result
                .is_err()
                .then_some("its database does not answer (the log says where and why)"),
        };
        (db.service(), check)
    }))
    .await;
    let all_up = checks.iter().all(|(_, c)| c.error.is_none());
    let status = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if all_up { "ready" } else { "unavailable" },
        checks: checks.into_iter().collect(),
    };
    (status, axum::Json(body))
}

/// Prometheus metrics: requests and latency per route, pool connections per service.
#[utoipa::path(get, path = "/metrics", tag = "platform",
    responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<PlatformState>) -> impl IntoResponse {
    for db in state.dbs.iter() {
        Metrics::record_pool(db.service(), db.pool_stats());
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "platform",
    responses((status = 200, content_type = "application/json", body = Object)))]
async fn openapi(State(state): State<PlatformState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.get().cloned().unwrap_or_default(),
    )
}
