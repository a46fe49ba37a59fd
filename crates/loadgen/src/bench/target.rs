//! The Roster a benchmark measures: `roster up` as a child process in the topology
//! asked, on data of its own (a temporary directory, or databases and roles under a
//! prefix of its own), with a nats-server of its own in the PostgreSQL topologies.
//! Everything it made is removed when it stops.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use roster_config::{BusKind, Config, DatabaseUrl, NatsUrl, Prefix, Secret, StorageMode};
use roster_storage::{Location, ServiceDb};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use super::Topology;
use roster_catalog::SERVICES;

/// How long a started process may take to answer.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Where the PostgreSQL topologies live and which nats-server carries their events.
#[derive(Debug, Clone)]
pub(crate) struct Backends {
    pub postgres: DatabaseUrl,
    pub nats_server: PathBuf,
    pub pgbench: PathBuf,
}

#[derive(Debug)]
pub(crate) struct Target {
    /// What the child runs with.
    pub config: Config,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    roster: Child,
    broker: Option<Broker>,
    dir: tempfile::TempDir,
}

impl Target {
    /// Starts `roster up` with `pool` connections in each service's pool, and the
    /// default quotas on each company's requests if `quotas`; otherwise none, so that
    /// one company's load is what is measured.
    pub(crate) async fn start(
        topology: Topology,
        pool: u32,
        quotas: bool,
        backends: &Backends,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("roster-bench-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        let mut config = Config::default();
        config.storage.mode = topology.mode();
        config.storage.dir = dir.path().join("data");
        config.storage.max_connections = pool;
        let random = || roster_config::generate_data_key().context("cannot draw random bytes");
        config.security.data_key = Some(Secret::from(random()?));
        config.security.service_token = Some(Secret::from(format!("{}{}", random()?, random()?)));
        let mut broker = None;
        if topology != Topology::Sqlite {
            let id = uuid::Uuid::new_v4().simple().to_string();
            let prefix = format!("rb_{}", &id[..10]);
            let mut url = backends.postgres.expose().clone();
            if config.storage.mode == StorageMode::PostgresSchemas {
                url.set_path(&format!("/{prefix}"));
            }
            config.storage.url =
                Some(DatabaseUrl::parse(url.as_str()).map_err(anyhow::Error::msg)?);
            config.storage.prefix = Prefix::parse(&prefix).map_err(anyhow::Error::msg)?;
            let mut nats = Broker::new(&backends.nats_server, dir.path().join("jetstream"))?;
            nats.start().await?;
            config.bus.kind = BusKind::Nats;
            config.bus.url = Some(NatsUrl::parse(&nats.url()).map_err(anyhow::Error::msg)?);
            config.bus.prefix = prefix;
            broker = Some(nats);
        }
        let mut roster = Command::new(std::env::current_exe().context("cannot find roster")?);
        for (key, _) in std::env::vars() {
            if key.starts_with("ROSTER_") {
                roster.env_remove(key);
            }
        }
        if !quotas {
            roster
                .env("ROSTER_QUOTAS__REQUESTS_PER_MINUTE", "0")
                .env("ROSTER_QUOTAS__WRITES_PER_MINUTE", "0");
        }
        let mut roster = roster
            .args(["up", "--port", "0", "--no-demo"])
            .envs(config.shared_environment())
            .env("ROSTER_LOG__LEVEL", "warn")
            // The hostile scenario's webhook receivers listen on loopback.
            .env("ROSTER_NOTIFICATIONS__WEBHOOK_PRIVATE_NETWORKS", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start roster up")?;
        let banner = roster.stdout.take().context("roster up has no stdout")?;
        let base = tokio::time::timeout(READY_WITHIN, address(banner))
            .await
            .context("roster up did not start in time")??;
        let target = Self {
            config,
            base,
            roster,
            broker,
            dir,
        };
        Ok(target)
    }

    /// A service's database, as the child sees it.
    pub(crate) async fn database(&self, service: &'static str) -> anyhow::Result<ServiceDb> {
        roster_storage::open(service, self.config.storage_for(service))
            .await
            .with_context(|| format!("{service}: cannot open its database"))
    }

    /// `roster up`'s memory now, from `/proc` (Linux): `None` where there is none.
    pub(crate) fn memory(&self) -> Option<Memory> {
        let pid = self.roster.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib = |field: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        };
        Some(Memory {
            rss_kib: kib("VmRSS:")?,
            peak_kib: kib("VmHWM:")?,
        })
    }

    /// The broker, in the topologies that have one.
    pub(crate) fn broker(&mut self) -> Option<&mut Broker> {
        self.broker.as_mut()
    }

    /// Has PostgreSQL write its changed pages now, so that the phase starting next
    /// meets no timed checkpoint on its way (one in the middle of a phase costs it a
    /// third of its rate on this kind of machine, and falls where the clock says).
    pub(crate) async fn checkpoint(&self) -> anyhow::Result<()> {
        let location =
            Location::resolve(SERVICES[0].name, self.config.storage_for(SERVICES[0].name));
        roster_storage::checkpoint(&location)
            .await
            .context("cannot have PostgreSQL write a checkpoint")
    }

    /// Stops everything and removes what was made for it.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.roster.kill().await;
        if let Some(broker) = &mut self.broker {
            broker.stop().await;
        }
        if self.config.storage.mode != StorageMode::Sqlite {
            let locations: Vec<Location> = SERVICES
                .iter()
                .map(|s| Location::resolve(s.name, self.config.storage_for(s.name)))
                .collect();
            roster_storage::remove_all(&locations)
                .await
                .context("cannot remove the benchmark's databases")?;
        }
        drop(self.dir);
        Ok(())
    }
}

/// Reads `roster up`'s banner for the address it listens on.
async fn address(stdout: tokio::process::ChildStdout) -> anyhow::Result<String> {
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.strip_prefix("Roster is up on ") {
            let url = rest.split_whitespace().next().unwrap_or_default();
            return Ok(url.to_owned());
        }
    }
    bail!("roster up stopped before it served")
}

/// A process's resident memory: now, and the most it ever held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

/// A nats-server with JetStream, on loopback ports of its own, keeping its streams in
/// `store` across stops and starts.
#[derive(Debug)]
pub(crate) struct Broker {
    binary: PathBuf,
    store: PathBuf,
    port: u16,
    monitor: u16,
    child: Option<Child>,
}

impl Broker {
    fn new(binary: &Path, store: PathBuf) -> anyhow::Result<Self> {
        Ok(Self {
            binary: binary.to_owned(),
            store,
            port: free_port()?,
            monitor: free_port()?,
            child: None,
        })
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it and waits until JetStream answers.
    pub(crate) async fn start(&mut self) -> anyhow::Result<()> {
        let child = Command::new(&self.binary)
            .args(["-a", "127.0.0.1", "-js"])
            .args([
                "-p",
                &self.port.to_string(),
                "-m",
                &self.monitor.to_string(),
            ])
            .arg("-sd")
            .arg(&self.store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start {} (give a nats-server 2.10 or newer with --nats-server)",
                    self.binary.display()
                )
            })?;
        self.child = Some(child);
        let health = format!(
            "http://127.0.0.1:{}/healthz?js-enabled-only=true",
            self.monitor
        );
        let ready = async {
            loop {
                if let Ok(answer) = reqwest::get(&health).await
                    && answer.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(READY_WITHIN, ready)
            .await
            .context("nats-server did not start in time")
    }

    /// Stops it at once, as a crash would.
    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

/// A loopback port free at the time of asking.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free port")?;
    Ok(listener.local_addr()?.port())
}
