//! A consumer's dead letters: events it could not apply, kept with the error and the
//! attempts until they are retried or discarded (`roster events dead ...`).

use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::tables::dead_letter;

/// One dead letter.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub event_id: Uuid,
    pub kind: String,
    pub aggregate_id: Uuid,
    pub company_id: Uuid,
    pub error: String,
    pub attempts: i32,
    pub first_failed_at: OffsetDateTime,
    pub last_failed_at: OffsetDateTime,
    /// The event as it arrived.
    pub envelope: String,
}

impl From<dead_letter::Model> for DeadLetter {
    fn from(row: dead_letter::Model) -> Self {
        Self {
            event_id: row.event_id,
            kind: row.kind,
            aggregate_id: row.aggregate_id,
            company_id: row.company_id,
            error: row.error,
            attempts: row.attempts,
            first_failed_at: row.first_failed_at,
            last_failed_at: row.last_failed_at,
            envelope: row.envelope,
        }
    }
}

/// Every dead letter, oldest first.
pub async fn list(db: &ServiceDb) -> Result<Vec<DeadLetter>, DbError> {
    Ok(dead_letter::Entity::find()
        .order_by_asc(dead_letter::Column::FirstFailedAt)
        .all(&db.read(Scope::AllCompanies).await?)
        .await?
        .into_iter()
        .map(DeadLetter::from)
        .collect())
}

/// The dead letter with this event id, if there is one.
pub async fn find(db: &ServiceDb, event_id: Uuid) -> Result<Option<DeadLetter>, DbError> {
    Ok(dead_letter::Entity::find_by_id(event_id)
        .one(&db.read(Scope::AllCompanies).await?)
        .await?
        .map(DeadLetter::from))
}

/// How many dead letters there are.
pub async fn count(db: &ServiceDb) -> Result<u64, DbError> {
    Ok(dead_letter::Entity::find()
        .count(&db.read(Scope::AllCompanies).await?)
        .await?)
}

/// Forgets a dead letter; answers whether there was one with this id.
pub async fn discard(db: &ServiceDb, event_id: Uuid) -> Result<bool, DbError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let deleted = dead_letter::Entity::delete_by_id(event_id)
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(deleted == 1)
}
