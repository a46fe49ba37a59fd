//! A consuming service's side of the bus: deliveries are applied by its [`Handler`]
//! in its own database, exactly once and in each aggregate's order.
//!
//! - Exactly once: the event id goes into the inbox in the transaction of the effect;
//!   an event found there is acknowledged and changes nothing.
//! - In order: each aggregate has a queue sorted by the events' `sequence`, and the
//!   position it reached is stored beside the inbox. Only the next event of an
//!   aggregate is applied; one that arrives ahead of its predecessor waits for it
//!   (a bus redelivers out of order after a crash), up to `events.gap_timeout_secs`,
//!   then is applied anyway and counted as a gap. Workers take the heads of different
//!   aggregates, so several run at once without reordering one.
//! - Bounded: an event whose handler fails is tried `events.max_attempts` times with
//!   a doubling backoff, while its aggregate waits and the others flow; then it goes to
//!   dead letters with the error and the attempts, and its aggregate moves past it.
//!   An event that cannot be decoded goes there at once. A database that does not
//!   answer, or that interrupts a transaction for a reason of the moment (a deadlock,
//!   a serialization failure, a statement timeout), is not the event's fault: those
//!   attempts are retried without counting.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use roster_config::EventsConfig;
use roster_events::{Envelope, Event, Undecodable};
use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Set,
};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use crate::bus::{Acknowledge, Delivery, Unreadable};
use crate::metrics::{CONSUMER_LAG, DEAD_LETTERED, GAPS, HANDLED, REDELIVERIES};
use crate::outbox;
use crate::tables::{dead_letter, inbox, position};

/// What a consuming service does with an event, inside the transaction that records
/// it in the inbox (opened for all companies: each event names its own). Events it
/// has no use for are `Ok(())`. An error fails this attempt; it is retried, then
/// dead-lettered.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
        event: &Event,
    ) -> anyhow::Result<()>;

    /// Applies `events` in their order within one transaction: each is its
    /// aggregate's next. By default each goes to [`Handler::handle`] in turn, in its
    /// own span and under its own trace (so events it records carry that trace); a
    /// handler that can apply several at once in fewer statements does so here.
    async fn handle_all(
        &self,
        txn: &DatabaseTransaction,
        events: &[(&Envelope, &Event)],
    ) -> anyhow::Result<()> {
        for (envelope, event) in events {
            in_event_scope(envelope, self.handle(txn, envelope, event)).await?;
        }
        Ok(())
    }
}

/// Runs `work` for one event in the event's span (its type, ids and trace) and under
/// its trace context, so that events `work` records carry the trace on.
pub async fn in_event_scope<F: std::future::Future>(envelope: &Envelope, work: F) -> F::Output {
    let trace = envelope.trace.as_ref();
    let span = tracing::info_span!(
        "event",
        r#type = %envelope.kind,
        event_id = %envelope.id,
        aggregate_id = %envelope.aggregate_id,
        sequence = envelope.sequence,
        trace_id = trace.and_then(|t| t.trace_id()).unwrap_or_default(),
        request_id = trace.and_then(|t| t.request_id.as_deref()).unwrap_or_default(),
    );
    let work = work.instrument(span);
    match envelope.trace.clone() {
        Some(trace) => roster_events::trace::scope(trace, work).await,
        None => work.await,
    }
}

/// How often a consumer tells the bus it still holds the events it waits on.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// How often an aggregate waiting for a missing event looks again (another process
/// may have applied it).
const GAP_RECHECK: Duration = Duration::from_millis(250);

/// One consuming service's consumer.
#[derive(Clone)]
pub struct Consumer {
    db: ServiceDb,
    handler: &'static dyn Handler,
    config: EventsConfig,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("service", &self.db.service())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    aggregate: String,
    id: Uuid,
}

/// An event waiting in its aggregate's queue, with every delivery of it.
struct Job {
    envelope: Envelope,
    /// The event, or why this version of Roster cannot read it: such an event still
    /// waits its turn, and goes to dead letters when it comes, so the events of its
    /// aggregate before it are applied first and none after it overtakes it.
    event: Result<Event, Undecodable>,
    acks: Vec<Box<dyn Acknowledge>>,
    attempts: u32,
    /// When it was first found waiting for a predecessor.
    waiting_since: Option<Instant>,
}

