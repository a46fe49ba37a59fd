//! A closed loop of clients, each sending its next request once answered, for a fixed
//! time: what `bench api` drives Roster with, and the SQLite baselines the database.
//! And an open loop, requests sent at a fixed rate whatever the answers: what a
//! company going about its day looks like beside a hostile one.

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
                    let outcome = request(client, n).await;
                    measured.record(sent.elapsed(), outcome);
                }
                measured
            });
        }
        Measured::gather(running, started).await
    }
}

/// Requests sent at a fixed rate whatever the answers, each timed from when it was
/// due: a stall shows in full, where a closed loop would send less meanwhile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paced {
    pub per_second: u32,
    pub duration: Duration,
}

impl Paced {
    /// A second of warm-up, then `duration` measured: `request(0, n)` with `n`
    /// counting the requests of each.
    pub(crate) async fn run<F, Fut>(&self, request: F) -> Measured
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let _ = self.drive(request.clone(), Duration::from_secs(1)).await;
        self.drive(request, self.duration).await
    }

    async fn drive<F, Fut>(&self, request: F, duration: Duration) -> Measured
    where
        F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let started = Instant::now();
        let every = Duration::from_secs(1) / self.per_second.max(1);
        let mut running = JoinSet::new();
        for n in 0.. {
            let due = started + every * n;
            if due >= started + duration {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
            let asked = request(0, u64::from(n));
            running.spawn(async move {
                let mut measured = Measured::default();
                let outcome = asked.await;
                measured.record(due.elapsed(), outcome);
                measured
            });
        }
        Measured::gather(running, started).await
    }
}

impl Measured {
    fn record(&mut self, took: Duration, outcome: anyhow::Result<()>) {
        match outcome {
            Ok(()) => self.times.push(took),
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }

    /// Every part's measures, the whole taken from `started`.
    async fn gather(mut running: JoinSet<Self>, started: Instant) -> Self {
        let mut all = Self::default();
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
