use std::fmt;

use serde::{Deserialize, Deserializer};

/// A secret string: its `Debug` shows `[REDACTED]`, never the value.
pub type Secret = secrecy::SecretString;

/// Declares a URL type that may carry a password and so prints with it masked:
/// `parse` accepts the schemes named, `expose` hands the URL to a client.
macro_rules! masked_url {
    ($(#[$doc:meta])* $name:ident, [$($scheme:literal),+], $expected:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(url::Url);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, String> {
                parse_url(s, &[$($scheme),+], $expected).map(Self)
            }

            /// The URL with its password; pass it to a client, never to a log.
            pub fn expose(&self) -> &url::Url {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_masked(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

masked_url!(
    /// A PostgreSQL URL.
    DatabaseUrl,
    ["postgres", "postgresql"],
    "postgres://"
);

impl DatabaseUrl {
    /// The database the URL names, if any.
    pub fn database(&self) -> Option<&str> {
        self.0.path().strip_prefix('/').filter(|db| !db.is_empty())
    }
}

masked_url!(
    /// A NATS server URL (`nats://` or `tls://`).
    NatsUrl,
    ["nats", "tls"],
    "nats:// or tls://"
);

masked_url!(
    /// An SMTP server URL with the user and password to log in with, if any:
    /// `smtps://` for TLS from the start, `smtp://...?tls=required` for STARTTLS,
    /// plain `smtp://` unencrypted (a local relay only).
    SmtpUrl,
    ["smtp", "smtps"],
    "smtp:// or smtps://"
);

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
