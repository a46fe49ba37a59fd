//! The middleware every service runs behind, in order from the outside in:
//! request id, tracing span, request id echoed on the answer, panics caught as 500
//! problems, and a request timeout answering 503. Per-route metrics run inside routing,
//! where the matched route is known.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::ApiError;
use crate::metrics::{LATENCY, REQUESTS};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Limits that the layers enforce.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    pub body_limit: usize,
}

/// Wraps a complete router (every route already merged) in the platform's layers, and
/// answers unknown routes and methods with problems.
pub fn apply(router: Router, limits: Limits) -> Router {
    router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async { ApiError::not_found("no such route") })
        .route_layer(middleware::from_fn(record_metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(panicked))
                .layer(middleware::from_fn_with_state(
                    limits.request_timeout,
                    timeout,
                ))
                .layer(DefaultBodyLimit::max(limits.body_limit)),
        )
}

fn span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}

fn panicked(_: Box<dyn std::any::Any + Send>) -> Response {
    ApiError::Internal(anyhow::anyhow!("the handler panicked")).into_response()
}

async fn timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(format!(
            "the request did not finish within {} s",
            limit.as_secs()
        ))
        .into_response(),
    }
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let service = service_of(&route);
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "service" => service.clone(), "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(LATENCY, "service" => service, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `/api/v1/<service>/...` belongs to `<service>`; everything else to the platform.
fn service_of(route: &str) -> String {
    route
        .strip_prefix("/api/v1/")
        .and_then(|rest| rest.split('/').next())
        .filter(|s| !s.is_empty() && !s.starts_with("openapi"))
        .unwrap_or("platform")
        .to_owned()
}
