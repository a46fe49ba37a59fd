//! The sender: takes the deliveries that are due (across companies), sends each by
//! its channel and settles it, logging the attempt. It wakes when the consumer has
//! committed new notifications, and looks at least every second for deliveries due
//! again and for those another process queued; a delivery left `sending` by a
//! process that stopped is queued again after a lease.

pub mod mail;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use roster_config::NotificationsConfig;
use roster_secrets::DataKey;
use roster_storage::ServiceDb;
use time::OffsetDateTime;

use crate::store::deliveries::{self, Attempt, Channel, Status};
use crate::store::entities::delivery;
use crate::store::webhooks;
use mail::Mailer;
use webhook::Poster;

/// Metric: deliveries settled, by channel and the status they reached.
pub const DELIVERIES: &str = "roster_notifications_deliveries_total";

/// The context a webhook's secret is sealed under.
pub const SECRET_CONTEXT: &str = "notifications.webhook.secret";

/// Deliveries claimed at once.
const BATCH: u64 = 16;
/// The longest sleep between two looks at the queue.
const POLL: Duration = Duration::from_secs(1);
/// The shortest time between two looks when events keep arriving.
const GAP: Duration = Duration::from_millis(50);
/// How long a claimed delivery may stay `sending` before another sender takes it.
const LEASE: time::Duration = time::Duration::minutes(5);

/// Sends deliveries. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sender {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: ServiceDb,
    config: NotificationsConfig,
    mailer: Mailer,
    poster: Poster,
    data_key: DataKey,
}

impl Sender {
    pub fn new(
        db: ServiceDb,
        config: NotificationsConfig,
        mailer: Mailer,
        data_key: DataKey,
    ) -> anyhow::Result<Self> {
        let poster = Poster::new(&config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                config,
                mailer,
                poster,
                data_key,
            }),
        })
    }

    /// Sends what is due until the process stops.
    pub async fn run(self) {
        let inner = &self.inner;
        let mut applied = inner.db.watch_applied(GAP);
        let mut sweep = tokio::time::interval(Duration::from_secs(60));
        loop {
            match deliveries::claim_due(&inner.db, BATCH).await {
                Ok(batch) if !batch.is_empty() => {
                    futures::future::join_all(batch.iter().map(|d| self.deliver(d))).await;
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot read the queue of deliveries"),
            }
            let wait = match deliveries::next_due(&inner.db).await {
                Ok(Some(due)) => {
                    let left = (due - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
                    POLL.min(left.unsigned_abs())
                }
                _ => POLL,
            };
            tokio::select! {
                () = applied.wait(wait) => {}
                _ = sweep.tick() => self.requeue_abandoned().await,
            }
        }
    }

    async fn requeue_abandoned(&self) {
        let before = OffsetDateTime::now_utc() - LEASE;
        match deliveries::requeue_abandoned(&self.inner.db, before).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                requeued = n,
                "queued again deliveries a stopped sender had left"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot look for abandoned deliveries"),
        }
    }

    /// Sends one delivery and settles it.
    async fn deliver(&self, delivery: &delivery::Model) {
        let inner = &self.inner;
        let started = OffsetDateTime::now_utc();
        let attempt = match Channel::parse(&delivery.channel) {
            Some(Channel::Email) => {
                inner
                    .mailer
                    .send(&delivery.target, &delivery.subject, &delivery.body)
                    .await
            }
            Some(Channel::Webhook) => self.post(delivery).await,
            None => Attempt::Abandoned(format!("no channel `{}`", delivery.channel)),
        };
        let attempts = u32::try_from(delivery.attempts).unwrap_or(0) + 1;
        let retry_in = time::Duration::try_from(inner.config.backoff(attempts))
            .unwrap_or(time::Duration::HOUR);
        match deliveries::settle(
            &inner.db,
            delivery,
            started,
            attempt,
            inner.config.max_attempts,
            retry_in,
        )
        .await
        {
            Ok(status) => {
                metrics::counter!(DELIVERIES, "channel" => delivery.channel.clone(), "status" => status.as_str())
                    .increment(1);
                if matches!(status, Status::Failed | Status::Bounced) {
                    tracing::warn!(delivery_id = %delivery.id, channel = %delivery.channel, status = status.as_str(), attempts, "a notification could not be delivered");
                }
            }
            // Left `sending`: the sweep queues it again after the lease.
            Err(e) => {
                tracing::error!(delivery_id = %delivery.id, error = %e, "cannot record a delivery's attempt")
            }
        }
    }

    async fn post(&self, delivery: &delivery::Model) -> Attempt {
        let inner = &self.inner;
        let Some(id) = delivery.webhook_id else {
            return Attempt::Abandoned("no webhook".to_owned());
        };
        let hook = match webhooks::find(&inner.db, id).await {
            Ok(Some(hook)) => hook,
            Ok(None) => return Attempt::Abandoned("the webhook was deleted".to_owned()),
            Err(e) => return Attempt::Failed(format!("cannot read the webhook: {e}")),
        };
        let secret = match inner.data_key.open(SECRET_CONTEXT, &hook.sealed_secret) {
            Ok(secret) => secret,
            Err(e) => return Attempt::Abandoned(format!("cannot open the webhook's secret: {e}")),
        };
        inner
            .poster
            .post(
                &hook.url,
                &secret,
                delivery.id,
                &delivery.kind,
                delivery.body.clone(),
            )
            .await
    }
}