impl Job {
    fn key(&self) -> Key {
        key_of(&self.envelope)
    }

    fn sequence(&self) -> u64 {
        self.envelope.sequence
    }

    fn slot(&self) -> Slot {
        (self.envelope.sequence, self.envelope.id)
    }

    /// Whether it has waited for its predecessor long enough to be applied without it.
    fn gap_expired(&self, timeout: Duration) -> bool {
        self.waiting_since.is_some_and(|t| t.elapsed() >= timeout)
    }
}

fn key_of(envelope: &Envelope) -> Key {
    Key {
        aggregate: envelope.aggregate().to_owned(),
        id: envelope.aggregate_id,
    }
}

/// What became of a job in a worker.
enum Outcome {
    Applied,
    /// Found in the inbox: applied before.
    Duplicate,
    /// Its aggregate is past it (applied under another id, or passed as dead).
    Stale,
    DeadLettered,
    /// Its predecessor has not been applied yet.
    Waiting,
    /// The handler failed (counted), or the database did not answer or interrupted
    /// the transaction for a reason of the moment (not counted).
    Failed {
        error: String,
        counted: bool,
    },
}

impl Outcome {
    /// Done with, by how, for the metrics; `None` while it must be tried again.
    fn done(&self) -> Option<&'static str> {
        match self {
            Self::Applied => Some("applied"),
            Self::Duplicate => Some("duplicate"),
            Self::Stale => Some("stale"),
            Self::DeadLettered => Some("dead_lettered"),
            Self::Waiting | Self::Failed { .. } => None,
        }
    }
}

impl Consumer {
    pub fn new(db: ServiceDb, handler: &'static dyn Handler, config: EventsConfig) -> Self {
        Self {
            db,
            handler,
            config,
        }
    }

