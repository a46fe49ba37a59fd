use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string: its `Debug` shows `[REDACTED]`, never the value.
pub type Secret = secrecy::SecretString;

/// A PostgreSQL URL. It may carry a password, so it prints with the password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(url::Url);

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_url(s, &["postgres", "postgresql"], "postgres://").map(Self)
    }

    /// The URL with its password; pass it to a driver, never to a log.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }

    /// The database the URL names, if any.
    pub fn database(&self) -> Option<&str> {
        self.0.path().strip_prefix('/').filter(|db| !db.is_empty())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_masked(&self.0, f)
    }
}

/// A URL with one of `schemes` and a host.
fn parse_url(s: &str, schemes: &[&str], expected: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "scheme `{}` is not supported; expected {expected}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".to_owned());
    }
    Ok(url)
}

/// Writes `url` with its password, if any, replaced by stars.
fn write_masked(url: &url::Url, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut masked = url.clone();
    if masked.password().is_some() {
        // Setting a password only fails for URLs that cannot have one.
        let _ = masked.set_password(Some("********"));
    }
    f.write_str(masked.as_str())
}

/// A NATS server URL (`nats://` or `tls://`). It may carry a user and password, so it
/// prints with the password masked.
#[derive(Clone, PartialEq, Eq)]
pub struct NatsUrl(url::Url);

impl NatsUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_url(s, &["nats", "tls"], "nats:// or tls://").map(Self)
    }

    /// The URL with its password; pass it to a client, never to a log.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Display for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_masked(&self.0, f)
    }
}

impl fmt::Debug for NatsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NatsUrl({self})")
    }
}

impl<'de> Deserialize<'de> for NatsUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_prints() {
        let url = DatabaseUrl::parse("postgres://app:hunter2@db.internal:5432/roster").unwrap();
        assert!(!format!("{url}").contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.expose().password(), Some("hunter2"));
        assert_eq!(url.database(), Some("roster"));
    }

    #[test]
    fn only_postgres_urls_are_accepted() {
        assert!(DatabaseUrl::parse("mysql://localhost/x").is_err());
        assert!(DatabaseUrl::parse("not a url").is_err());
        assert!(DatabaseUrl::parse("postgresql://localhost").is_ok());
    }
}
