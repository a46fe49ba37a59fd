use std::time::Duration;

use serde::Deserialize;

use crate::{ConfigError, NatsUrl};

/// Which bus carries events between services.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusKind {
    /// In process: events reach the services hosted by the same process. Durable
    /// through the outboxes and inboxes. For `roster up`.
    #[default]
    Embedded,
    /// NATS JetStream: a stream per producing service, a durable consumer per
    /// consuming service. For services that run apart.
    Nats,
}

impl BusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Nats => "nats",
        }
    }
}

/// `[bus]`: the transport of events.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    pub kind: BusKind,
    /// NATS: the server; required when `kind` is `nats`.
    pub url: Option<NatsUrl>,
    /// NATS: the start of every stream, subject and consumer name, so that several
    /// installations can share one server.
    pub prefix: String,
    /// NATS: how long the server waits for an acknowledgement before it delivers a
    /// message again. Consumers report progress while they hold one longer.
    pub ack_wait_secs: u64,
    /// NATS: deliveries of one message before the server gives up on it; the
    /// consumer puts it in dead letters before that.
    pub max_deliver: i64,
    /// NATS: the stream's window for dropping a message published twice
    /// (`Nats-Msg-Id`, the event id).
    pub duplicate_window_secs: u64,
    /// NATS: how long a stream keeps events.
    pub stream_max_age_hours: u64,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            kind: BusKind::Embedded,
            url: None,
            prefix: "roster".to_owned(),
            ack_wait_secs: 10,
            max_deliver: 20,
            duplicate_window_secs: 120,
            stream_max_age_hours: 24 * 7,
        }
    }
}

impl BusConfig {
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.ack_wait_secs)
    }

    /// The longest time after publication that the bus may deliver an event again.
    pub fn redelivery_horizon(&self) -> Duration {
        match self.kind {
            BusKind::Embedded => Duration::ZERO,
            BusKind::Nats => Duration::from_secs(
                self.duplicate_window_secs
                    + self.ack_wait_secs * u64::try_from(self.max_deliver).unwrap_or(0),
            ),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.kind == BusKind::Nats && self.url.is_none() {
            return Err(ConfigError::new(
                "bus.url",
                "is required when bus.kind is nats (such as nats://127.0.0.1:4222)",
            ));
        }
        let name_ok = !self.prefix.is_empty()
            && self.prefix.len() <= 32
            && self
                .prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(ConfigError::new(
                "bus.prefix",
                "must be 1 to 32 letters, digits, `_` or `-`",
            ));
        }
        for (key, value) in [
            ("bus.ack_wait_secs", self.ack_wait_secs),
            ("bus.duplicate_window_secs", self.duplicate_window_secs),
            ("bus.stream_max_age_hours", self.stream_max_age_hours),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.max_deliver < 2 {
            return Err(ConfigError::new("bus.max_deliver", "must be at least 2"));
        }
        Ok(())
    }
}

/// `[events]`: outboxes, relays, consumers and their dead letters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// How often a relay looks at its outbox when nothing woke it.
    pub relay_poll_ms: u64,
    /// Events a relay publishes at once.
    pub relay_batch: u64,
    /// How long published events stay in the outbox (for `roster events replay`).
    pub outbox_retention_hours: u64,
    /// How long a consumer remembers the events it applied. Longer than the outbox
    /// retention and the bus's redelivery horizon, so nothing the bus or a replay may
    /// deliver again is forgotten.
    pub inbox_retention_hours: u64,
    /// Consumer workers per consuming service; one aggregate's events are applied in
    /// order whatever the number.
    pub workers: usize,
    /// Events a worker applies in one transaction.
    pub batch_size: usize,
    /// Attempts at an event before it goes to dead letters.
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles for each further one, up to 10 s.
    pub retry_backoff_ms: u64,
    /// How long a consumer holds an event whose predecessor in its aggregate has not
    /// arrived, before it applies it anyway and counts a gap.
    pub gap_timeout_secs: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            relay_poll_ms: 500,
            relay_batch: 500,
            outbox_retention_hours: 24 * 7,
            inbox_retention_hours: 24 * 14,
            workers: 4,
            batch_size: 100,
            max_attempts: 5,
            retry_backoff_ms: 100,
            gap_timeout_secs: 30,
        }
    }
}

impl EventsConfig {
    pub fn relay_poll(&self) -> Duration {
        Duration::from_millis(self.relay_poll_ms)
    }

    pub fn outbox_retention(&self) -> Duration {
        Duration::from_secs(self.outbox_retention_hours * 3600)
    }

    pub fn inbox_retention(&self) -> Duration {
        Duration::from_secs(self.inbox_retention_hours * 3600)
    }

    /// The wait before attempt `attempt` + 1 (the first attempt is 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .retry_backoff_ms
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        Duration::from_millis(doubled.min(10_000))
    }

    pub fn gap_timeout(&self) -> Duration {
        Duration::from_secs(self.gap_timeout_secs)
    }

    pub(crate) fn validate(&self, bus: &BusConfig) -> Result<(), ConfigError> {
        for (key, value) in [
            ("events.relay_poll_ms", self.relay_poll_ms),
            ("events.relay_batch", self.relay_batch),
            ("events.outbox_retention_hours", self.outbox_retention_hours),
            ("events.retry_backoff_ms", self.retry_backoff_ms),
            ("events.gap_timeout_secs", self.gap_timeout_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        for (key, value) in [
            ("events.workers", self.workers),
            ("events.batch_size", self.batch_size),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.max_attempts == 0 {
            return Err(ConfigError::new(
                "events.max_attempts",
                "must be greater than 0",
            ));
        }
        let horizon = self.outbox_retention().max(bus.redelivery_horizon());
        if self.inbox_retention() <= horizon {
            return Err(ConfigError::new(
                "events.inbox_retention_hours",
                format!(
                    "must be longer than the outbox retention and the bus's redelivery horizon ({} h)",
                    horizon.as_secs().div_ceil(3600)
                ),
            ));
        }
        Ok(())
    }
}
