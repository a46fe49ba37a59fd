//! A fresh place for one test's data, removed when the test ends.

use std::fmt;

use roster_config::{
    Argon2Config, BusKind, Config, DatabaseUrl, NatsUrl, Prefix, Secret, StorageMode,
};
use roster_service::ServiceDef;
use roster_storage::{Location, PgLocation};

/// Names the cluster the PostgreSQL suites run against.
pub const POSTGRES_URL_VAR: &str = "ROSTER_TEST_POSTGRES_URL";
/// Names the NATS server (with JetStream) the PostgreSQL suites run their events over.
pub const NATS_URL_VAR: &str = "ROSTER_TEST_NATS_URL";
/// Lists the backends whose absence fails a test instead of skipping it.
pub const REQUIRE_VAR: &str = "ROSTER_TEST_REQUIRE";

fn required(backend: &str) -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v.split(',').any(|b| b.trim() == backend))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    Sqlite,
    PgPerService,
    PgSchemas,
}

impl Topology {
    pub fn mode(self) -> StorageMode {
        match self {
            Self::Sqlite => StorageMode::Sqlite,
            Self::PgPerService => StorageMode::PostgresPerService,
            Self::PgSchemas => StorageMode::PostgresSchemas,
        }
    }
}

/// One test's configuration and data. Dropping it removes the data: its directory
/// (SQLite databases, email written as files) and the PostgreSQL databases, schemas
/// and roles under its prefix.
pub struct Installation {
    topology: Topology,
    config: Config,
    services: Vec<&'static str>,
    _dir: tempfile::TempDir,
}

impl fmt::Debug for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Installation")
            .field("topology", &self.topology)
            .field("prefix", &self.config.storage.prefix)
            .finish_non_exhaustive()
    }
}

/// Where a service's data lives in a PostgreSQL topology. Panics on SQLite.
pub fn pg_location(config: &Config, service: &str) -> PgLocation {
    match Location::resolve(service, config.storage_for(service)) {
        Location::Postgres(pg) => *pg,
        Location::Sqlite { .. } => panic!("{service} is not stored in PostgreSQL"),
    }
}

/// The test cluster's URL, or `None` (and a skip notice) when it is not configured.
/// Panics when the environment requires PostgreSQL and names none.
pub fn postgres_url() -> Option<DatabaseUrl> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) => {
            Some(DatabaseUrl::parse(&url).unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}: {e}")))
        }
        Err(_) => {
            assert!(
                !required("postgres"),
                "{REQUIRE_VAR} requires postgres but {POSTGRES_URL_VAR} is not set"
            );
            eprintln!("skipped: {POSTGRES_URL_VAR} is not set");
            None
        }
    }
}

/// The test NATS server's URL, or `None` (the PostgreSQL suites then use the embedded
/// bus). Panics when the environment requires NATS and names none.
pub fn nats_url() -> Option<NatsUrl> {
    match std::env::var(NATS_URL_VAR) {
        Ok(url) => Some(NatsUrl::parse(&url).unwrap_or_else(|e| panic!("{NATS_URL_VAR}: {e}"))),
        Err(_) => {
            assert!(
                !required("nats"),
                "{REQUIRE_VAR} requires nats but {NATS_URL_VAR} is not set"
            );
            eprintln!("{NATS_URL_VAR} is not set: events travel on the embedded bus");
            None
        }
    }
}

impl Installation {
    /// `None` when the topology needs PostgreSQL and none is configured.
    pub async fn create(topology: Topology, services: &[ServiceDef]) -> Option<Self> {
        let mut config = Config::default();
        config.server.shutdown_grace_secs = 5;
        config.storage.mode = topology.mode();
        config.storage.max_connections = crate::POOL;
        // Secrets of this installation alone; cheap password hashing keeps tests quick.
        let random = || roster_config::generate_data_key().expect("cannot draw random bytes");
        config.security.service_token = Some(Secret::from(format!("{}{}", random(), random())));
        config.security.data_key = Some(Secret::from(random()));
        config.auth.argon2 = Argon2Config {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        };
        // Notifications are tried again soon and may post to this machine's test
        // receivers.
        config.notifications.retry_base_ms = 100;
        config.notifications.retry_max_ms = 400;
        config.notifications.max_attempts = 3;
        config.notifications.webhook_timeout_ms = 5_000;
        config.notifications.webhook_private_networks = true;
        // The installation's files (SQLite databases, email written as files) are
        // its own.
        let dir = tempfile::tempdir().expect("cannot create a temporary directory");
        config.storage.dir = dir.path().to_owned();
        match topology {
            Topology::Sqlite => {}
            Topology::PgPerService | Topology::PgSchemas => {
                let url = postgres_url()?;
                let id = uuid::Uuid::new_v4().simple().to_string();
                let prefix = format!("rt_{}", &id[..10]);
                let mut url = url.expose().clone();
                if topology == Topology::PgSchemas {
                    // The shared database is the test's own, named after its prefix.
                    url.set_path(&format!("/{prefix}"));
                }
                config.storage.url =
                    Some(DatabaseUrl::parse(url.as_str()).expect("a valid URL stays valid"));
                config.storage.prefix =
                    Prefix::parse(&prefix).expect("a generated prefix is valid");
                // Events travel over NATS, in streams and consumers of the test's own.
                if let Some(url) = nats_url() {
                    config.bus.kind = BusKind::Nats;
                    config.bus.url = Some(url);
                    config.bus.prefix = prefix;
                }
            }
        }
        Some(Self {
            topology,
            config,
            services: services.iter().map(|s| s.name).collect(),
            _dir: dir,
        })
    }

    pub fn topology(&self) -> Topology {
        self.topology
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    async fn remove(self_config: Config, topology: Topology, services: Vec<&'static str>) {
        if self_config.bus.kind == BusKind::Nats {
            remove_streams(&self_config, &services).await;
        }
        if topology == Topology::Sqlite {
            return;
        }
        let locations: Vec<Location> = services
            .iter()
            .map(|service| Location::resolve(service, self_config.storage_for(service)))
            .collect();
        if let Err(e) = roster_storage::remove_all(&locations).await {
            eprintln!("cleanup failed: {e}");
        }
    }
}

/// Deletes the installation's streams (their consumers go with them).
async fn remove_streams(config: &Config, services: &[&'static str]) {
    let Some(url) = &config.bus.url else { return };
    let client = match async_nats::connect(url.expose().as_str()).await {
        Ok(client) => client,
        Err(e) => return eprintln!("cleanup of the streams failed: {e}"),
    };
    let js = async_nats::jetstream::new(client);
    for service in services {
        // Only producers have a stream; the others answer "not found".
        let _ = js
            .delete_stream(format!("{}_{service}", config.bus.prefix))
            .await;
    }
}

impl Drop for Installation {
    fn drop(&mut self) {
        if self.topology == Topology::Sqlite && self.config.bus.kind == BusKind::Embedded {
            return; // The temporary directory removes itself.
        }
        let config = self.config.clone();
        let topology = self.topology;
        let services = std::mem::take(&mut self.services);
        // Drop cannot await; clean up on a thread of its own with its own runtime, so it
        // also runs when the test panics.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot start a cleanup runtime");
            runtime.block_on(Self::remove(config, topology, services));
        });
        let _ = cleanup.join();
    }
}
