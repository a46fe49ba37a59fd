//! The org service's queries. Every function over tenant data takes a [`Tenant`] and
//! filters on its company; writes run in one write transaction each.

pub mod calendars;
pub mod companies;
pub mod entities;
mod events;

pub use events::sources;
pub mod locations;
pub mod teams;

use roster_storage::Tenant;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use time::OffsetDateTime;

use entities::company;
use roster_storage::StoreError;

/// Locks the tenant's company row for the rest of the transaction, serialising the
/// company's structural writes (the team tree, the default calendar). On SQLite the
/// immediate transaction already holds the write lock.
async fn lock_company(
    txn: &impl ConnectionTrait,
    tenant: &Tenant,
) -> Result<company::Model, StoreError> {
    company::Entity::find_by_id(tenant.company_id())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound("company"))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
