//! A closed loop of clients, each sending its next request once answered, for a fixed
//! time: what `bench api` drives Roster with, and the SQLite baselines the database.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::Summary;

/// Clients that each send their next request once answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    pub clients: usize,
    pub duration: Duration,
}

/// What a load measured.
#[derive(Debug, Default)]
pub(crate) struct Measured {
    times: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    took: Duration,
}

impl Load {
    /// A second of warm-up, then `duration` measured: `request(client, n)` with `n`
    /// counting every request of the run.
    pub(crate) async fn run<F, Fut>(&self, request: F) -> Measured
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send,
    {
        let _ = self.drive(request.clone(), Duration::from_secs(1)).await;
        self.drive(request, self.duration).await
    }

    pub(crate) async fn drive<F, Fut>(&self, request: F, duration: Duration) -> Measured
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send,
    {
        let started = Instant::now();
        let until = started + duration;
        let counter = Arc::new(AtomicU64::new(0));
        let mut running = JoinSet::new();
        for client in 0..self.clients {
            let (request, counter) = (request.clone(), Arc::clone(&counter));
            running.spawn(async move {
                let mut measured = Measured::default();
                while Instant::now() < until {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    match request(client, n).await {
                        Ok(()) => measured.times.push(sent.elapsed()),
                        Err(e) => {
                            measured.errors += 1;
                            measured.first_error.get_or_insert_with(|| format!("{e:#}"));
                        }
                    }
                }
                measured
            });
        }
        let mut all = Measured::default();
        while let Some(part) = running.join_next().await {
            match part {
                Ok(part) => {
                    all.times.extend(part.times);
                    all.errors += part.errors;
                    if all.first_error.is_none() {
                        all.first_error = part.first_error;
                    }
                }
                Err(e) => {
                    all.errors += 1;
                    all.first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        all.took = started.elapsed();
        all
    }
}

impl Measured {
    pub(crate) fn per_second(&self) -> f64 {
        self.times.len() as f64 / self.took.as_secs_f64().max(f64::EPSILON)
    }

    /// The rate, for work that must not fail: the first error otherwise.
    pub(crate) fn per_second_without_errors(&self) -> anyhow::Result<f64> {
        match &self.first_error {
            Some(error) => anyhow::bail!("{} failed, the first: {error}", self.errors),
            None => Ok(self.per_second()),
        }
    }

    /// Prints its row; answers it as JSON.
    pub(crate) fn report(self, name: &str) -> Value {
        let per_second = self.per_second();
        let (errors, first_error) = (self.errors, self.first_error.clone());
        let summary = Summary::of(self.times);
        let (answered, p50, p99) = summary.map_or((0, 0.0, 0.0), |s| (s.count, s.p50, s.p99));
        println!("  {name:<36} {answered:>9} {errors:>7} {p50:>8.2} {p99:>8.2} {per_second:>9.0}");
        if let Some(error) = &first_error {
            println!("    first error: {error}");
        }
        json!({
            "answered": answered, "errors": errors, "first_error": first_error,
            "p50_ms": p50, "p99_ms": p99, "max_ms": summary.map(|s| s.max),
            "per_sec": per_second,
        })
    }
}
