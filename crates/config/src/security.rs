use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::{ConfigError, Secret};

/// `[auth]`: accounts, passwords, tokens and sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// How long an access token lives.
    pub access_token_ttl_secs: u64,
    /// How long a session lives without a refresh.
    pub refresh_token_ttl_secs: u64,
    /// The shortest password accepted.
    pub password_min_length: usize,
    pub argon2: Argon2Config,
    /// Failed logins of one account from one client (an IPv4 address, an IPv6 /64)
    /// before each further one doubles the wait (429 with `Retry-After`).
    pub login_attempts_per_account_address: u32,
    /// Failed logins from one client, whatever the accounts, before the same.
    pub login_attempts_per_address: u32,
    /// The longest wait a client's failures can earn.
    pub login_backoff_max_secs: u64,
    /// Failures (and signups) are forgotten after this long without another.
    pub login_window_secs: u64,
    /// Whether anyone may sign a company up (`open`), or the operator alone
    /// (`closed`: `POST /api/v1/auth/signup` answers 403).
    pub signup: SignupPolicy,
    /// Signups from one client before each further one doubles the wait (429).
    pub signups_per_address: u32,
    /// How long auth holds another process's request for the revoked sessions when
    /// none is revoked (it answers at once when one is), and so how often the other
    /// processes refresh the published keys.
    pub sync_interval_secs: u64,
    /// Verified tokens kept in memory per process; 0 verifies every request afresh.
    pub token_cache_capacity: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            password_min_length: 10,
            argon2: Argon2Config::default(),
            login_attempts_per_account_address: 5,
            login_attempts_per_address: 30,
            login_backoff_max_secs: 300,
            login_window_secs: 900,
            signup: SignupPolicy::Open,
            signups_per_address: 5,
            sync_interval_secs: 5,
            token_cache_capacity: 10_000,
        }
    }
}

/// Who may sign a company up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignupPolicy {
    Open,
    Closed,
}

/// argon2id's cost parameters (OWASP's minimum by default).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The longest an access token may live; verifiers refuse longer ones
/// (`roster_tokens::MAX_LIFETIME_SECS`, which auth checks is the same).
pub const MAX_ACCESS_TOKEN_TTL_SECS: u64 = 86_400;

impl AuthConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("auth.access_token_ttl_secs", self.access_token_ttl_secs),
            ("auth.refresh_token_ttl_secs", self.refresh_token_ttl_secs),
            ("auth.login_window_secs", self.login_window_secs),
            ("auth.login_backoff_max_secs", self.login_backoff_max_secs),
            ("auth.sync_interval_secs", self.sync_interval_secs),
            ("auth.argon2.iterations", u64::from(self.argon2.iterations)),
            (
                "auth.argon2.parallelism",
                u64::from(self.argon2.parallelism),
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::new(*key, "must be greater than 0"));
        }
        if self.access_token_ttl_secs > MAX_ACCESS_TOKEN_TTL_SECS {
            return Err(ConfigError::new(
                "auth.access_token_ttl_secs",
                format!(
                    "must be at most {MAX_ACCESS_TOKEN_TTL_SECS} (a day): verifiers refuse a token that lives longer"
                ),
            ));
        }
        if self.argon2.memory_kib < 8 * self.argon2.parallelism {
            return Err(ConfigError::new(
                "auth.argon2.memory_kib",
                "must be at least 8 times auth.argon2.parallelism",
            ));
        }
        if !(8..=128).contains(&self.password_min_length) {
            return Err(ConfigError::new(
                "auth.password_min_length",
                "must be between 8 and 128",
            ));
        }
        Ok(())
    }
}

/// `[security]`: secrets shared by the services of one installation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The credential services present to each other's internal endpoints. Required
    /// when services run apart; `roster up` makes one per process when it is absent.
    pub service_token: Option<Secret>,
    /// 32 bytes, base64: encrypts data at rest (salaries, signing keys). `roster up`
    /// keeps one in `<storage.dir>/roster.key` when it is absent.
    pub data_key: Option<Secret>,
    /// Peers whose `x-forwarded-for` names the client (the gateway's address).
    pub trusted_proxies: Vec<IpAddr>,
}

/// The length of [`SecurityConfig::data_key`] once decoded.
pub const DATA_KEY_LEN: usize = 32;

impl SecurityConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(key) = &self.data_key {
            decode_data_key(key.expose_secret())
                .map_err(|message| ConfigError::new("security.data_key", message))?;
        }
        if self
            .service_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().len() < 32)
        {
            return Err(ConfigError::new(
                "security.service_token",
                "must be at least 32 characters",
            ));
        }
        Ok(())
    }

    /// The data key's bytes, when one is configured.
    pub fn data_key_bytes(&self) -> Option<[u8; DATA_KEY_LEN]> {
        self.data_key
            .as_ref()
            .and_then(|k| decode_data_key(k.expose_secret()).ok())
    }
}

/// Decodes a base64 data key of exactly [`DATA_KEY_LEN`] bytes.
pub fn decode_data_key(text: &str) -> Result<[u8; DATA_KEY_LEN], String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| "must be base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| format!("must decode to exactly {DATA_KEY_LEN} bytes"))
}

/// A new random data key, base64.
pub fn generate_data_key() -> Result<String, getrandom::Error> {
    let mut key = [0u8; DATA_KEY_LEN];
    getrandom::fill(&mut key)?;
    Ok(STANDARD.encode(key))
}
