//! The people service's queries. Every function over employees takes a [`Tenant`] and
//! filters on its company; writes run in one write transaction each.

pub mod employees;
pub mod entities;
pub mod sagas;

use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
