//! The commands behind the command line. Output meant for people goes to stdout; logs
//! go to stderr.
#![allow(clippy::print_stdout)]

mod doctor;
mod events;
mod migrate;
mod replicas;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use figment::value::Value;
use roster_config::{BusKind, Config, ConfigError, Secret, StorageMode};
use roster_http::ServiceToken;
use roster_service::{Host, ServiceDb, ServiceDef, serve_router, shutdown_signal};
use roster_tokens::Verifier;
use tokio::net::TcpListener;

use roster_loadgen::demo;

use crate::{AuthAction, Cli, Command, SERVICES, SeedArgs, service_names, services_named};

/// The configuration, with the command line's flags over it.
pub(crate) fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut overrides: Vec<(&str, Value)> = Vec::new();
    let port = match &cli.command {
        Command::Up { listen, .. }
        | Command::Serve { listen, .. }
        | Command::Gateway { listen } => listen.port,
        Command::Migrate { .. }
        | Command::Auth { .. }
        | Command::Seed(_)
        | Command::Events { .. }
        | Command::Replicas { .. }
        | Command::Doctor { .. }
        | Command::Bench(_) => None,
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
        Command::Up { no_demo, .. } => {
            host(&config, SERVICES, service_token_for_up(&config)?, !no_demo).await
        }
        Command::Serve { services, .. } => {
            let token = config.security.service_token.clone().context(
                "security.service_token is required when services run apart: set the same value (32 characters or more) for every process",
            )?;
            host(
                &config,
                &services_named(&services),
                ServiceToken::new(token),
                false,
            )
            .await
        }
        Command::Seed(args) => seed(config, args).await,
        Command::Gateway { .. } => gateway(&config).await,
        Command::Migrate { action } => migrate::run(&config, action).await,
        Command::Auth {
            action: AuthAction::RotateKeys,
        } => rotate_keys(config).await,
        Command::Events { action } => events::run(&config, action).await,
        Command::Replicas { action } => replicas::run(&config, action).await,
        Command::Doctor { service } => doctor::run(&config, service.as_deref()).await,
        Command::Bench(args) => roster_loadgen::bench::run(args).await,
    }
}

async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::new(config.server.host, config.server.port);
    TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))
}

/// The configured service credential, or, since every service of `roster up` (and of
/// `roster seed`) shares one process, a random one for this run.
fn service_token_for_up(config: &Config) -> anyhow::Result<ServiceToken> {
    let token = match &config.security.service_token {
        Some(token) => token.clone(),
        None => Secret::from(
            roster_config::generate_data_key().context("cannot draw a random service token")?,
        ),
    };
    Ok(ServiceToken::new(token))
}

/// `roster auth rotate-keys`.
async fn rotate_keys(mut config: Config) -> anyhow::Result<()> {
    ensure_data_key(&mut config)?;
    let db = open_migrated(&config, &roster_auth::SERVICE).await?;
    let kid = roster_auth::rotate_keys(&db, &config).await?;
    db.close().await;
    println!(
        "auth: new signing key {kid}; auth signs with it within {} s, and the previous key verifies until its tokens expire",
        config.auth.sync_interval_secs
    );
    Ok(())
}

/// A service's database, its pending migrations applied, for commands that work on
/// its data.
async fn open_migrated(config: &Config, service: &ServiceDef) -> anyhow::Result<ServiceDb> {
    let db = migrate::open(config, service).await?;
    roster_migrate::Migrator::new(&db, (service.migrations)())
        .up(None)
        .await
        .with_context(|| format!("{}: cannot migrate", service.name))?;
    Ok(db)
}

/// The data key file `roster up` keeps beside its SQLite files when none is configured.
const DATA_KEY_FILE: &str = "roster.key";

/// Makes sure a data key is configured: on SQLite, the one kept in
/// `<storage.dir>/roster.key` (made on first start, readable by its owner only); on
/// PostgreSQL it must be configured, since the data may outlive this machine.
fn ensure_data_key(config: &mut Config) -> anyhow::Result<()> {
    if config.security.data_key.is_some() {
        return Ok(());
    }
    if config.storage.mode != StorageMode::Sqlite {
        anyhow::bail!(
            "security.data_key is required with {}: set it to 32 random bytes in base64 (for example the output of `openssl rand -base64 32`)",
            config.storage.mode
        );
    }
    let path = config.storage.dir.join(DATA_KEY_FILE);
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            roster_storage::private_dir(&config.storage.dir)
                .with_context(|| format!("cannot create {}", config.storage.dir.display()))?;
            let key = roster_config::generate_data_key().context("cannot draw a data key")?;
            write_private(&path, &key)?;
            key
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    roster_config::decode_data_key(&key).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    config.security.data_key = Some(Secret::from(key.trim().to_owned()));
    Ok(())
}

fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs the given services until Ctrl-C or SIGTERM. With `demo`, a new installation
/// (no company yet) gets the demo company once it serves.
async fn host(
    config: &Config,
    services: &[ServiceDef],
    token: ServiceToken,
    demo: bool,
) -> anyhow::Result<()> {
    let mut config = config.clone();
    let host = start(&mut config, services, token).await?;
    let config = &config;
    let seed_demo = demo && is_new(&host).await?;
    let listener = bind(config).await?;
    let shutdown = shutdown_signal();
    let address = listener.local_addr()?;
    let names: Vec<&str> = services.iter().map(|s| s.name).collect();
    println!(
        "Roster is up on http://{address} with {} ({}); Ctrl-C stops it.",
        names.join(", "),
        describe_storage(config),
    );
    if seed_demo {
        let base = local_url(address);
        let password = demo::password()?;
        tokio::spawn(async move {
            match demo::seed(&base, password).await {
                Ok(seeded) => println!("{seeded}"),
                Err(e) => eprintln!("roster: cannot seed the demo company: {e:#}"),
            }
        });
    }
    host.serve(listener, shutdown).await?;
    println!("Roster stopped.");
    Ok(())
}

/// Starts the services with the data key made sure of and a verifier that caches
/// tokens as configured.
async fn start(
    config: &mut Config,
    services: &[ServiceDef],
    token: ServiceToken,
) -> anyhow::Result<Host> {
    ensure_data_key(config)?;
    if config.bus.kind == BusKind::Embedded {
        roster_service::check_embedded_bus(SERVICES, services)?;
    }
    let verifier = Verifier::with_cache(config.auth.token_cache_capacity);
    Host::start(config, services, verifier, token).await
}

/// Whether the installation has no company yet.
async fn is_new(host: &Host) -> anyhow::Result<bool> {
    Ok(!has_company(host.databases(), None).await?)
}

/// Whether org, if among `databases`, has a company (named `named`, if given).
async fn has_company<'a>(
    mut databases: impl Iterator<Item = &'a ServiceDb>,
    named: Option<&str>,
) -> anyhow::Result<bool> {
    let Some(org) = databases.find(|db| db.service() == roster_org::SERVICE.name) else {
        return Ok(false);
    };
    roster_org::store::companies::any(org, named)
        .await
        .map_err(|e| anyhow::anyhow!("org: {e}"))
}

/// How this process reaches its own listener.
fn local_url(address: SocketAddr) -> String {
    let ip = match address.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// `roster seed`: every service in this process, on a loopback port of its own, long
/// enough to seed the demo company, or data at scale, through the API (and, at scale,
/// the services' imports), and for the events of it to be published.
async fn seed(mut config: Config, args: SeedArgs) -> anyhow::Result<()> {
    // The operator's own import, through a Roster that serves no one else: the
    // quotas on a company's requests would only slow it.
    (
        config.quotas.requests_per_minute,
        config.quotas.writes_per_minute,
    ) = (0, 0);
    let token = service_token_for_up(&config)?;
    let host = start(&mut config, SERVICES, token).await?;
    let databases: Vec<ServiceDb> = host.databases().cloned().collect();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("cannot listen on a loopback port")?;
    let base = local_url(listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(host.serve(listener, async move {
        let _ = stopped.await;
    }));
    let plan = args.plan();
    let password = match args.password {
        Some(password) => password,
        None => demo::password()?,
    };
    let seeded = async {
        let Some(plan) = plan else {
            if has_company(databases.iter(), Some(demo::COMPANY)).await? {
                return Ok(demo::Seeded::Exists.to_string());
            }
            return demo::seed(&base, password).await.map(|s| s.to_string());
        };
        let seeded = roster_loadgen::seed::seed(&base, &databases, plan, &password).await?;
        roster_loadgen::seed::settle(&databases).await?;
        Ok(seeded.to_string())
    }
    .await;
    let _ = stop.send(());
    serving.await.context("the services stopped abnormally")??;
    println!("{}", seeded?);
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
    let shutdown = shutdown_signal();
    let address = listener.local_addr()?;
    println!(
        "Roster gateway is up on http://{address} for {}; Ctrl-C stops it.",
        roster_gateway::routed_services(config, &service_names()).join(", ")
    );
    let grace = std::time::Duration::from_secs(config.server.shutdown_grace_secs);
    serve_router(listener, router, shutdown, grace).await?;
    println!("Roster gateway stopped.");
    Ok(())
}
