//! Event lag and throughput: changes to employees in people, timed to their effect in
//! every replica.
//!
//! Lag is the consumer's inbox row: `applied_at` (taken in the consumer's transaction,
//! after its effect was written) minus `occurred_at` (taken in people's transaction of
//! the change). Both clocks are this machine's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use futures::{StreamExt as _, TryStreamExt as _};
use roster_bus::{inbox, outbox};
use roster_storage::ServiceDb;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use super::{Summary, Target};
use crate::client::Client;
use roster_catalog::replicas;

/// The event every change makes.
const KIND: &str = "people.employee.updated";
const PASSWORD: &str = "bench-password-1234";
/// Hires in flight while seeding.
const SEED_CONCURRENCY: usize = 8;

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Employees whose changes make the events (one consumer batch holds at most one
    /// event of each).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    employees: u32,
    /// Changes per second in the fixed-rate phase.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    rate: u32,
    /// Seconds of the fixed-rate phase.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    seconds: u32,
    /// Changes written as fast as the clients can in the throughput phases (0 skips
    /// them).
    #[arg(long, default_value_t = 30_000)]
    changes: u32,
    /// Requests in flight in the throughput phases.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// Times the backlog phase is run (over NATS); the median run is reported, with
    /// every run's rate beside it.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    backlogs: u32,
}

/// Runs the scenario; hands the target back for stopping whatever happened.
pub(crate) async fn run(mut target: Target, args: &EventsArgs) -> (Target, anyhow::Result<Value>) {
    let result = measure(&mut target, args).await;
    (target, result)
}

async fn measure(target: &mut Target, args: &EventsArgs) -> anyhow::Result<Value> {
    let people = target.database(roster_people::SERVICE.name).await?;
    let mut consumers = Vec::new();
    for (service, _) in replicas() {
        consumers.push((service, target.database(service).await?));
    }
    let stages = Stages { people, consumers };
    let changes = Arc::new(Changes::seed(&target.base, args.employees).await?);
    println!(
        "Seeded a company of {} employees; each change is a PATCH of one's position.",
        args.employees + 1
    );

    // Warm-up, not measured: connections, caches, the first batches.
    let warm_up = changes.at_rate(args.rate, Duration::from_secs(2)).await;
    warm_up.check()?;

    target.checkpoint().await?;
    let since = OffsetDateTime::now_utc();
    let written = changes
        .at_rate(args.rate, Duration::from_secs(u64::from(args.seconds)))
        .await;
    written.check()?;
    let applied = stages.wait_applied(since, written.ok).await?;
    println!(
        "\nFixed rate: {} changes at {}/s ({:.1}/s written); lag from the change in people to its effect:",
        written.ok,
        args.rate,
        written.per_second()
    );
    let fixed = json!({
        "rate": args.rate,
        "seconds": args.seconds,
        "written": written.to_json(),
        "lag": lag_table(&applied),
    });

    let mut results = json!({"employees": args.employees, "fixed_rate": fixed});
    if args.changes > 0 {
        let live = throughput(target, &changes, &stages, args, false).await?;
        results["live"] = live;
        if target.broker().is_some() {
            let mut runs = Vec::new();
            for _ in 0..args.backlogs {
                runs.push(throughput(target, &changes, &stages, args, true).await?);
            }
            let drained = |run: &Value| run["drain_events_per_sec"].as_f64().unwrap_or(0.0);
            runs.sort_by(|a, b| drained(a).total_cmp(&drained(b)));
            let rates: Vec<f64> = runs.iter().map(drained).collect();
            if runs.len() > 1 {
                let listed: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
                println!(
                    "\nBacklog over {} runs: {} events/s; the median run is reported",
                    runs.len(),
                    listed.join(", ")
                );
            }
            results["backlog_drain_events_per_sec"] = json!(rates);
            results["backlog"] = runs.swap_remove(runs.len() / 2);
        }
    }
    Ok(results)
}

