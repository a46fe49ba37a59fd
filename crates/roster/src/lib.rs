#![doc = include_str!("../README.md")]

mod commands;
pub mod demo;
mod logging;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use roster_service::ServiceDef;

/// Every service Roster has, in start order.
pub const SERVICES: &[ServiceDef] = &[
    roster_org::SERVICE,
    roster_auth::SERVICE,
    roster_people::SERVICE,
    roster_presence::SERVICE,
    roster_tasks::SERVICE,
    roster_leave::SERVICE,
    roster_notifications::SERVICE,
];

/// The names of [`SERVICES`].
pub fn service_names() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).collect()
}

/// The services with these names, in start order. Names are checked by the parser.
pub fn services_named(names: &[String]) -> Vec<ServiceDef> {
    SERVICES
        .iter()
        .filter(|s| names.iter().any(|n| n == s.name))
        .copied()
        .collect()
}

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
    /// exists, and prints the accounts and their password.
    Seed,
    /// Accounts and tokens.
    Auth {
        #[command(subcommand)]
        action: AuthAction,
    },
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
