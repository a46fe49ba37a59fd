//! The relay of a producing service: it publishes the outbox in order, marks what the
//! bus took, and prunes what the retention no longer keeps. Woken right after a
//! commit that recorded events; polls as a fallback (events written by another
//! process, a wake-up lost to a crash, a replay).

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_config::EventsConfig;
use roster_storage::ServiceDb;
use time::OffsetDateTime;

use crate::Bus;
use crate::metrics::{OUTBOX_BACKLOG, PUBLISH_LAG, PUBLISHED};
use crate::outbox;

/// How often published events past the retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// How often the backlog gauge is refreshed (a count, kept off the path of each event).
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Relay {
    db: ServiceDb,
    bus: Arc<dyn Bus>,
    config: EventsConfig,
}

impl Relay {
    pub fn new(db: ServiceDb, bus: Arc<dyn Bus>, config: EventsConfig) -> Self {
        Self { db, bus, config }
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        let service = self.db.service();
        let mut failures = 0u32;
        let mut pruned = Instant::now()
            .checked_sub(PRUNE_EVERY)
            .unwrap_or_else(Instant::now);
        let mut reported = pruned;
        loop {
            match self.pass().await {
                Ok(published) => {
                    failures = 0;
                    if published as u64 == self.config.relay_batch {
                        continue;
                    }
                }
                Err(e) => {
                    failures += 1;
                    let wait = self.config.backoff(failures).max(self.config.relay_poll());
                    tracing::warn!(service, error = %e, retry_in_ms = wait.as_millis() as u64, "cannot publish events");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.bus.reconnected() => {}
                    }
                    continue;
                }
            }
            if pruned.elapsed() >= PRUNE_EVERY {
                pruned = Instant::now();
                match outbox::prune(&self.db, self.config.outbox_retention()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(service, deleted = n, "pruned published events"),
                    Err(e) => tracing::warn!(service, error = %e, "cannot prune the outbox"),
                }
            }
            if reported.elapsed() >= BACKLOG_EVERY {
                reported = Instant::now();
                self.report_backlog().await;
            }
            let _ =
                tokio::time::timeout(self.config.relay_poll(), self.db.outbox_signal().notified())
                    .await;
        }
    }

    /// Publishes one batch; answers how many events it held.
    async fn pass(&self) -> anyhow::Result<usize> {
        let service = self.db.service();
        let pending = outbox::unpublished(&self.db, self.config.relay_batch).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        self.bus.publish(service, &pending).await?;
        let seqs: Vec<i64> = pending.iter().map(|p| p.seq).collect();
        outbox::mark_published(&self.db, &seqs).await?;
        let now = OffsetDateTime::now_utc();
        let lags = metrics::histogram!(PUBLISH_LAG, "service" => service);
        for p in &pending {
            lags.record((now - p.occurred_at).as_seconds_f64().max(0.0));
        }
        metrics::counter!(PUBLISHED, "service" => service).increment(pending.len() as u64);
        Ok(pending.len())
    }

    async fn report_backlog(&self) {
        if let Ok(count) = outbox::backlog(&self.db).await {
            metrics::gauge!(OUTBOX_BACKLOG, "service" => self.db.service()).set(count as f64);
        }
    }
}
