#![doc = include_str!("../README.md")]

mod error;
mod events;
mod notifications;
mod quotas;
mod retention;
mod secret;
mod security;
mod storage;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Deserialize;

pub use error::ConfigError;
pub use events::{BusConfig, BusKind, EventsConfig};
pub use notifications::{EmailTransport, NotificationsConfig};
pub use quotas::QuotasConfig;
pub use retention::RetentionConfig;
pub use secret::{DatabaseUrl, NatsUrl, Secret, SmtpUrl};
pub use security::{
    Argon2Config, AuthConfig, DATA_KEY_LEN, MAX_ACCESS_TOKEN_TTL_SECS, SecurityConfig,
    SignupPolicy, decode_data_key, generate_data_key,
};
pub use storage::{Prefix, StorageConfig, StorageMode};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "roster.toml";

/// Everything Roster reads at start-up. Built by [`load`], valid by construction.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub people: PeopleConfig,
    pub bus: BusConfig,
    pub events: EventsConfig,
    pub security: SecurityConfig,
    pub notifications: NotificationsConfig,
    pub retention: RetentionConfig,
    pub quotas: QuotasConfig,
    services: BTreeMap<String, ServiceConfig>,
    /// Each overridden service's storage: its `[services.<name>.storage]` keys merged
    /// over `[storage]`, resolved and validated at load.
    #[serde(skip)]
    storage_overrides: BTreeMap<String, StorageConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub host: IpAddr,
    pub port: u16,
    /// How long a stopping server waits for in-flight requests.
    pub shutdown_grace_secs: u64,
    /// Requests running longer than this answer 503.
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            shutdown_grace_secs: 30,
            request_timeout_secs: 30,
            body_limit_bytes: 1024 * 1024,
        }
    }
}

