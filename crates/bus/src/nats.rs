//! The NATS JetStream bus. Each producing service has a stream,
//! `<prefix>_<producer>`, holding the subjects `<prefix>.<producer>.>` (an event's
//! subject is `<prefix>.<producer>.<type>`); each consuming service has a durable pull consumer
//! on it, `<prefix>_<consumer>`, with explicit acknowledgement and bounded
//! redelivery with backoff. Streams and consumers are created or updated at start.
//! A publication carries the event id as `Nats-Msg-Id`, so the stream drops one
//! published twice within its duplicate window; the consumers' inboxes drop the rest.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::message::{AckKind, PublishMessage};
use async_nats::jetstream::stream::{Config as StreamConfig, StorageType};
use async_nats::jetstream::{self, Context};
use async_trait::async_trait;
use futures::StreamExt;
use roster_config::{BusConfig, BusKind};
use tokio::sync::{Notify, mpsc};

use crate::bus::{Acknowledge, Bus, Delivery, Handed};
use crate::outbox::Pending;

/// Messages a consumer asks the server for at once.
const PULL_BATCH: usize = 500;
/// Unacknowledged messages the server lets one consumer hold.
const MAX_ACK_PENDING: i64 = 20_000;
/// How often an idle pull hears from the server, so a lost server is noticed.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// The longest wait between two attempts to set a consumer up again.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The longest wait between two attempts to reach a server that went away.
const MAX_RECONNECT_DELAY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct NatsBus {
    js: Context,
    config: BusConfig,
    /// Told each time the client (re)connects, so that consumers waiting to set up
    /// again do so at once.
    connected: Arc<Notify>,
}

impl NatsBus {
    /// Connects to the server named by `bus.url`; afterwards the client reconnects
    /// on its own whenever the server goes away.
    pub async fn connect(config: &BusConfig) -> anyhow::Result<Self> {
        let url = config
            .url
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("bus.url is not set"))?;
        let connected = Arc::new(Notify::new());
        let told = connected.clone();
        let client = async_nats::ConnectOptions::new()
            .name("roster")
            .connection_timeout(Duration::from_secs(5))
            // Soon after the server is back rather than up to the client's default
            // of four seconds: a refused connection costs nothing.
            .reconnect_delay_callback(|attempts| {
                let exponent = u32::try_from(attempts).unwrap_or(u32::MAX).min(10);
                (Duration::from_millis(10) * 2u32.pow(exponent)).min(MAX_RECONNECT_DELAY)
            })
            .event_callback(move |event| {
                let told = told.clone();
                async move {
                    if matches!(event, async_nats::Event::Connected) {
                        told.notify_waiters();
                    }
                }
            })
            .connect(url.expose().as_str())
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        Ok(Self {
            js: jetstream::new(client),
            config: config.clone(),
            connected,
        })
    }

    fn stream_name(&self, producer: &str) -> String {
        format!("{}_{producer}", self.config.prefix)
    }

    fn subject(&self, producer: &str, kind: &str) -> String {
        format!("{}.{producer}.{kind}", self.config.prefix)
    }

    /// Creates the producer's stream, or brings an existing one to this configuration.
    async fn ensure_stream(&self, producer: &str) -> anyhow::Result<String> {
        let name = self.stream_name(producer);
        self.js
            .create_or_update_stream(StreamConfig {
                name: name.clone(),
                subjects: vec![format!("{}.{producer}.>", self.config.prefix)],
                storage: StorageType::File,
                max_age: Duration::from_secs(self.config.stream_max_age_hours * 3600),
                duplicate_window: Duration::from_secs(self.config.duplicate_window_secs),
                ..Default::default()
            })
            .await
            .map_err(|e| anyhow::anyhow!("stream {name}: {e}"))?;
        Ok(name)
    }

    fn consumer_config(&self, consumer: &str) -> pull::Config {
        let ack_wait = self.config.ack_wait();
        // Each redelivery waits longer: ack_wait, then twice, four times... up to a
        // minute, one step per delivery the server makes.
        let steps = usize::try_from(self.config.max_deliver).unwrap_or(1);
        let backoff = (0..steps)
            .map(|n| (ack_wait * 2u32.saturating_pow(n as u32)).min(Duration::from_secs(60)))
            .collect();
        pull::Config {
            durable_name: Some(format!("{}_{consumer}", self.config.prefix)),
            description: Some(format!("roster: {consumer}")),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait,
            max_deliver: self.config.max_deliver,
            backoff,
            max_ack_pending: MAX_ACK_PENDING,
            ..Default::default()
        }
    }

    /// Creates the producer's stream and the consumer's durable pull consumer on it,
    /// or brings them to this configuration.
    async fn consumer(
        &self,
        consumer: &'static str,
        producer: &'static str,
    ) -> anyhow::Result<PullConsumer> {
        let stream = self.ensure_stream(producer).await?;
        self.js
            .create_consumer_on_stream(self.consumer_config(consumer), stream.as_str())
            .await
            .map_err(|e| anyhow::anyhow!("consumer {consumer} on {stream}: {e}"))
    }

    /// Pulls the consumer's messages into `sink` until the sink closes; fails when the
    /// server or the consumer goes away.
    async fn pull(
        consumer: &'static str,
        pull: PullConsumer,
        sink: &mpsc::Sender<Delivery>,
    ) -> anyhow::Result<()> {
        let mut messages = pull
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .heartbeat(HEARTBEAT)
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("consumer {consumer}: {e}"))?;
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                () = sink.closed() => return Ok(()),
            };
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(e)) => anyhow::bail!("consumer {consumer}: {e}"),
                None => anyhow::bail!("consumer {consumer}: the server ended it"),
            };
            let redelivered = message.info().is_ok_and(|info| info.delivered > 1);
            let delivery = Delivery::new(
                message.payload.clone(),
                redelivered,
                Box::new(Acked(message)),
            );
            if sink.send(delivery).await.is_err() {
                return Ok(());
            }
        }
    }
}

