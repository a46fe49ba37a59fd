#![doc = include_str!("../README.md")]

mod bus;
mod consumer;
pub mod dead;
mod embedded;
pub mod inbox;
pub mod metrics;
mod nats;
pub mod outbox;
mod relay;
mod tables;

pub use bus::{Acknowledge, Bus, Delivery, Handed};
pub use consumer::{Consumer, Handler, Retried, RetryError, in_event_scope};
pub use embedded::EmbeddedBus;
pub use nats::NatsBus;
pub use relay::Relay;
pub use tables::{CONSUMER_RETAINED, PRODUCER_RETAINED, inbox_migrations, outbox_migrations};