    pub fn service(&self) -> &'static str {
        self.db.service()
    }

    /// Applies what arrives on `input` until it closes and the work in hand is done
    /// (or the task is dropped: what was not acknowledged is delivered again).
    pub async fn run(self, mut input: mpsc::Receiver<Delivery>) {
        let workers = self.config.workers;
        let (results_tx, mut results) = mpsc::channel::<(usize, Vec<(Job, Outcome)>)>(workers);
        let mut senders = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (tx, mut rx) = mpsc::channel::<Vec<Job>>(1);
            let (me, results) = (self.clone(), results_tx.clone());
            senders.push(tx);
            tokio::spawn(async move {
                while let Some(jobs) = rx.recv().await {
                    let done = me.apply_batch(jobs).await;
                    if results.send((worker, done)).await.is_err() {
                        break;
                    }
                }
            });
        }
        let mut idle: Vec<usize> = (0..workers).collect();
        let mut state = Queues::default();
        let mut open = true;
        let mut progress = tokio::time::interval(PROGRESS_EVERY);
        loop {
            while !idle.is_empty() {
                let batch = state.take_ready(self.config.batch_size);
                if batch.is_empty() {
                    break;
                }
                if let Some(worker) = idle.pop() {
                    let _ = senders[worker].send(batch).await;
                }
            }
            if !open && state.is_empty() && idle.len() == workers {
                return;
            }
            let wake = state.next_timer();
            tokio::select! {
                delivery = input.recv(), if open => match delivery {
                    Some(delivery) => {
                        self.accept(&mut state, delivery).await;
                        // Whatever else has arrived joins it, so that under load a
                        // worker takes a full batch rather than one event at a time;
                        // a lone event still goes at once.
                        for _ in 1..self.config.batch_size * workers {
                            let Ok(delivery) = input.try_recv() else { break };
                            self.accept(&mut state, delivery).await;
                        }
                    }
                    None => open = false,
                },
                Some((worker, done)) = results.recv() => {
                    let mut handled: HashMap<&'static str, u64> = HashMap::new();
                    for (job, outcome) in done {
                        if let Some(how) = self.settle(&mut state, job, outcome).await {
                            *handled.entry(how).or_default() += 1;
                        }
                    }
                    for (how, count) in handled {
                        metrics::counter!(HANDLED, "service" => self.service(), "outcome" => how)
                            .increment(count);
                    }
                    idle.push(worker);
                }
                () = sleep_until(wake) => state.fire_timers(),
                _ = progress.tick() => state.report_progress().await,
            }
        }
    }

    /// Puts a delivery in its aggregate's queue; bytes that are no envelope (and so
    /// belong to no aggregate) go to dead letters at once.
    async fn accept(&self, state: &mut Queues, delivery: Delivery) {
        let service = self.service();
        if delivery.redelivered {
            metrics::counter!(REDELIVERIES, "service" => service).increment(1);
        }
        let Unreadable { reason, raw } = match delivery.envelope {
            Ok(envelope) => {
                state.push(Job {
                    event: Event::decode(&envelope),
                    envelope,
                    acks: vec![delivery.ack],
                    attempts: 0,
                    waiting_since: None,
                });
                return;
            }
            Err(unreadable) => unreadable,
        };
        tracing::error!(service, error = %reason, "what arrived is no envelope; it goes to dead letters");
        // Until the dead letter is written, the delivery is not acknowledged: the bus
        // delivers it again.
        if self
            .dead_letter_unreadable(&String::from_utf8_lossy(&raw), &reason)
            .await
            .is_ok()
        {
            delivery.ack.ack().await;
        }
    }

    /// Acts on a worker's outcome for a job; answers how it was done with, if it was.
    async fn settle(
        &self,
        state: &mut Queues,
        mut job: Job,
        outcome: Outcome,
    ) -> Option<&'static str> {
        let key = job.key();
        let done = outcome.done();
        match outcome {
            Outcome::Applied | Outcome::Duplicate | Outcome::Stale | Outcome::DeadLettered => {
                for ack in job.acks {
                    ack.ack().await;
                }
                state.finish(&key);
            }
            Outcome::Waiting => {
                job.waiting_since.get_or_insert_with(Instant::now);
                let wait = self
                    .config
                    .gap_timeout()
                    .saturating_sub(job.waiting_since.map_or(Duration::ZERO, |t| t.elapsed()))
                    .min(GAP_RECHECK);
                state.put_back(job);
                state.retry_at(key, Instant::now() + wait);
            }
            Outcome::Failed { error, counted } => {
                if counted {
                    job.attempts += 1;
                    metrics::counter!(REDELIVERIES, "service" => self.service()).increment(1);
                }
                let backoff = self.config.backoff(job.attempts.max(1));
                tracing::warn!(service = self.service(), event = %job.envelope, attempts = job.attempts, error, "cannot apply an event; retrying");
                state.put_back(job);
                state.retry_at(key, Instant::now() + backoff);
            }
        }
        done
    }

    /// Applies a batch in one transaction; if that fails, each job in its own, so one
    /// event's failure is its own.
    async fn apply_batch(&self, jobs: Vec<Job>) -> Vec<(Job, Outcome)> {
        if jobs.len() > 1 {
            match self.apply_together(&jobs).await {
                Ok(outcomes) => return jobs.into_iter().zip(outcomes).collect(),
                Err(e) if e.is_retryable() => {
                    return jobs.into_iter().map(|job| (job, not_counted(&e))).collect();
                }
                Err(_) => {}
            }
        }
        let mut done = Vec::with_capacity(jobs.len());
        for job in jobs {
            let outcome = self.apply_alone(&job).await;
            done.push((job, outcome));
        }
        done
    }

    async fn apply_alone(&self, job: &Job) -> Outcome {
        match self.apply_together(std::slice::from_ref(job)).await {
            Ok(mut outcomes) => outcomes.pop().unwrap_or(Outcome::Waiting),
            Err(error) => {
                if error.is_retryable() {
                    return not_counted(&error);
                }
                // Anything else counts, a unique violation too: when another process
                // applied the aggregate at the same time the next attempt sees what
                // it did, and one that comes back every time is the handler's fault.
                if job.attempts + 1 >= self.config.max_attempts {
                    return match self.dead_letter(job, &error.to_string()).await {
                        Ok(()) => Outcome::DeadLettered,
                        Err(e) => Outcome::Failed {
                            error: format!("cannot write the dead letter: {e}"),
                            counted: false,
                        },
                    };
                }
                Outcome::Failed {
                    error: error.to_string(),
                    counted: true,
                }
            }
        }
    }

    /// Applies every job that is its aggregate's next in one transaction.
    ///
    /// The positions decide: an event at or behind its aggregate's position was
    /// applied, dead-lettered or passed before. The inbox and the dead letters tell a
    /// redelivery (in either already: nothing to do) from an event that was passed
    /// while it was missing (its aggregate's later events waited for it, then went on
    /// without it): that one goes to dead letters, never silently dropped, unless it is
    /// older than the inbox keeps anything (a replay of old history). An event that
    /// is its aggregate's next but cannot be read goes to dead letters in its turn. An
    /// event the positions let through but the inbox holds fails the batch, since
    /// applying it again is never right.
    async fn apply_together(&self, jobs: &[Job]) -> Result<Vec<Outcome>, DbError> {
        let txn = self.db.begin_write(Scope::AllCompanies).await?;
        let mut positions = positions_of(&txn, jobs.iter().map(|j| &j.envelope)).await?;
        let now = OffsetDateTime::now_utc();
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut recorded = Vec::new();
        let mut moved = BTreeMap::new();
        let mut applying = Vec::new();
        let mut behind = Vec::new();
        let mut letters = Vec::new();
        for job in jobs {
            let envelope = &job.envelope;
            let key = job.key();
            let at = positions.get(&key).copied().unwrap_or(0);
            let sequence = job.sequence();
            if sequence <= at {
                behind.push((job, at));
                outcomes.push(Outcome::Stale);
                continue;
            }
            if sequence > at + 1 {
                if !job.gap_expired(self.config.gap_timeout()) {
                    outcomes.push(Outcome::Waiting);
                    continue;
                }
                metrics::counter!(GAPS, "service" => self.service()).increment(1);
                tracing::warn!(service = self.service(), event = %envelope, missing_from = at + 1, "applying an event whose predecessors never arrived");
            }
            positions.insert(key.clone(), sequence);
            moved.insert(key, sequence);
            match &job.event {
                Ok(_) => {
                    applying.push(job);
                    recorded.push(inbox_row(envelope, now));
                    outcomes.push(Outcome::Applied);
                }
                Err(reason) => {
                    letters.push((envelope, reason.to_string()));
                    outcomes.push(Outcome::DeadLettered);
                }
            }
        }
        self.handle(&txn, &applying).await.map_err(handler_error)?;
        let passed = self.sort_behind(&txn, &behind, now).await?;
        for (job, outcome) in jobs.iter().zip(outcomes.iter_mut()) {
            if !matches!(outcome, Outcome::Stale) {
                continue;
            }
            match passed.get(&job.envelope.id) {
                Some(Behind::Known) => *outcome = Outcome::Duplicate,
                Some(Behind::Passed(at)) => {
                    letters.push((
                        &job.envelope,
                        format!(
                            "arrived after its aggregate had gone on without it to sequence {at}: not applied"
                        ),
                    ));
                    *outcome = Outcome::DeadLettered;
                }
                Some(Behind::Forgotten) | None => {
                    recorded.push(inbox_row(&job.envelope, now));
                }
            }
        }
        for (envelope, error) in &letters {
            tracing::error!(service = self.service(), event = %envelope, error, "an event went to dead letters");
            write_dead_letter(&txn, Some(envelope), &envelope.to_json(), error, 1).await?;
        }
        let new = record(&txn, recorded, &moved).await?;
        for (job, outcome) in jobs.iter().zip(outcomes.iter()) {
            if matches!(outcome, Outcome::Applied) && !new.contains(&job.envelope.id) {
                return Err(DbError::Other(DbErr::Custom(format!(
                    "{} is in the inbox but its aggregate's position is behind it",
                    job.envelope
                ))));
            }
        }
        if !letters.is_empty() {
            metrics::counter!(DEAD_LETTERED, "service" => self.service())
                .increment(letters.len() as u64);
        }
        // A handler may have recorded events of its own: the service's relay (if it
        // has one) publishes them at once.
        outbox::commit(&self.db, txn).await?;
        if !applying.is_empty() {
            self.db.applied_signal().send_replace(());
        }
        let now = OffsetDateTime::now_utc();
        let mut lags = HashMap::new();
        for (job, outcome) in jobs.iter().zip(&outcomes) {
            if matches!(outcome, Outcome::Applied) {
                let producer = job.envelope.producer();
                let lag = (now - job.envelope.occurred_at).as_seconds_f64().max(0.0);
                lags.entry(producer)
                    .or_insert_with(|| {
                        metrics::histogram!(CONSUMER_LAG, "service" => self.service(), "producer" => producer.to_owned())
                    })
                    .record(lag);
            }
        }
        Ok(outcomes)
    }

    /// What became of each event found behind its aggregate's position (with that
    /// position), by event id.
    async fn sort_behind(
        &self,
        txn: &DatabaseTransaction,
        behind: &[(&Job, u64)],
        now: OffsetDateTime,
    ) -> Result<HashMap<Uuid, Behind>, DbError> {
        if behind.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<Uuid> = behind.iter().map(|(job, _)| job.envelope.id).collect();
        let mut known: HashSet<Uuid> = inbox::Entity::find()
            .select_only()
            .column(inbox::Column::EventId)
            .filter(inbox::Column::EventId.is_in(ids.iter().copied()))
            .into_tuple::<Uuid>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        known.extend(
            dead_letter::Entity::find()
                .select_only()
                .column(dead_letter::Column::EventId)
                .filter(dead_letter::Column::EventId.is_in(ids))
                .into_tuple::<Uuid>()
                .all(txn)
                .await?,
        );
        let remembered_since = now - self.config.inbox_retention();
        Ok(behind
            .iter()
            .map(|(job, at)| {
                let envelope = &job.envelope;
                let what = if known.contains(&envelope.id) {
                    Behind::Known
                } else if envelope.occurred_at < remembered_since {
                    Behind::Forgotten
                } else {
                    Behind::Passed(*at)
                };
                (envelope.id, what)
            })
            .collect())
    }

    /// Runs the handler on `jobs` (each one that could be read) in the service's span.
    async fn handle(&self, txn: &DatabaseTransaction, jobs: &[&Job]) -> anyhow::Result<()> {
        let events: Vec<(&Envelope, &Event)> = jobs
            .iter()
            .filter_map(|job| Some((&job.envelope, job.event.as_ref().ok()?)))
            .collect();
        if events.is_empty() {
            return Ok(());
        }
        let span = tracing::info_span!("events", service = self.service(), count = events.len());
        self.handler.handle_all(txn, &events).instrument(span).await
    }

    /// Puts a job that failed every attempt in dead letters and moves its aggregate
    /// past it, so the aggregate's later events flow.
    async fn dead_letter(&self, job: &Job, error: &str) -> Result<(), DbError> {
        let envelope = &job.envelope;
        let txn = self.db.begin_write(Scope::AllCompanies).await?;
        write_dead_letter(
            &txn,
            Some(envelope),
            &envelope.to_json(),
            error,
            job.attempts + 1,
        )
        .await?;
        advance(&txn, &job.key(), job.sequence()).await?;
        txn.commit().await?;
        metrics::counter!(DEAD_LETTERED, "service" => self.service()).increment(1);
        tracing::error!(service = self.service(), event = %envelope, attempts = job.attempts + 1, error, "an event went to dead letters");
        Ok(())
    }

    /// Keeps bytes that arrived and are no envelope, with the reason.
    async fn dead_letter_unreadable(
        &self,
        text: &str,
        reason: &Undecodable,
    ) -> Result<(), DbError> {
        let txn = self.db.begin_write(Scope::AllCompanies).await?;
        write_dead_letter(&txn, None, text, &reason.to_string(), 1).await?;
        txn.commit().await?;
        metrics::counter!(DEAD_LETTERED, "service" => self.service()).increment(1);
        Ok(())
    }

    /// Applies a dead letter again with today's handler: `roster events dead retry`.
    /// On success it leaves dead letters; on failure it stays, one attempt more.
    pub async fn retry_dead_letter(&self, event_id: Uuid) -> Result<Retried, RetryError> {
        let row = dead_letter::Entity::find_by_id(event_id)
            .one(&self.db.read(Scope::AllCompanies).await?)
            .await?
            .ok_or(RetryError::NotFound)?;
        let envelope = Envelope::from_json(row.envelope.as_bytes())?;
        let event = Event::decode(&envelope)?;
        let job = Job {
            envelope,
            event: Ok(event),
            acks: Vec::new(),
            attempts: 0,
            waiting_since: None,
        };
        let txn = self.db.begin_write(Scope::AllCompanies).await?;
        let applied_before = inbox::Entity::find_by_id(event_id)
            .one(&txn)
            .await?
            .is_some();
        let at = positions_of(&txn, std::iter::once(&job.envelope))
            .await?
            .get(&job.key())
            .copied()
            .unwrap_or(0);
        if !applied_before {
            if let Err(e) = self.handle(&txn, &[&job]).await {
                drop(txn);
                let error = format!("{e:#}");
                self.count_failed_retry(&row, &error).await?;
                return Err(RetryError::Failed(error));
            }
            inbox::Entity::insert(inbox_row(&job.envelope, OffsetDateTime::now_utc()))
                .exec_without_returning(&txn)
                .await?;
            advance(&txn, &job.key(), job.sequence()).await?;
        }
        dead_letter::Entity::delete_by_id(event_id)
            .exec(&txn)
            .await?;
        outbox::commit(&self.db, txn).await?;
        self.db.applied_signal().send_replace(());
        Ok(match applied_before {
            true => Retried::AlreadyApplied,
            false if at > job.sequence() => Retried::AppliedAfter { sequence: at },
            false => Retried::Applied,
        })
    }

    async fn count_failed_retry(
        &self,
        row: &dead_letter::Model,
        error: &str,
    ) -> Result<(), DbError> {
        let txn = self.db.begin_write(Scope::AllCompanies).await?;
        dead_letter::Entity::update(dead_letter::ActiveModel {
            event_id: Set(row.event_id),
            attempts: Set(row.attempts + 1),
            error: Set(error.to_owned()),
            last_failed_at: Set(OffsetDateTime::now_utc()),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

/// What an event found behind its aggregate's position is.
enum Behind {
    /// In the inbox or the dead letters: a redelivery.
    Known,
    /// Older than the inbox remembers: a replay of old history.
    Forgotten,
    /// Neither: its aggregate went on without it, from this position.
    Passed(u64),
}

/// What `retry_dead_letter` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Applied by the handler in its aggregate's order (nothing after it was yet).
    Applied,
    /// Applied by the handler after later events of its aggregate, up to `sequence`:
    /// the service reacted to it, and a copy kept the newer state they had set.
    AppliedAfter { sequence: u64 },
    /// It had been applied since (a redelivery): only the dead letter was removed.
    AlreadyApplied,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no dead letter has this id")]
    NotFound,
    #[error("it still cannot be decoded: {0}")]
    Undecodable(#[from] Undecodable),
    #[error("the handler failed again: {0}")]
    Failed(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<DbErr> for RetryError {
    fn from(error: DbErr) -> Self {
        Self::Db(error.into())
    }
}

/// A failure that is not the event's: the database did not answer, or interrupted
/// the transaction for a reason of the moment (a deadlock, a serialization failure, a
/// timeout). It is retried like an outage, without counting an attempt.
fn not_counted(error: &DbError) -> Outcome {
    Outcome::Failed {
        error: error.to_string(),
        counted: false,
    }
}

/// Keeps the database's own error when a handler's error is one, or is caused by one
/// (a store's error around it), so its kind (unavailable, interrupted, unique) is
/// seen; anything else is the event's fault.
fn handler_error(error: anyhow::Error) -> DbError {
    let error = match error.downcast::<DbErr>() {
        Ok(db) => return db.into(),
        Err(other) => other,
    };
    let error = match error.downcast::<DbError>() {
        Ok(db) => return db,
        Err(other) => other,
    };
    let classified = error.chain().find_map(|cause| {
        if let Some(db) = cause.downcast_ref::<DbErr>() {
            return DbError::class_of(db);
        }
        cause.downcast_ref::<DbError>().and_then(DbError::class)
    });
    classified.unwrap_or_else(|| DbError::Other(DbErr::Custom(format!("{error:#}"))))
}

fn inbox_row(envelope: &Envelope, applied_at: OffsetDateTime) -> inbox::ActiveModel {
    inbox::ActiveModel {
        event_id: Set(envelope.id),
        kind: Set(envelope.kind.clone()),
        aggregate_id: Set(envelope.aggregate_id),
        sequence: Set(i64::try_from(envelope.sequence).unwrap_or(i64::MAX)),
        occurred_at: Set(envelope.occurred_at),
        applied_at: Set(applied_at),
    }
}

async fn positions_of(
    conn: &impl ConnectionTrait,
    envelopes: impl Iterator<Item = &Envelope>,
) -> Result<HashMap<Key, u64>, DbErr> {
    let (mut aggregates, mut ids) = (BTreeSet::new(), BTreeSet::new());
    for envelope in envelopes {
        aggregates.insert(envelope.aggregate());
        ids.insert(envelope.aggregate_id);
    }
    // Both columns of the key, so the lookup is the key's index.
    Ok(position::Entity::find()
        .filter(position::Column::Aggregate.is_in(aggregates))
        .filter(position::Column::AggregateId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| {
            (
                Key {
                    aggregate: row.aggregate,
                    id: row.aggregate_id,
                },
                u64::try_from(row.sequence).unwrap_or(0),
            )
        })
        .collect())
}

/// Records the events taken in the inbox and moves the positions; answers the events
/// that were not in the inbox yet.
async fn record(
    txn: &DatabaseTransaction,
    inbox_rows: Vec<inbox::ActiveModel>,
    moved: &BTreeMap<Key, u64>,
) -> Result<HashSet<Uuid>, DbError> {
    let mut new = HashSet::new();
    if !inbox_rows.is_empty() {
        let mut insert = inbox::Entity::insert_many(inbox_rows)
            .on_conflict(
                OnConflict::column(inbox::Column::EventId)
                    .do_nothing()
                    .to_owned(),
            )
            .into_query();
        insert.returning_col(inbox::Column::EventId);
        new = txn
            .query_all(&insert)
            .await?
            .iter()
            .map(|row| row.try_get::<Uuid>("", "event_id"))
            .collect::<Result<_, _>>()?;
    }
    advance_all(txn, moved.iter().map(|(key, sequence)| (key, *sequence))).await?;
    Ok(new)
}

/// Moves an aggregate's position to `sequence` unless it is past it already.
async fn advance(txn: &impl ConnectionTrait, key: &Key, sequence: u64) -> Result<(), DbError> {
    advance_all(txn, [(key, sequence)]).await
}

/// Moves each aggregate's position to its sequence unless it is past it already, in
/// one statement (each aggregate named once).
async fn advance_all<'k>(
    txn: &impl ConnectionTrait,
    moves: impl IntoIterator<Item = (&'k Key, u64)>,
) -> Result<(), DbError> {
    use sea_orm::sea_query::ExprTrait as _;
    let now = OffsetDateTime::now_utc();
    let rows: Vec<position::ActiveModel> = moves
        .into_iter()
        .map(|(key, sequence)| position::ActiveModel {
            aggregate: Set(key.aggregate.clone()),
            aggregate_id: Set(key.id),
            sequence: Set(i64::try_from(sequence).unwrap_or(i64::MAX)),
            updated_at: Set(now),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let past = Expr::col((position::Entity, position::Column::Sequence))
        .lt(Expr::cust("excluded.sequence"));
    position::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([position::Column::Aggregate, position::Column::AggregateId])
                .update_columns([position::Column::Sequence, position::Column::UpdatedAt])
                .action_and_where(past)
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Writes a dead letter (or counts one more failure of it). Bytes that were no
/// envelope get an id of their own and no aggregate or company.
async fn write_dead_letter(
    txn: &impl ConnectionTrait,
    envelope: Option<&Envelope>,
    text: &str,
    error: &str,
    attempts: u32,
) -> Result<(), DbError> {
    let now = OffsetDateTime::now_utc();
    dead_letter::Entity::insert(dead_letter::ActiveModel {
        event_id: Set(envelope.map_or_else(Uuid::now_v7, |e| e.id)),
        kind: Set(envelope.map_or_else(
            || "unknown".to_owned(),
            |e| e.kind.chars().take(100).collect(),
        )),
        aggregate_id: Set(envelope.map_or(Uuid::nil(), |e| e.aggregate_id)),
        company_id: Set(envelope.map_or(Uuid::nil(), |e| e.company_id)),
        envelope: Set(text.to_owned()),
        error: Set(error.to_owned()),
        attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
        first_failed_at: Set(now),
        last_failed_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(dead_letter::Column::EventId)
            .update_columns([
                dead_letter::Column::Error,
                dead_letter::Column::Attempts,
                dead_letter::Column::LastFailedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Where a job waits in its aggregate's queue: by sequence, then id (two events with
/// one sequence are the producer's mistake; both are kept, and the second is stale).
type Slot = (u64, Uuid);

/// Puts a job in its slot, merging it with a delivery of the same event held there.
fn hold(queue: &mut BTreeMap<Slot, Job>, job: Job) {
    match queue.get_mut(&job.slot()) {
        Some(held) => held.acks.extend(job.acks),
        None => {
            queue.insert(job.slot(), job);
        }
    }
}

/// The consumer's queues: per aggregate, its events by sequence.
#[derive(Default)]
struct Queues {
    queues: HashMap<Key, BTreeMap<Slot, Job>>,
    /// Aggregates whose head may be tried now, in the order they became so.
    ready: VecDeque<Key>,
    /// The same aggregates, to look them up.
    scheduled: HashSet<Key>,
    /// Aggregates whose head is in a worker's hands.
    busy: HashSet<Key>,
    /// Aggregates to try again at a time (after a failure, or while waiting).
    timers: BinaryHeap<Reverse<(Instant, u64, Key)>>,
    waiting: HashSet<Key>,
    timer_seq: u64,
}

impl Queues {
    fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Queues a job behind its aggregate's earlier events. The same event delivered
    /// again while it waits joins it, to be acknowledged with it.
    fn push(&mut self, job: Job) {
        let key = job.key();
        let queue = self.queues.entry(key.clone()).or_default();
        let new_head = queue
            .first_key_value()
            .is_none_or(|(first, _)| job.slot() < *first);
        hold(queue, job);
        // A new head for an aggregate that waits (or a new aggregate) may be tried now.
        if new_head && !self.busy.contains(&key) {
            self.waiting.remove(&key);
            self.schedule(key);
        }
    }

    /// The heads of up to `limit` ready aggregates, taken out of their queues.
    fn take_ready(&mut self, limit: usize) -> Vec<Job> {
        let mut batch = Vec::new();
        while batch.len() < limit {
            let Some(key) = self.ready.pop_front() else {
                break;
            };
            self.scheduled.remove(&key);
            let Some(queue) = self.queues.get_mut(&key) else {
                continue;
            };
            if let Some((_, job)) = queue.pop_first() {
                self.busy.insert(key);
                batch.push(job);
            }
        }
        batch
    }

    /// A job is done: its aggregate's next one may be tried.
    fn finish(&mut self, key: &Key) {
        self.busy.remove(key);
        match self.queues.get(key) {
            Some(queue) if !queue.is_empty() => self.schedule(key.clone()),
            _ => {
                self.queues.remove(key);
            }
        }
    }

    /// A job goes back to the head of its queue, to be tried again later.
    fn put_back(&mut self, job: Job) {
        let key = job.key();
        self.busy.remove(&key);
        hold(self.queues.entry(key).or_default(), job);
    }

    fn schedule(&mut self, key: Key) {
        if self.scheduled.insert(key.clone()) {
            self.ready.push_back(key);
        }
    }

    fn retry_at(&mut self, key: Key, at: Instant) {
        self.timer_seq += 1;
        self.waiting.insert(key.clone());
        self.timers.push(Reverse((at, self.timer_seq, key)));
    }

    fn next_timer(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, _, key))) = self.timers.pop() else {
                break;
            };
            if self.waiting.remove(&key) && !self.busy.contains(&key) {
                self.schedule(key);
            }
        }
    }

    /// Tells the bus that every event held here is still being worked on.
    async fn report_progress(&self) {
        for queue in self.queues.values() {
            for job in queue.values() {
                for ack in &job.acks {
                    ack.in_progress().await;
                }
            }
        }
    }
}
