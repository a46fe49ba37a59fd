use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::{ConfigError, DatabaseUrl, Secret};

/// Where a service keeps its data. The same code runs on each; this setting chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageMode {
    /// One SQLite file per service under `storage.dir`.
    #[default]
    Sqlite,
    /// A PostgreSQL database `<prefix>_<service>` per service, owned by the login role
    /// `<prefix>_<service>`.
    PostgresPerService,
    /// One PostgreSQL database; a schema `<service>` per service, owned by the login role
    /// `<prefix>_<service>`, which cannot read any other service's schema.
    PostgresSchemas,
}

impl StorageMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::PostgresPerService => "postgres-per-service",
            Self::PostgresSchemas => "postgres-schemas",
        }
    }
}

impl fmt::Display for StorageMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[storage]`, and the effective storage of one service after its override.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub mode: StorageMode,
    /// SQLite: the directory holding one file per service.
    pub dir: PathBuf,
    /// PostgreSQL: the cluster to provision in, as a role that may create databases,
    /// schemas and roles. In `postgres-schemas` mode its database is the shared one
    /// (`roster` when the URL names none); in `postgres-per-service` mode each service
    /// gets its own database beside it.
    pub url: Option<DatabaseUrl>,
    /// PostgreSQL: the prefix of database and role names, so that several
    /// installations can share one cluster.
    pub prefix: Prefix,
    /// PostgreSQL: the password given to the service roles. Without it the roles have
    /// none, which suits only clusters that trust local connections.
    pub role_password: Option<Secret>,
    /// Connections per service pool.
    pub max_connections: u32,
    /// How long a request waits for a connection before it answers 503.
    pub acquire_timeout_ms: u64,
    /// SQLite: how long a writer waits for the write lock.
    pub busy_timeout_ms: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            mode: StorageMode::Sqlite,
            dir: PathBuf::from("./data"),
            url: None,
            prefix: Prefix("roster".to_owned()),
            role_password: None,
            max_connections: 10,
            acquire_timeout_ms: 3_000,
            busy_timeout_ms: 5_000,
        }
    }
}

impl StorageConfig {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms)
    }

    pub fn busy_timeout(&self) -> Duration {
        Duration::from_millis(self.busy_timeout_ms)
    }

    /// Checks what serde cannot; `section` names the keys in the error.
    pub(crate) fn validate(&self, section: &str) -> Result<(), ConfigError> {
        if self.mode != StorageMode::Sqlite && self.url.is_none() {
            return Err(ConfigError::new(
                format!("{section}.url"),
                format!("required when the mode is {}", self.mode),
            ));
        }
        if !(1..=1_000).contains(&self.max_connections) {
            return Err(ConfigError::new(
                format!("{section}.max_connections"),
                "must be between 1 and 1000",
            ));
        }
        if self.acquire_timeout_ms == 0 {
            return Err(ConfigError::new(
                format!("{section}.acquire_timeout_ms"),
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

/// The prefix of PostgreSQL database and role names: a lowercase identifier short
/// enough that `<prefix>_<service>` fits PostgreSQL's 63-byte names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(String);

impl Prefix {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut chars = s.chars();
        let valid = s.len() <= 32
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        match valid {
            true => Ok(Self(s.to_owned())),
            false => Err(format!(
                "`{s}` is not a valid prefix: use 1 to 32 characters a-z, 0-9 and _, starting with a letter"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Prefix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
