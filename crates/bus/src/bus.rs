//! What a bus is: it publishes a producer's events in order and delivers them to each
//! consuming service, which acknowledges each once it has applied it (or put it in
//! its dead letters).

use std::fmt;

use async_trait::async_trait;
use roster_config::BusKind;
use roster_events::{Envelope, Undecodable};
use tokio::sync::mpsc;

use crate::outbox::Pending;

/// A transport of events between services.
#[async_trait]
pub trait Bus: Send + Sync + fmt::Debug {
    fn kind(&self) -> BusKind;

    /// Prepares what a producer publishes into (a stream), before its relay runs.
    async fn declare(&self, _producer: &'static str) -> anyhow::Result<()> {
        Ok(())
    }

    /// Publishes `events` of `producer`, in the order given, and says when they may
    /// be marked published (see [`Handed`]).
    async fn publish(&self, producer: &'static str, events: &[Pending]) -> anyhow::Result<Handed>;

    /// Resolves the next time the bus connects to its server again, so that work
    /// waiting out a backoff after an outage resumes at once; never, for a bus with
    /// no server.
    async fn reconnected(&self) {
        std::future::pending::<()>().await;
    }

    /// Delivers every event of `producer` to `consumer` through `sink`, from the first
    /// the consumer has not acknowledged, until the bus stops.
    async fn subscribe(
        &self,
        consumer: &'static str,
        producer: &'static str,
        sink: mpsc::Sender<Delivery>,
    ) -> anyhow::Result<()>;
}

/// What a bus did with the events a relay gave it.
pub enum Handed {
    /// The bus holds them (a stream stored them): they are published.
    Held,
    /// They are on their way to each consuming service, which applies them at its own
    /// pace while the relay hands on the events after them. They are published once
    /// this resolves `Ok` (every consumer applied them, or put them in its dead
    /// letters); `Err` means a consumer let them go unapplied, so they are handed
    /// again.
    OnTheirWay(futures::future::BoxFuture<'static, anyhow::Result<()>>),
}

impl fmt::Debug for Handed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Held => "Held",
            Self::OnTheirWay(_) => "OnTheirWay",
        })
    }
}

/// One event delivered to a consumer.
pub struct Delivery {
    /// The envelope, or the bytes that arrived and why they are not one.
    pub envelope: Result<Envelope, Unreadable>,
    /// Whether the bus delivered it before without an acknowledgement.
    pub redelivered: bool,
    pub ack: Box<dyn Acknowledge>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("envelope", &self.envelope)
            .field("redelivered", &self.redelivered)
            .finish_non_exhaustive()
    }
}

/// Bytes a bus carried that are no envelope, kept for dead letters.
#[derive(Debug)]
pub struct Unreadable {
    pub reason: Undecodable,
    pub raw: bytes::Bytes,
}

impl Delivery {
    /// Reads a delivery from the bytes the bus carried.
    pub fn new(raw: bytes::Bytes, redelivered: bool, ack: Box<dyn Acknowledge>) -> Self {
        Self {
            envelope: Envelope::from_json(&raw).map_err(|reason| Unreadable { reason, raw }),
            redelivered,
            ack,
        }
    }
}

/// How a consumer tells the bus about one delivery.
#[async_trait]
pub trait Acknowledge: Send + Sync {
    /// The event is applied (or in dead letters): never deliver it again.
    async fn ack(self: Box<Self>);

    /// The consumer still holds the event (waiting its turn, or between attempts):
    /// do not deliver it again yet.
    async fn in_progress(&self);
}