/// Writes `args.changes` as fast as the clients can and times their delivery to every
/// consumer. With `backlog`, the broker is down while they are written, so they wait in
/// people's outbox, and the clock starts when the broker is back: what is measured is
/// then the events alone, draining a backlog at the highest rate they can.
async fn throughput(
    target: &mut Target,
    changes: &Arc<Changes>,
    stages: &Stages,
    args: &EventsArgs,
    backlog: bool,
) -> anyhow::Result<Value> {
    target.checkpoint().await?;
    let since = OffsetDateTime::now_utc();
    if backlog && let Some(broker) = target.broker() {
        broker.stop().await;
    }
    let written = changes
        .as_fast_as_possible(args.changes, args.concurrency)
        .await;
    written.check()?;
    let mut start = since;
    if backlog {
        target.checkpoint().await?;
    }
    if backlog && let Some(broker) = target.broker() {
        start = OffsetDateTime::now_utc();
        broker.start().await?;
    }
    let applied = stages.wait_applied(since, written.ok).await?;
    let mut delivered = serde_json::Map::new();
    let mut slowest = Duration::ZERO;
    // The backlog's drain: from the first event applied by any consumer to the last.
    let (mut first, mut last) = (None::<OffsetDateTime>, start);
    for (service, rows) in &applied.consumers {
        let done = rows.iter().map(|(_, at)| *at).max().unwrap_or(start);
        let began = rows.iter().map(|(_, at)| *at).min().unwrap_or(start);
        let took = Duration::try_from(done - start).unwrap_or_default();
        let drained = Duration::try_from(done - began).unwrap_or_default();
        slowest = slowest.max(took);
        last = last.max(done);
        first = Some(first.map_or(began, |f| f.min(began)));
        delivered.insert(
            (*service).to_owned(),
            json!({"seconds": took.as_secs_f64(), "events_per_sec": rate(written.ok, took),
                   "drain_seconds": drained.as_secs_f64(), "drain_events_per_sec": rate(written.ok, drained)}),
        );
    }
    let resumed = Duration::try_from(first.unwrap_or(start) - start).unwrap_or_default();
    let drain = Duration::try_from(last - first.unwrap_or(start)).unwrap_or_default();
    let title = if backlog {
        format!(
            "\nBacklog: {} changes written with the broker down ({:.0}/s by {} clients); once it was back, the first was applied after {:.2} s and every consumer had them all {:.2} s later: {:.0} events/s sustained ({:.0} applied/s by the {} consumers)",
            written.ok,
            written.per_second(),
            args.concurrency,
            resumed.as_secs_f64(),
            drain.as_secs_f64(),
            rate(written.ok, drain),
            rate(written.ok * applied.consumers.len() as u64, drain),
            applied.consumers.len(),
        )
    } else {
        format!(
            "\nLive: {} changes as fast as {} clients could ({:.0}/s written); every consumer had them all {:.2} s after the first: {:.0} events/s",
            written.ok,
            args.concurrency,
            written.per_second(),
            slowest.as_secs_f64(),
            rate(written.ok, slowest)
        )
    };
    println!("{title}; lag per consumer:");
    Ok(json!({
        "concurrency": args.concurrency,
        "written": written.to_json(),
        "seconds": slowest.as_secs_f64(),
        "events_per_sec": rate(written.ok, slowest),
        "resumed_after_seconds": backlog.then_some(resumed.as_secs_f64()),
        "drain_seconds": backlog.then_some(drain.as_secs_f64()),
        "drain_events_per_sec": backlog.then_some(rate(written.ok, drain)),
        "consumers": delivered,
        "lag": lag_table(&applied),
    }))
}

fn rate(count: u64, took: Duration) -> f64 {
    if took.is_zero() {
        return 0.0;
    }
    count as f64 / took.as_secs_f64()
}

/// Prints the lag of each stage (people's relay publishing, each consumer applying,
/// every consumer together); answers them as JSON.
fn lag_table(applied: &Applied) -> Value {
    println!(
        "  {:<22} {:>8} {:>9} {:>9} {:>9}",
        "from the change to", "events", "p50 ms", "p99 ms", "max ms"
    );
    let lags = |rows: &[(OffsetDateTime, OffsetDateTime)]| -> Vec<Duration> {
        rows.iter()
            .map(|(from, to)| Duration::try_from(*to - *from).unwrap_or_default())
            .collect()
    };
    let mut table = serde_json::Map::new();
    let mut row = |name: String, lag: Vec<Duration>| {
        if let Some(s) = Summary::of(lag) {
            println!(
                "  {name:<22} {:>8} {:>9.2} {:>9.2} {:>9.2}",
                s.count, s.p50, s.p99, s.max
            );
            table.insert(name, s.to_json());
        }
    };
    // The relay marks a row once the bus took it: on the embedded bus, once every
    // consumer applied it; over NATS, once the stream stored it.
    row("marked published".to_owned(), lags(&applied.published));
    let mut all = Vec::new();
    for (service, rows) in &applied.consumers {
        let lag = lags(rows);
        all.extend_from_slice(&lag);
        row(format!("applied in {service}"), lag);
    }
    row("applied in all".to_owned(), all);
    Value::Object(table)
}

