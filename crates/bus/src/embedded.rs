//! The embedded bus: events go from a producer's relay to the consuming services in
//! the same process. It keeps nothing itself: an event stays unpublished in its
//! outbox until every consumer in the process has applied it (or put it in dead
//! letters), so a crash at any point loses nothing, and the consumers' inboxes make
//! the delivery after a restart change nothing twice. Each consumer goes at its own
//! pace: the relay hands on the next events while earlier ones are still on their way
//! ([`Handed::OnTheirWay`]), so one consumer's retries, waits or outage hold up no
//! other's.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;
use roster_config::BusKind;
use tokio::sync::{mpsc, oneshot};

use crate::bus::{Acknowledge, Bus, Delivery, Handed};
use crate::outbox::Pending;

/// A consuming service and where its deliveries go.
type Sink = (&'static str, mpsc::Sender<Delivery>);

#[derive(Debug, Default)]
pub struct EmbeddedBus {
    /// Per producer, each consumer's sink.
    subscribers: RwLock<HashMap<&'static str, Vec<Sink>>>,
}

impl EmbeddedBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn sinks(&self, producer: &str) -> Vec<Sink> {
        self.subscribers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(producer)
            .cloned()
            .unwrap_or_default()
    }
}

struct Acked(oneshot::Sender<()>);

#[async_trait]
impl Acknowledge for Acked {
    async fn ack(self: Box<Self>) {
        let _ = self.0.send(());
    }

    async fn in_progress(&self) {}
}

#[async_trait]
impl Bus for EmbeddedBus {
    fn kind(&self) -> BusKind {
        BusKind::Embedded
    }

    async fn publish(&self, producer: &'static str, events: &[Pending]) -> anyhow::Result<Handed> {
        let sinks = self.sinks(producer);
        let mut applied = Vec::with_capacity(events.len() * sinks.len());
        for (consumer, sink) in &sinks {
            for pending in events {
                let (tx, rx) = oneshot::channel();
                let delivery = Delivery::new(
                    pending.json.clone(),
                    pending.publications > 0,
                    Box::new(Acked(tx)),
                );
                sink.send(delivery)
                    .await
                    .map_err(|_| anyhow::anyhow!("{consumer} has stopped consuming"))?;
                applied.push((*consumer, rx));
            }
        }
        Ok(Handed::OnTheirWay(Box::pin(async move {
            for (consumer, rx) in applied {
                rx.await.map_err(|_| {
                    anyhow::anyhow!(
                        "{consumer} released an event without applying it; it will be published again"
                    )
                })?;
            }
            Ok(())
        })))
    }

    async fn subscribe(
        &self,
        consumer: &'static str,
        producer: &'static str,
        sink: mpsc::Sender<Delivery>,
    ) -> anyhow::Result<()> {
        self.subscribers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(producer)
            .or_default()
            .push((consumer, sink));
        Ok(())
    }
}