struct Acked(jetstream::Message);

#[async_trait]
impl Acknowledge for Acked {
    async fn ack(self: Box<Self>) {
        // A lost acknowledgement means one more delivery, which the inbox absorbs.
        if let Err(e) = self.0.ack().await {
            tracing::debug!(error = %e, "cannot acknowledge a message; it will be delivered again");
        }
    }

    async fn in_progress(&self) {
        let _ = self.0.ack_with(AckKind::Progress).await;
    }
}

#[async_trait]
impl Bus for NatsBus {
    fn kind(&self) -> BusKind {
        BusKind::Nats
    }

    async fn reconnected(&self) {
        self.connected.notified().await;
    }

    async fn declare(&self, producer: &'static str) -> anyhow::Result<()> {
        self.ensure_stream(producer).await.map(|_| ())
    }

    async fn publish(&self, producer: &'static str, events: &[Pending]) -> anyhow::Result<Handed> {
        let mut acks = Vec::with_capacity(events.len());
        for pending in events {
            let message = PublishMessage::build()
                .payload(pending.json.clone())
                .message_id(pending.message_id());
            let ack = self
                .js
                .send_publish(self.subject(producer, &pending.kind), message)
                .await
                .map_err(|e| anyhow::anyhow!("publishing {pending}: {e}"))?;
            acks.push(std::future::IntoFuture::into_future(ack));
        }
        for ack in futures::future::join_all(acks).await {
            ack.map_err(|e| anyhow::anyhow!("the stream did not take an event: {e}"))?;
        }
        Ok(Handed::Held)
    }

    async fn subscribe(
        &self,
        consumer: &'static str,
        producer: &'static str,
        sink: mpsc::Sender<Delivery>,
    ) -> anyhow::Result<()> {
        // Set up here, so that a misconfiguration stops the start; set up again
        // whenever the pull fails (the server restarted, say).
        let mut ready = Some(self.consumer(consumer, producer).await?);
        let bus = self.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(100);
            loop {
                let started = std::time::Instant::now();
                let pulled = match ready.take() {
                    Some(pull) => Ok(pull),
                    None => bus.consumer(consumer, producer).await,
                };
                let result = match pulled {
                    Ok(pull) => Self::pull(consumer, pull, &sink).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(consumer, producer, error = %e, retry_in_ms = wait.as_millis() as u64, "lost the event stream; setting it up again");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = bus.reconnected() => {}
                    () = sink.closed() => return,
                }
                wait = match started.elapsed() > MAX_RETRY * 2 {
                    // It had worked for a while: this is a new outage.
                    true => Duration::from_millis(100),
                    false => (wait * 2).min(MAX_RETRY),
                };
            }
        });
        Ok(())
    }
}