/// Where an event's way is timed: people's outbox, and each consumer's inbox.
#[derive(Debug)]
struct Stages {
    people: ServiceDb,
    consumers: Vec<(&'static str, ServiceDb)>,
}

/// The times of each stage: (occurred, published) from people's outbox, (occurred,
/// applied) from each consumer's inbox.
#[derive(Debug)]
struct Applied {
    published: Vec<(OffsetDateTime, OffsetDateTime)>,
    consumers: Vec<(&'static str, Vec<(OffsetDateTime, OffsetDateTime)>)>,
}

impl Stages {
    /// Waits until every consumer applied `expected` changes made at `since` or later,
    /// and answers the times of each stage.
    async fn wait_applied(&self, since: OffsetDateTime, expected: u64) -> anyhow::Result<Applied> {
        // Generous: a slow machine may take a while, but a lost event must not hang.
        let deadline = Instant::now() + Duration::from_secs(120) + Duration::from_millis(expected);
        for (service, db) in &self.consumers {
            loop {
                let count = inbox::count_since(db, KIND, since)
                    .await
                    .with_context(|| format!("{service}: cannot read its inbox"))?;
                if count >= expected {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("{service} applied {count} of {expected} changes in time");
                }
                // Not often: counting is a scan of the inbox, which would take its
                // share of the machine from the consumers being measured (the
                // figures come from the rows' times, not from this wait).
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let published = outbox::published_since(&self.people, KIND, since)
            .await
            .context("people: cannot read its outbox")?;
        let mut consumers = Vec::with_capacity(self.consumers.len());
        for (service, db) in &self.consumers {
            let rows = inbox::applied_since(db, KIND, since)
                .await
                .with_context(|| format!("{service}: cannot read its inbox"))?;
            consumers.push((*service, rows));
        }
        Ok(Applied {
            published,
            consumers,
        })
    }
}

/// Changes to the seeded employees, each a new position for one of them, in turn.
#[derive(Debug)]
struct Changes {
    client: Client,
    employees: Vec<String>,
    made: AtomicU64,
}

/// What a phase wrote.
#[derive(Debug, Default)]
struct Written {
    ok: u64,
    failed: u64,
    first_error: Option<String>,
    took: Duration,
}

impl Written {
    fn per_second(&self) -> f64 {
        rate(self.ok, self.took)
    }

    /// Fails on a change that was refused: the figures would not mean what they say.
    fn check(&self) -> anyhow::Result<()> {
        match &self.first_error {
            Some(error) => bail!("{} of the changes failed, the first: {error}", self.failed),
            None => Ok(()),
        }
    }

    fn add(&mut self, result: anyhow::Result<()>) {
        match result {
            Ok(()) => self.ok += 1,
            Err(error) => {
                self.failed += 1;
                self.first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }

    fn to_json(&self) -> Value {
        json!({"changes": self.ok, "failed": self.failed, "seconds": self.took.as_secs_f64(), "per_sec": self.per_second()})
    }
}

impl Changes {
    /// Signs a company up and hires `employees` into it, through the API.
    async fn seed(base: &str, employees: u32) -> anyhow::Result<Self> {
        let mut client = Client::new(base);
        let admin = "admin@bench.example.com";
        let signup = json!({
            "company_name": "Bench", "admin_email": admin, "admin_password": PASSWORD,
            "admin_name": "Bench", "admin_surname": "Admin",
        });
        client
            .create_at("/api/v1/auth/signup", &signup, "employee_id")
            .await?;
        client.login(admin, PASSWORD).await?;
        // A few hires at a time: each hashes a password, which is meant to be slow.
        let hires = futures::stream::iter(0..employees).map(|i| {
            let client = client.clone();
            async move {
                let hire = json!({
                    "email": format!("person{i}@bench.example.com"), "name": "Bench",
                    "surname": format!("Person {i}"), "role": "employee", "password": PASSWORD,
                });
                client.create("/api/v1/people/employees", &hire).await
            }
        });
        let ids = hires
            .buffer_unordered(SEED_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(Self {
            client,
            employees: ids,
            made: AtomicU64::new(0),
        })
    }

    /// Makes the next change.
    async fn make(&self) -> anyhow::Result<()> {
        let n = self.made.fetch_add(1, Ordering::Relaxed);
        let employee = &self.employees[(n % self.employees.len() as u64) as usize];
        self.client
            .update(
                &format!("/api/v1/people/employees/{employee}"),
                &json!({"position": format!("Position {n}")}),
            )
            .await
    }

    /// `rate` changes a second for `duration`, each sent at its time whether or not the
    /// ones before it were answered.
    async fn at_rate(self: &Arc<Self>, rate: u32, duration: Duration) -> Written {
        let total = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let started = Instant::now();
        let mut sent = JoinSet::new();
        for _ in 0..total {
            tick.tick().await;
            let changes = Arc::clone(self);
            sent.spawn(async move { changes.make().await });
        }
        let mut written = Written::default();
        while let Some(result) = sent.join_next().await {
            written.add(result.map_err(anyhow::Error::from).and_then(|r| r));
        }
        written.took = started.elapsed();
        written
    }

    /// `total` changes from `clients` clients, each sending its next when answered.
    async fn as_fast_as_possible(self: &Arc<Self>, total: u32, clients: u32) -> Written {
        let left = Arc::new(AtomicU64::new(u64::from(total)));
        let started = Instant::now();
        let mut running = JoinSet::new();
        for _ in 0..clients {
            let changes = Arc::clone(self);
            let left = Arc::clone(&left);
            running.spawn(async move {
                let mut written = Written::default();
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    written.add(changes.make().await);
                }
                written
            });
        }
        let mut written = Written::default();
        while let Some(client) = running.join_next().await {
            match client {
                Ok(part) => {
                    written.ok += part.ok;
                    written.failed += part.failed;
                    if written.first_error.is_none() {
                        written.first_error = part.first_error;
                    }
                }
                Err(error) => written.add(Err(error.into())),
            }
        }
        written.took = started.elapsed();
        written
    }
}
