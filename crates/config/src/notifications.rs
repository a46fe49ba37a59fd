use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::{ConfigError, SmtpUrl};

/// How email leaves Roster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    /// Each message is written as an `.eml` file under `mail_dir`: for development and
    /// for `roster up`, where nothing is sent anywhere.
    #[default]
    File,
    /// Through the SMTP server at `smtp_url`.
    Smtp,
}

/// `[notifications]`: how notifications leave by email and webhook, and how often a
/// failed delivery is tried again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    pub email: EmailTransport,
    /// `smtp`: the server, with its credentials.
    pub smtp_url: Option<SmtpUrl>,
    /// The sender of every email, as `Name <address>` or an address.
    pub from: String,
    /// `file`: where messages are written; `<storage.dir>/mail` when unset.
    pub mail_dir: Option<PathBuf>,
    /// Tries of one delivery before it is `failed`.
    pub max_attempts: u32,
    /// The wait before the second try; it doubles with each try after.
    pub retry_base_ms: u64,
    /// The longest wait between two tries.
    pub retry_max_ms: u64,
    /// How long a webhook's endpoint has to answer.
    pub webhook_timeout_ms: u64,
    /// Whether webhooks may post to loopback, private and link-local addresses. Off,
    /// a company's administrator cannot make Roster probe the network it runs in.
    pub webhook_private_networks: bool,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            email: EmailTransport::File,
            smtp_url: None,
            from: "Roster <roster@localhost>".to_owned(),
            mail_dir: None,
            max_attempts: 8,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            webhook_timeout_ms: 10_000,
            webhook_private_networks: false,
        }
    }
}

impl NotificationsConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.email == EmailTransport::Smtp && self.smtp_url.is_none() {
            return Err(ConfigError::new(
                "notifications.smtp_url",
                "required when notifications.email is smtp",
            ));
        }
        if !self.from.contains('@') {
            return Err(ConfigError::new(
                "notifications.from",
                "must be an email address, such as `Roster <hr@example.com>`",
            ));
        }
        for (key, value) in [
            ("notifications.max_attempts", u64::from(self.max_attempts)),
            ("notifications.retry_base_ms", self.retry_base_ms),
            ("notifications.webhook_timeout_ms", self.webhook_timeout_ms),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.retry_max_ms < self.retry_base_ms {
            return Err(ConfigError::new(
                "notifications.retry_max_ms",
                "must be at least notifications.retry_base_ms",
            ));
        }
        Ok(())
    }

    /// The wait after failed try number `attempt` (1 for the first): the base, doubled
    /// with each try, at most the maximum.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .retry_base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
        Duration::from_millis(doubled.min(self.retry_max_ms))
    }

    pub fn webhook_timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms)
    }
}
