//! The trace context of the work under way, so that an event carries the trace of
//! the request that caused it, and the work a consumer does for an event (including
//! events it records in turn) carries the event's.

use std::future::Future;

use crate::TraceContext;

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// Runs `work` with `trace` as the current trace context.
pub async fn scope<F: Future>(trace: TraceContext, work: F) -> F::Output {
    CURRENT.scope(trace, work).await
}

/// The trace context of the work under way, if it has one.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A `traceparent` for `trace_id`, a new span id, and the sampled flag.
pub fn traceparent(trace_id: &str, span_id: u64) -> String {
    format!("00-{trace_id}-{span_id:016x}-01")
}
