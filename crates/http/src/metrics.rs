//! Prometheus metrics: per-route request counts and latency histograms, and the pool
//! gauges each service's host refreshes before a scrape.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use roster_storage::PoolStats;

pub(crate) const REQUESTS: &str = "http_requests_total";
pub(crate) const LATENCY: &str = "http_request_duration_seconds";
const POOL: &str = "db_pool_connections";

/// Buckets of every histogram in seconds (request latency, event lags): from a cache
/// hit to a request near its timeout.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's metrics recorder. Installed once; every host in the process shares it.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The process's recorder, installed on first use.
    pub fn get() -> Self {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .and_then(|b| b.set_bucket_duration(Duration::from_secs(60)))
                .map(PrometheusBuilder::build_recorder);
            match recorder {
                Ok(recorder) => {
                    let handle = recorder.handle();
                    // Fails only when another recorder is installed; ours then renders
                    // nothing, and the warning says why.
                    if metrics::set_global_recorder(recorder).is_err() {
                        tracing::warn!("a metrics recorder was already installed");
                    }
                    metrics::describe_counter!(
                        REQUESTS,
                        "HTTP requests answered, by route and status"
                    );
                    metrics::describe_histogram!(
                        LATENCY,
                        metrics::Unit::Seconds,
                        "HTTP request latency, by route"
                    );
                    metrics::describe_gauge!(
                        POOL,
                        "Database pool connections, by service and state"
                    );
                    handle
                }
                // The buckets above are constant and valid.
                Err(e) => unreachable!("metrics buckets are invalid: {e}"),
            }
        });
        Self {
            handle: handle.clone(),
        }
    }

    /// Records a service's pool figures, to be read by the next render.
    pub fn record_pool(service: &str, stats: PoolStats) {
        let service = service.to_owned();
        metrics::gauge!(POOL, "service" => service.clone(), "state" => "in_use")
            .set(f64::from(stats.in_use));
        metrics::gauge!(POOL, "service" => service, "state" => "idle").set(f64::from(stats.idle));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains histogram samples into their buckets; run periodically so memory stays
    /// bounded between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}