/// One service's settings as written under `[services.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceConfig {
    /// Where the service answers when it runs apart; read by `roster gateway`.
    url: Option<url::Url>,
    /// The storage override; resolved into `Config::storage_overrides` at load.
    #[serde(default)]
    storage: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub level: LogLevel,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[people]`: employees and the sagas that create them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeopleConfig {
    /// How long a running saga is left to the process that runs it before another
    /// process (or this one, after a restart) takes it over.
    pub saga_lease_secs: u64,
    /// How often unfinished sagas are looked for.
    pub saga_retry_secs: u64,
}

impl Default for PeopleConfig {
    fn default() -> Self {
        Self {
            saga_lease_secs: 30,
            saga_retry_secs: 5,
        }
    }
}

impl PeopleConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.saga_lease_secs == 0 {
            return Err(ConfigError::new(
                "people.saga_lease_secs",
                "must be greater than 0",
            ));
        }
        if self.saga_retry_secs == 0 {
            return Err(ConfigError::new(
                "people.saga_retry_secs",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

/// The sources in order: defaults, the file, the environment. `file` is `--config`;
/// without it `roster.toml` is read when present.
pub fn figment(file: Option<&Path>) -> Result<Figment, ConfigError> {
    let mut figment = Figment::new();
    match file {
        Some(path) if !path.is_file() => {
            return Err(ConfigError::new(
                "--config",
                format!("no such file: {}", path.display()),
            ));
        }
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None if Path::new(DEFAULT_FILE).is_file() => {
            figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
        }
        None => {}
    }
    Ok(figment.merge(environment()))
}

/// `ROSTER_<SECTION>__<KEY>`; variables without a section separator (such as the test
/// suite's `ROSTER_TEST_POSTGRES_URL`) are not configuration and are left alone.
fn environment() -> Env {
    Env::prefixed("ROSTER_")
        .filter(|key| key.as_str().contains("__"))
        .split("__")
}

/// Reads and validates the configuration. `overrides` are command-line flags, applied
/// last, as `(key, value)` pairs such as `("server.port", 9000)`.
pub fn load(
    file: Option<&Path>,
    overrides: &[(&str, figment::value::Value)],
) -> Result<Config, ConfigError> {
    let figment = overrides
        .iter()
        .fold(figment(file)?, |figment, (key, value)| {
            figment.merge(Serialized::default(key, value))
        });
    from_figment(&figment)
}

/// Extracts and validates a configuration from any set of sources.
pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
    let mut config: Config = figment.extract().map_err(ConfigError::from_figment)?;
    config.storage.validate("storage")?;
    config.auth.validate()?;
    config.people.validate()?;
    config.bus.validate()?;
    config.events.validate(&config.bus)?;
    config.security.validate()?;
    config.notifications.validate()?;
    config.retention.validate(&config.events)?;
    for (name, service) in &config.services {
        if service.storage.is_none() {
            continue;
        }
        let key = format!("services.{name}.storage");
        let storage: StorageConfig = figment
            .focus("storage")
            .merge(figment.focus(&key))
            .extract()
            .map_err(|e| ConfigError::from_figment(e).within(&key))?;
        storage.validate(&key)?;
        config.storage_overrides.insert(name.clone(), storage);
    }
    Ok(config)
}

impl Config {
    /// The storage settings of one service: its `[services.<name>.storage]` keys over
    /// `[storage]`.
    pub fn storage_for(&self, service: &str) -> &StorageConfig {
        self.storage_overrides.get(service).unwrap_or(&self.storage)
    }

    /// Overrides one service's storage, for tools and tests that build a
    /// configuration in code rather than from files.
    pub fn set_storage_for(&mut self, service: &str, storage: StorageConfig) {
        self.storage_overrides.insert(service.to_owned(), storage);
    }

    /// The settings another process needs to share this installation (its storage,
    /// bus, secrets and password hashing), as the `ROSTER_` variables it reads. For
    /// tools that start Roster as a child process; the values include secrets.
    pub fn shared_environment(&self) -> Vec<(&'static str, String)> {
        use secrecy::ExposeSecret as _;
        let mut vars = vec![
            (
                "ROSTER_STORAGE__MODE",
                self.storage.mode.as_str().to_owned(),
            ),
            (
                "ROSTER_STORAGE__DIR",
                self.storage.dir.display().to_string(),
            ),
            (
                "ROSTER_STORAGE__PREFIX",
                self.storage.prefix.as_str().to_owned(),
            ),
            (
                "ROSTER_STORAGE__MAX_CONNECTIONS",
                self.storage.max_connections.to_string(),
            ),
            ("ROSTER_BUS__KIND", self.bus.kind.as_str().to_owned()),
            ("ROSTER_BUS__PREFIX", self.bus.prefix.clone()),
            (
                "ROSTER_AUTH__ARGON2__MEMORY_KIB",
                self.auth.argon2.memory_kib.to_string(),
            ),
            (
                "ROSTER_AUTH__ARGON2__ITERATIONS",
                self.auth.argon2.iterations.to_string(),
            ),
        ];
        if let Some(url) = &self.storage.url {
            vars.push(("ROSTER_STORAGE__URL", url.expose().to_string()));
        }
        if let Some(url) = &self.bus.url {
            vars.push(("ROSTER_BUS__URL", url.expose().to_string()));
        }
        for (var, secret) in [
            ("ROSTER_SECURITY__DATA_KEY", &self.security.data_key),
            (
                "ROSTER_SECURITY__SERVICE_TOKEN",
                &self.security.service_token,
            ),
        ] {
            if let Some(secret) = secret {
                vars.push((var, secret.expose_secret().to_owned()));
            }
        }
        vars
    }

    /// The URL of a service that runs apart, for the gateway.
    pub fn service_url(&self, service: &str) -> Option<&url::Url> {
        self.services.get(service).and_then(|s| s.url.as_ref())
    }

    /// Every service that runs apart, with its URL.
    pub fn service_urls(&self) -> impl Iterator<Item = (&str, &url::Url)> {
        self.services
            .iter()
            .filter_map(|(name, s)| Some((name.as_str(), s.url.as_ref()?)))
    }

    /// Sets where a service that runs apart answers.
    pub fn set_service_url(&mut self, service: &str, url: url::Url) {
        self.services.entry(service.to_owned()).or_default().url = Some(url);
    }

    /// Fails, naming the key, when `[services.<name>]` names a service Roster does not
    /// have: a typo is an error rather than a setting silently ignored.
    pub fn check_service_names(&self, known: &[&str]) -> Result<(), ConfigError> {
        match self
            .services
            .keys()
            .find(|name| !known.contains(&name.as_str()))
        {
            Some(name) => Err(ConfigError::new(
                format!("services.{name}"),
                format!("unknown service; the services are: {}", known.join(", ")),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
