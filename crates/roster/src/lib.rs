#![doc = include_str!("../README.md")]

mod commands;
mod logging;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
pub use roster_catalog::{SERVICES, org_replicas, replicas, service_names, services_named};
use roster_loadgen::{bench, seed};
use roster_service::ServiceDef;

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Roster: an HR platform of services that own their data"
)]
pub struct Cli {
    /// The configuration file (default: roster.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs every service on one listener, creating what it needs on first start.
    Up {
        #[command(flatten)]
        listen: Listen,
        /// Where the SQLite files live (storage.dir).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Do not seed the demo company into a new installation.
        #[arg(long)]
        no_demo: bool,
    },
    /// Runs only the named services, on their own listener.
    Serve {
        #[arg(required = true, value_parser = service_parser())]
        services: Vec<String>,
        #[command(flatten)]
        listen: Listen,
    },
    /// Routes /api/v1/<service>/ to services that run apart ([services.<name>] url).
    Gateway {
        #[command(flatten)]
        listen: Listen,
    },
    /// Applies, reverts or lists each service's migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Seeds the demo company (an admin, a manager, two employees, two teams) unless it
    /// exists, and prints the accounts and their password; with --companies,
    /// --employees or --days, data at scale instead.
    Seed(SeedArgs),
    /// Accounts and tokens.
    Auth {
        #[command(subcommand)]
        action: AuthAction,
    },
    /// Events between services: dead letters, following them live, replaying them.
    Events {
        #[command(subcommand)]
        action: EventsAction,
    },
    /// The copies of people's employees that other services keep.
    Replicas {
        #[command(subcommand)]
        action: ReplicasAction,
    },
    /// Checks how the installation stands: the bus, each service's database and
    /// migrations, outboxes, dead letters, leave's accrual runs, notifications'
    /// deliveries. Exits 1 when a check fails.
    Doctor {
        /// Only this service.
        #[arg(long, value_parser = service_parser())]
        service: Option<String>,
    },
    /// Starts a Roster of its own in a topology, drives load at it and prints what it
    /// measured.
    Bench(bench::BenchArgs),
}

/// `roster seed`'s scale: any of them given seeds companies at scale rather than the
/// demo company.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Companies to sign up [default with --employees or --days: 1].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub companies: Option<u32>,
    /// Employees in all, each company's administrator included, shared evenly
    /// [default: 100 per company].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub employees: Option<u32>,
    /// Days of history before today: check-ins every working day, leave, tasks
    /// [default: 30].
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=366))]
    pub days: Option<u32>,
    /// Every seeded account's password (default: drawn at random and printed).
    #[arg(long, env = "ROSTER_SEED_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

impl SeedArgs {
    /// The scale asked, if any.
    pub fn plan(&self) -> Option<seed::Plan> {
        if self.companies.is_none() && self.employees.is_none() && self.days.is_none() {
            return None;
        }
        let companies = self.companies.unwrap_or(1);
        Some(seed::Plan {
            companies,
            employees: self.employees.unwrap_or(companies.saturating_mul(100)),
            days: self.days.unwrap_or(30),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum EventsAction {
    /// The events consumers could not apply.
    Dead {
        #[command(subcommand)]
        action: DeadAction,
    },
    /// Prints events as they are published, until Ctrl-C.
    Tail {
        /// Only this producer's events (default: every producer).
        #[arg(long, value_parser = producer_parser())]
        service: Option<String>,
    },
    /// Publishes a service's retained events again, oldest first, from a time on.
    /// Consumers that applied one already change nothing.
    Replay {
        /// The producer whose events to publish again.
        #[arg(long, value_parser = producer_parser())]
        service: String,
        /// From this time on: RFC 3339 (2026-11-22T08:00:00Z) or a date (2026-11-22,
        /// midnight UTC).
        #[arg(long, value_parser = parse_time)]
        from: time::OffsetDateTime,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeadAction {
    /// Lists every dead letter, oldest first.
    List {
        /// Only this consumer's (default: every consumer's).
        #[arg(long, value_parser = consumer_parser())]
        service: Option<String>,
    },
    /// Applies a dead letter again, in every consumer that holds it; it leaves dead
    /// letters when it applies.
    Retry {
        id: uuid::Uuid,
        /// Only in this consumer (default: every consumer holding it).
        #[arg(long, value_parser = consumer_parser())]
        service: Option<String>,
    },
    /// Forgets a dead letter without applying it, in every consumer that holds it.
    Discard {
        id: uuid::Uuid,
        /// Only in this consumer (default: every consumer holding it).
        #[arg(long, value_parser = consumer_parser())]
        service: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReplicasAction {
    /// Compares every replica with people and prints the drift; exits 1 if any.
    Check {
        /// Only this service's replica.
        #[arg(long, value_parser = replica_parser())]
        service: Option<String>,
    },
    /// Makes a service's replica equal to people again, while the service runs.
    Rebuild {
        #[arg(value_parser = replica_parser())]
        service: String,
    },
}

fn producer_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(SERVICES.iter().filter(|s| s.publishes).map(|s| s.name))
}

fn consumer_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        SERVICES
            .iter()
            .filter(|s| s.consumes.is_some())
            .map(|s| s.name),
    )
}

fn replica_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(replicas().map(|(name, _)| name))
}

/// An RFC 3339 time, or a date meaning its midnight in UTC.
fn parse_time(s: &str) -> Result<time::OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| {
            time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                .map(|date| date.midnight().assume_utc())
        })
        .map_err(|_| {
            "expected a time such as 2026-11-22T08:00:00Z or a date such as 2026-11-22".to_owned()
        })
}

#[derive(Debug, Subcommand)]
pub enum AuthAction {
    /// Makes a new signing key. A running auth signs with it within
    /// auth.sync_interval_secs; the previous key verifies until its tokens expire.
    RotateKeys,
}

#[derive(Debug, Args)]
pub struct Listen {
    /// The port to listen on (server.port).
    #[arg(long)]
    pub port: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Applies pending migrations (all of them unless --steps).
    Up {
        #[command(flatten)]
        target: MigrateTarget,
        /// Apply at most this many.
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Reverts the latest applied migration (or --steps of them, or --all).
    Down {
        #[command(flatten)]
        target: MigrateTarget,
        /// Revert this many.
        #[arg(long, conflicts_with = "all", default_value_t = 1)]
        steps: u32,
        /// Revert every applied migration.
        #[arg(long)]
        all: bool,
    },
    /// Lists every migration with its state.
    Status {
        #[command(flatten)]
        target: MigrateTarget,
    },
}

#[derive(Debug, Args)]
pub struct MigrateTarget {
    /// Only this service (default: every service).
    #[arg(long, value_parser = service_parser())]
    pub service: Option<String>,
}

impl MigrateTarget {
    fn services(&self) -> Vec<ServiceDef> {
        match &self.service {
            Some(name) => services_named(std::slice::from_ref(name)),
            None => SERVICES.to_vec(),
        }
    }
}

fn service_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(service_names())
}

/// Exit codes scripts can trust.
pub mod exit {
    /// Bad usage or configuration.
    pub const USAGE: u8 = 2;
    /// Failed at run time.
    pub const FAILURE: u8 = 1;
}

/// Runs a parsed command line to its exit code.
pub fn run(cli: Cli) -> ExitCode {
    let config = match commands::load_config(&cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("roster: {error}");
            return ExitCode::from(exit::USAGE);
        }
    };
    logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("roster: cannot start the runtime: {error}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the chain of causes, outermost first.
            eprintln!("roster: {error:#}");
            ExitCode::from(exit::FAILURE)
        }
    }
}
