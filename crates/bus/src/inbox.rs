//! What a consumer's inbox tells about delivery: when each event it applied had
//! occurred and when it was applied, for `roster bench` and for operators.

use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use time::OffsetDateTime;

use crate::tables::inbox;

/// When each event of type `kind` that occurred at `since` or later and was applied
/// occurred (in the producer's transaction of the change) and was applied (in the
/// consumer's transaction of the effect).
pub async fn applied_since(
    db: &ServiceDb,
    kind: &str,
    since: OffsetDateTime,
) -> Result<Vec<(OffsetDateTime, OffsetDateTime)>, DbError> {
    Ok(inbox::Entity::find()
        .filter(inbox::Column::Kind.eq(kind))
        .filter(inbox::Column::OccurredAt.gte(since))
        .select_only()
        .columns([inbox::Column::OccurredAt, inbox::Column::AppliedAt])
        .into_tuple::<(OffsetDateTime, OffsetDateTime)>()
        .all(&db.read(Scope::AllCompanies).await?)
        .await?)
}

/// How many events of type `kind` that occurred at `since` or later were applied.
pub async fn count_since(
    db: &ServiceDb,
    kind: &str,
    since: OffsetDateTime,
) -> Result<u64, DbError> {
    Ok(inbox::Entity::find()
        .filter(inbox::Column::Kind.eq(kind))
        .filter(inbox::Column::OccurredAt.gte(since))
        .count(&db.read(Scope::AllCompanies).await?)
        .await?)
}
