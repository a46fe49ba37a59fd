//! The commands behind the command line. Output meant for people goes to stdout; logs
//! go to stderr.
#![allow(clippy::print_stdout)]

mod migrate;

use std::net::SocketAddr;

use anyhow::Context as _;
use figment::value::Value;
use roster_config::{Config, ConfigError, StorageMode};
use roster_service::{Host, ServiceDef, serve_router, shutdown_signal};
use roster_tokens::Verifier;
use tokio::net::TcpListener;

use crate::{Cli, Command, SERVICES, service_names, services_named};

/// The configuration, with the command line's flags over it.
pub(crate) fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut overrides: Vec<(&str, Value)> = Vec::new();
    let port = match &cli.command {
        Command::Up { listen, .. }
        | Command::Serve { listen, .. }
        | Command::Gateway { listen } => listen.port,
        Command::Migrate { .. } => None,
    };
    if let Some(port) = port {
        overrides.push(("server.port", port.into()));
    }
    if let Command::Up {
        data_dir: Some(dir),
        ..
    } = &cli.command
    {
        overrides.push(("storage.dir", dir.display().to_string().into()));
    }
    let config = roster_config::load(cli.config.as_deref(), &overrides)?;
    config.check_service_names(&service_names())?;
    Ok(config)
}

pub(crate) async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Up { .. } => host(&config, SERVICES).await,
        Command::Serve { services, .. } => host(&config, &services_named(&services)).await,
        Command::Gateway { .. } => gateway(&config).await,
        Command::Migrate { action } => migrate::run(&config, action).await,
    }
}

async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::new(config.server.host, config.server.port);
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// Runs the given services until Ctrl-C or SIGTERM.
async fn host(config: &Config, services: &[ServiceDef]) -> anyhow::Result<()> {
    let host = Host::start(config, services, Verifier::new()).await?;
    let listener = bind(config).await?;
    let address = listener.local_addr()?;
    let names: Vec<&str> = services.iter().map(|s| s.name).collect();
    println!(
        "Roster is up on http://{address} with {} ({}); Ctrl-C stops it.",
        names.join(", "),
        describe_storage(config),
    );
    host.serve(listener, shutdown_signal()).await?;
    println!("Roster stopped.");
    Ok(())
}

fn describe_storage(config: &Config) -> String {
    match config.storage.mode {
        StorageMode::Sqlite => format!("SQLite under {}", config.storage.dir.display()),
        mode => format!("{mode}"),
    }
}

async fn gateway(config: &Config) -> anyhow::Result<()> {
    let router = roster_gateway::router(config, &service_names())?;
    let listener = bind(config).await?;
    let address = listener.local_addr()?;
    println!(
        "Roster gateway is up on http://{address} for {}; Ctrl-C stops it.",
        roster_gateway::routed_services(config, &service_names()).join(", ")
    );
    let grace = std::time::Duration::from_secs(config.server.shutdown_grace_secs);
    serve_router(listener, router, shutdown_signal(), grace).await?;
    println!("Roster gateway stopped.");
    Ok(())
}
