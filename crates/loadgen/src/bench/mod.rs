//! `roster bench`: starts Roster in a topology, seeds it, drives load over HTTP from its
//! own client, and prints what it measured as a table (and as JSON with `--json`).

// A command that reports on standard output.
#![allow(clippy::print_stdout)]

mod api;
mod baseline;
mod events;
mod hostile;
mod load;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use roster_config::{DatabaseUrl, StorageMode};
use serde_json::{Value, json};

pub(crate) use target::{Backends, Target};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
    /// Where Roster keeps its data.
    #[arg(long, value_enum, default_value_t = Topology::Sqlite, global = true)]
    topology: Topology,
    /// The PostgreSQL cluster of the PostgreSQL topologies, as a role that may create
    /// databases and roles.
    #[arg(
        long,
        value_name = "URL",
        env = "ROSTER_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        value_parser = |s: &str| DatabaseUrl::parse(s),
        global = true
    )]
    postgres: DatabaseUrl,
    /// The nats-server (2.10 or newer) started for the PostgreSQL topologies.
    #[arg(
        long,
        value_name = "PATH",
        env = "ROSTER_BENCH_NATS_SERVER",
        default_value = "nats-server",
        global = true
    )]
    nats_server: PathBuf,
    /// pgbench, for the PostgreSQL baselines (psql is run beside it).
    #[arg(
        long,
        value_name = "PATH",
        env = "ROSTER_BENCH_PGBENCH",
        default_value = "pgbench",
        global = true
    )]
    pgbench: PathBuf,
    /// Connections in each service's pool, in `roster up` and in the benchmark's own
    /// (`storage.max_connections`). With seven services, `roster up` may open seven
    /// times as many: keep that under PostgreSQL's `max_connections` with room for
    /// whatever else uses the cluster.
    #[arg(
        long,
        value_name = "N",
        default_value_t = roster_config::StorageConfig::default().max_connections,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    max_connections: u32,
    /// Also writes the results to this file, as JSON.
    #[arg(long, value_name = "FILE", global = true)]
    json: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Reads and writes over HTTP on data seeded at scale (p50, p99, requests per
    /// second), then a department's month of attendance, every balance of a company
    /// and one accrual run.
    Api(api::ApiArgs),
    /// Event lag from a change in people to its effect in every replica, at a fixed
    /// rate; then the highest rate the events sustain.
    Events(events::EventsArgs),
    /// A quiet company's reads and writes alone, then while a hostile company keeps
    /// the heaviest notification wording and webhooks whose answers never end busy.
    Hostile(hostile::HostileArgs),
}

/// Where Roster keeps its data, and so how its events travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Topology {
    /// One SQLite file per service, the embedded bus.
    Sqlite,
    /// One PostgreSQL database per service, NATS JetStream.
    PostgresPerService,
    /// One PostgreSQL database with a schema and a role per service, NATS JetStream.
    PostgresSchemas,
}

impl Topology {
    fn mode(self) -> StorageMode {
        match self {
            Self::Sqlite => StorageMode::Sqlite,
            Self::PostgresPerService => StorageMode::PostgresPerService,
            Self::PostgresSchemas => StorageMode::PostgresSchemas,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite with the embedded bus",
            Self::PostgresPerService => "postgres-per-service with NATS",
            Self::PostgresSchemas => "postgres-schemas with NATS",
        }
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let backends = Backends {
        postgres: args.postgres.clone(),
        nats_server: args.nats_server.clone(),
        pgbench: args.pgbench.clone(),
    };
    println!("Roster bench on {}", args.topology.describe());
    // A hostile company meets the quotas an installation has by default: they are
    // part of what keeps it from the others.
    let quotas = matches!(&args.scenario, Scenario::Hostile(h) if !h.no_quotas);
    let target = Target::start(args.topology, args.max_connections, quotas, &backends).await?;
    // Idle: started, migrated, its background work settled, no request yet.
    tokio::time::sleep(IDLE).await;
    let idle = target.memory();
    let (target, results) = match &args.scenario {
        Scenario::Api(scenario) => api::run(target, scenario, &backends).await,
        Scenario::Events(scenario) => events::run(target, scenario).await,
        Scenario::Hostile(scenario) => hostile::run(target, scenario).await,
    };
    let loaded = target.memory();
    let stopped = target.stop().await;
    let mut results = results?;
    stopped?;
    if let (Some(idle), Some(loaded)) = (idle, loaded) {
        let mb = |kib: u64| kib as f64 / 1024.0;
        println!(
            "\nroster up's resident memory: {:.1} MB idle, {:.1} MB at the most under load",
            mb(idle.rss_kib),
            mb(loaded.peak_kib)
        );
        results["memory"] =
            json!({"idle_rss_mb": mb(idle.rss_kib), "peak_rss_mb": mb(loaded.peak_kib)});
    }
    if let Some(path) = &args.json {
        let document = json!({
            "topology": args.topology.to_possible_value().map(|v| v.get_name().to_owned()),
            "max_connections": args.max_connections,
            "results": results,
        });
        std::fs::write(path, serde_json::to_string_pretty(&document)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("Results written to {}", path.display());
    }
    Ok(())
}

/// Sends `body` and expects `status`, or fails with what the answer said.
pub(crate) async fn expect(
    client: &crate::client::Client,
    method: reqwest::Method,
    path: &str,
    body: &Value,
    status: reqwest::StatusCode,
) -> anyhow::Result<()> {
    let (answered, answer) = client.send(method.clone(), path, body).await?;
    anyhow::ensure!(
        answered == status,
        "{method} {path} answered {answered}: {}",
        answer["detail"]
    );
    Ok(())
}

/// How long `roster up` is left alone before its idle memory is read.
const IDLE: Duration = Duration::from_secs(3);

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// `None` for no samples.
    pub(crate) fn of(mut samples: Vec<Duration>) -> Option<Self> {
        samples.sort_unstable();
        let count = samples.len();
        let at = |q: f64| {
            // The nearest-rank percentile: the smallest sample with q of them at or below.
            let rank = (q * count as f64).ceil().max(1.0) as usize;
            samples[rank.min(count) - 1].as_secs_f64() * 1000.0
        };
        (count > 0).then(|| Self {
            count,
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        })
    }

    pub(crate) fn to_json(self) -> Value {
        json!({"count": self.count, "p50_ms": self.p50, "p99_ms": self.p99, "max_ms": self.max})
    }
}
