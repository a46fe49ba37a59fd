//! The metrics of events, each labelled with the service (and for consumers the
//! producer); `/metrics` shows them.

/// Events waiting in a producer's outbox (gauge).
pub const OUTBOX_BACKLOG: &str = "roster_events_outbox_backlog";
/// Seconds from an event's commit to its publication (histogram).
pub const PUBLISH_LAG: &str = "roster_events_publish_lag_seconds";
/// Events published (counter).
pub const PUBLISHED: &str = "roster_events_published_total";
/// Seconds from an event's commit in its producer to its effect's commit in a
/// consumer (histogram).
pub const CONSUMER_LAG: &str = "roster_events_consumer_lag_seconds";
/// Events a consumer handled, by outcome: applied, duplicate (in its inbox), stale
/// (its aggregate was past it), dead-lettered (counter).
pub const HANDLED: &str = "roster_events_handled_total";
/// Deliveries of an event a consumer had before, by the bus or by its own retries
/// (counter).
pub const REDELIVERIES: &str = "roster_events_redeliveries_total";
/// Events put in dead letters (counter).
pub const DEAD_LETTERED: &str = "roster_events_dead_lettered_total";
/// Events applied although an earlier event of their aggregate never arrived
/// within `events.gap_timeout_secs` (counter).
pub const GAPS: &str = "roster_events_gaps_total";

/// Describes every metric, so `/metrics` explains them.
pub fn describe() {
    metrics::describe_gauge!(OUTBOX_BACKLOG, "Events waiting in the outbox.");
    metrics::describe_histogram!(
        PUBLISH_LAG,
        metrics::Unit::Seconds,
        "From an event's commit to its publication."
    );
    metrics::describe_counter!(PUBLISHED, "Events published.");
    metrics::describe_histogram!(
        CONSUMER_LAG,
        metrics::Unit::Seconds,
        "From an event's commit in its producer to its effect's commit in the consumer."
    );
    metrics::describe_counter!(HANDLED, "Events handled, by outcome.");
    metrics::describe_counter!(
        REDELIVERIES,
        "Deliveries of an event the consumer had before."
    );
    metrics::describe_counter!(DEAD_LETTERED, "Events put in dead letters.");
    metrics::describe_counter!(
        GAPS,
        "Events applied although an earlier event of their aggregate never arrived."
    );
}
