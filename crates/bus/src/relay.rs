//! The relay of a producing service: it publishes the outbox in order and marks what
//! the bus took (the host prunes what the retention no longer keeps). Woken right after a
//! commit that recorded events; polls as a fallback (events written by another
//! process, a wake-up lost to a crash, a replay).
//!
//! On a bus that delivers in the process ([`Handed::OnTheirWay`]) the events handed
//! over are marked once every consumer has applied them; meanwhile the relay hands on
//! the events after them (up to [`MAX_BATCHES_ON_THEIR_WAY`] batches), so no consumer
//! waits for another.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use roster_config::EventsConfig;
use roster_storage::ServiceDb;
use time::OffsetDateTime;

use crate::Bus;
use crate::bus::Handed;
use crate::metrics::{OUTBOX_BACKLOG, PUBLISH_LAG, PUBLISHED};
use crate::outbox;

/// How often the backlog gauge is refreshed (a count, kept off the path of each event).
const BACKLOG_EVERY: Duration = Duration::from_secs(5);
/// Batches handed to the consumers of the process and not yet applied by all of them,
/// at the most: what a consumer that stopped applying (its database is down) may hold
/// in memory before the relay waits for it.
const MAX_BATCHES_ON_THEIR_WAY: usize = 16;

#[derive(Debug)]
pub struct Relay {
    db: ServiceDb,
    bus: Arc<dyn Bus>,
    config: EventsConfig,
}

/// The rows of one batch: their `seq` and when their events occurred.
type Rows = Vec<(i64, OffsetDateTime)>;

/// Batches handed over and not yet applied by every consumer.
#[derive(Default)]
struct OnTheirWay {
    seqs: HashSet<i64>,
    batches: FuturesUnordered<BoxFuture<'static, (Rows, anyhow::Result<()>)>>,
}

impl OnTheirWay {
    fn push(&mut self, rows: Rows, applied: BoxFuture<'static, anyhow::Result<()>>) {
        self.seqs.extend(rows.iter().map(|(seq, _)| *seq));
        self.batches
            .push(Box::pin(async move { (rows, applied.await) }));
    }

    fn is_full(&self) -> bool {
        self.batches.len() >= MAX_BATCHES_ON_THEIR_WAY
    }

    /// The next batch every consumer is done with (or one let go), taken off the way.
    async fn landed(&mut self) -> Option<(Rows, anyhow::Result<()>)> {
        let (rows, result) = self.batches.next().await?;
        for (seq, _) in &rows {
            self.seqs.remove(seq);
        }
        Some((rows, result))
    }
}

impl Relay {
    pub fn new(db: ServiceDb, bus: Arc<dyn Bus>, config: EventsConfig) -> Self {
        Self { db, bus, config }
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        let service = self.db.service();
        let mut failures = 0u32;
        let mut reported = Instant::now()
            .checked_sub(BACKLOG_EVERY)
            .unwrap_or_else(Instant::now);
        let mut on_their_way = OnTheirWay::default();
        loop {
            let passed = match on_their_way.is_full() {
                true => Ok(0),
                false => self.pass(&mut on_their_way).await,
            };
            match passed {
                Ok(handed) => {
                    failures = 0;
                    if handed as u64 == self.config.relay_batch {
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
            if reported.elapsed() >= BACKLOG_EVERY {
                reported = Instant::now();
                self.report_backlog().await;
            }
            let woken =
                tokio::time::timeout(self.config.relay_poll(), self.db.outbox_signal().notified());
            tokio::select! {
                _ = woken => {}
                Some((rows, applied)) = on_their_way.landed(), if !on_their_way.batches.is_empty() => {
                    match applied {
                        Ok(()) => {
                            if let Err(e) = self.published(&rows).await {
                                tracing::warn!(service, error = %e, "cannot mark events published; they will be handed again");
                            }
                        }
                        Err(e) => tracing::warn!(service, error = %e, "events were let go unapplied; they will be handed again"),
                    }
                }
            }
        }
    }

    /// Hands one batch to the bus (passing over what is on its way already); answers
    /// how many events it held.
    async fn pass(&self, on_their_way: &mut OnTheirWay) -> anyhow::Result<usize> {
        let service = self.db.service();
        let pending =
            outbox::unpublished(&self.db, self.config.relay_batch, &on_their_way.seqs).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let rows: Rows = pending.iter().map(|p| (p.seq, p.occurred_at)).collect();
        match self.bus.publish(service, &pending).await? {
            Handed::Held => self.published(&rows).await?,
            Handed::OnTheirWay(applied) => on_their_way.push(rows, applied),
        }
        Ok(pending.len())
    }

    /// Marks `rows` published and counts them.
    async fn published(&self, rows: &Rows) -> anyhow::Result<()> {
        let service = self.db.service();
        let seqs: Vec<i64> = rows.iter().map(|(seq, _)| *seq).collect();
        outbox::mark_published(&self.db, &seqs).await?;
        let now = OffsetDateTime::now_utc();
        let lags = metrics::histogram!(PUBLISH_LAG, "service" => service);
        for (_, occurred_at) in rows {
            lags.record((now - *occurred_at).as_seconds_f64().max(0.0));
        }
        metrics::counter!(PUBLISHED, "service" => service).increment(rows.len() as u64);
        Ok(())
    }

    async fn report_backlog(&self) {
        if let Ok(count) = outbox::backlog(&self.db).await {
            metrics::gauge!(OUTBOX_BACKLOG, "service" => self.db.service()).set(count as f64);
        }
    }
}
