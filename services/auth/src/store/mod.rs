//! The auth service's queries. Accounts are found by email across companies (that is
//! what login is), so auth's tables are scoped by the account or session they belong
//! to; every write runs in one write transaction.

pub mod accounts;
pub mod entities;
pub mod keys;
pub mod sessions;

use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
