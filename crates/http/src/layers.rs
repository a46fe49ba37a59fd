//! The middleware every service runs behind, in order from the outside in:
//! request id, tracing span, request id echoed on the answer, panics caught as 500
//! problems, and a request timeout answering 503. Per-route metrics run inside routing,
//! where the matched route is known.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use roster_events::TraceContext;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::ApiError;
use crate::metrics::{LATENCY, REQUESTS};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The W3C trace context header: kept when a client sends a valid one, made otherwise.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

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
                .layer(middleware::from_fn(trace_context))
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
    let trace_id = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('-').nth(1))
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        trace_id = %trace_id,
    )
}

/// Gives the request a trace context (the client's `traceparent` when valid, a new
/// one otherwise) and runs it as the current one, so that the events the request
/// causes carry it to their consumers.
async fn trace_context(mut request: Request, next: Next) -> Response {
    let traceparent = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_traceparent(v))
        .map_or_else(new_traceparent, str::to_owned);
    if let Ok(value) = HeaderValue::from_str(&traceparent) {
        request.headers_mut().insert(TRACEPARENT, value);
    }
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let trace = TraceContext {
        traceparent,
        request_id,
    };
    roster_events::trace::scope(trace, next.run(request)).await
}

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, ids not all zeros.
fn valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [version, trace, span, flags]
        if hex(version, 2) && *version != "ff" && hex(trace, 32) && nonzero(trace)
            && hex(span, 16) && nonzero(span) && hex(flags, 2))
}

fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4();
    let span = uuid::Uuid::new_v4().as_u64_pair().0;
    roster_events::trace::traceparent(&trace.simple().to_string(), span)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_are_checked_and_made_well() {
        assert!(valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert!(!valid_traceparent(bad), "{bad}");
        }
        let made = new_traceparent();
        assert!(valid_traceparent(&made), "{made}");
    }
}
