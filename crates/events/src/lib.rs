#![doc = include_str!("../README.md")]

mod catalog;
pub mod trace;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use catalog::{
    Account, CATALOG, Calendar, Checkin, Company, CompanySettings, Employee, Event, Holiday,
    LeaveRequest, Location, Removed, Task, Team,
};

/// What travels on the bus: one event and what every consumer needs to handle it
/// without reading its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// A UUID v7: unique, and ordered by the time it was made.
    pub id: Uuid,
    /// `<producer>.<aggregate>.<what happened>`, such as `people.employee.created`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The shape of the payload for this type.
    pub version: u16,
    pub aggregate_id: Uuid,
    /// The place of this event among its aggregate's: 1 for the first, then one more
    /// for each.
    pub sequence: u64,
    pub company_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The trace of the request that caused the event, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
    pub payload: Payload,
}

/// An event's payload as JSON text, read only by the consumer that decodes it (an
/// envelope passes through relays, buses and dead letters without being taken apart).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(Box<serde_json::value::RawValue>);

impl Payload {
    /// The payload of `value`. Payloads are plain structs of strings, numbers, dates
    /// and ids: they always serialise (the impossible case is `null`).
    pub fn of(value: &impl Serialize) -> Self {
        Self(
            serde_json::value::to_raw_value(value)
                .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned()),
        )
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

/// The W3C `traceparent` of the request that caused an event, and its request id, so a
/// consumer's work can be found from the request and the other way round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    pub traceparent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl TraceContext {
    /// The 32 hex digits of the trace id inside `traceparent` (`00-<trace>-<span>-<flags>`).
    pub fn trace_id(&self) -> Option<&str> {
        self.traceparent
            .split('-')
            .nth(1)
            .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

impl Envelope {
    /// The producing service: the first part of the type.
    pub fn producer(&self) -> &str {
        self.kind.split('.').next().unwrap_or_default()
    }

    /// The aggregate's kind (`people.employee`): the type without what happened. Ids
    /// are unique within a kind, not across kinds (an account has its employee's id).
    pub fn aggregate(&self) -> &str {
        self.kind
            .rsplit_once('.')
            .map_or(self.kind.as_str(), |(aggregate, _)| aggregate)
    }

    /// The envelope as JSON, as outboxes, dead letters and the bus carry it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            // An envelope is made of strings, numbers and a JSON value: it always
            // serialises; this only keeps the impossible case from panicking.
            format!("{{\"id\":\"{}\",\"error\":\"{e}\"}}", self.id)
        })
    }

    /// Reads an envelope back; a clear reason when the bytes are not one.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Undecodable> {
        serde_json::from_slice(bytes).map_err(|e| Undecodable::NotAnEnvelope(e.to_string()))
    }
}

/// Why a consumer cannot handle an event: it goes to dead letters with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undecodable {
    #[error("not an event envelope: {0}")]
    NotAnEnvelope(String),
    #[error("unknown event type {kind}: this version of Roster does not know it")]
    UnknownType { kind: String },
    #[error("{kind} version {version} is unknown: this version of Roster handles {known}")]
    UnknownVersion {
        kind: String,
        version: u16,
        known: String,
    },
    #[error("{kind} version {version} has a payload that does not fit it: {error}")]
    BadPayload {
        kind: String,
        version: u16,
        error: String,
    },
}

/// An event made by a producer, ready for its outbox: the producer's store builds it
/// inside the transaction that makes the change.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: Event,
    pub aggregate_id: Uuid,
    pub sequence: u64,
    pub company_id: Uuid,
}

/// The revision of an aggregate brought in by an import: its history was told where
/// it happened and it published no event here, so its first change here is published
/// as sequence 1, which consumers apply at once (as the successor of nothing).
pub const IMPORTED_REVISION: i64 = 0;

impl NewEvent {
    /// The event of an aggregate's change to `revision`, numbered by it. An aggregate
    /// made by the API is at revision 1 when made; one brought in by an import at
    /// [`IMPORTED_REVISION`].
    pub fn at_revision(revision: i64, event: Event, aggregate_id: Uuid, company_id: Uuid) -> Self {
        Self {
            event,
            aggregate_id,
            sequence: u64::try_from(revision).unwrap_or(0),
            company_id,
        }
    }

    /// Wraps the event in an envelope with a new id, now, and the trace given.
    pub fn into_envelope(self, trace: Option<TraceContext>) -> Envelope {
        let (kind, version, payload) = self.event.encode();
        Envelope {
            id: Uuid::now_v7(),
            kind: kind.to_owned(),
            version,
            aggregate_id: self.aggregate_id,
            sequence: self.sequence,
            company_id: self.company_id,
            occurred_at: OffsetDateTime::now_utc(),
            trace,
            payload,
        }
    }
}

fn payload<T: DeserializeOwned>(envelope: &Envelope) -> Result<T, Undecodable> {
    serde_json::from_str(envelope.payload.get()).map_err(|e| Undecodable::BadPayload {
        kind: envelope.kind.clone(),
        version: envelope.version,
        error: e.to_string(),
    })
}

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} v{} {} #{} company {}",
            self.kind, self.version, self.aggregate_id, self.sequence, self.company_id
        )
    }
}

#[cfg(test)]
mod tests;
