//! `[retention]`: how long records that are finished with are kept before the host
//! prunes them, a batch at a time.

use std::time::Duration;

use serde::Deserialize;

use crate::{ConfigError, EventsConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Sessions that ended (expired or revoked) this many days ago, with their refresh
    /// tokens.
    pub sessions_days: u64,
    /// Sagas that finished (done or failed) this many days ago: their plan holds the
    /// person's data and the sealed salary.
    pub sagas_days: u64,
    /// Email and webhook deliveries settled this many days ago, with their attempts.
    pub deliveries_days: u64,
    /// Notifications made this many days ago, read or not.
    pub notifications_days: u64,
    /// Accrual runs logged this many days ago.
    pub accrual_runs_days: u64,
    /// A consumer's position in an aggregate's events, when no event of it came for
    /// this many days: longer than the inbox is kept. An event of such an aggregate
    /// arriving later waits `events.gap_timeout_secs` for the ones before it.
    pub event_positions_days: u64,
    /// Rows deleted in one transaction.
    pub batch: u64,
    /// How often the host prunes, in minutes.
    pub every_minutes: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            sessions_days: 30,
            sagas_days: 30,
            deliveries_days: 90,
            notifications_days: 365,
            accrual_runs_days: 365,
            event_positions_days: 90,
            batch: 1000,
            every_minutes: 60,
        }
    }
}

fn days(days: u64) -> Duration {
    Duration::from_secs(days.saturating_mul(86_400))
}

impl RetentionConfig {
    pub fn sessions(&self) -> Duration {
        days(self.sessions_days)
    }

    pub fn sagas(&self) -> Duration {
        days(self.sagas_days)
    }

    pub fn deliveries(&self) -> Duration {
        days(self.deliveries_days)
    }

    pub fn notifications(&self) -> Duration {
        days(self.notifications_days)
    }

    pub fn accrual_runs(&self) -> Duration {
        days(self.accrual_runs_days)
    }

    pub fn event_positions(&self) -> Duration {
        days(self.event_positions_days)
    }

    pub fn every(&self) -> Duration {
        Duration::from_secs(self.every_minutes.saturating_mul(60))
    }

    pub(crate) fn validate(&self, events: &EventsConfig) -> Result<(), ConfigError> {
        for (key, value) in [
            ("retention.sessions_days", self.sessions_days),
            ("retention.sagas_days", self.sagas_days),
            ("retention.deliveries_days", self.deliveries_days),
            ("retention.notifications_days", self.notifications_days),
            ("retention.accrual_runs_days", self.accrual_runs_days),
            ("retention.event_positions_days", self.event_positions_days),
            ("retention.batch", self.batch),
            ("retention.every_minutes", self.every_minutes),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.event_positions() <= events.inbox_retention() {
            return Err(ConfigError::new(
                "retention.event_positions_days",
                format!(
                    "must be longer than the inbox is kept ({} h)",
                    events.inbox_retention_hours
                ),
            ));
        }
        Ok(())
    }
}
