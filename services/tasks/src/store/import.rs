//! Tasks kept elsewhere (a former system, or the history `roster seed` makes)
//! brought in, in bulk, as they now are. They publish no events: their assignees
//! were told, if ever, where the tasks came from. Each task is at
//! [`roster_events::IMPORTED_REVISION`], so its first change here is its first event.

use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::Set;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::task;
use crate::domain::Status;

/// A task as it stands, made at `created_at` and last changed at `updated_at`.
#[derive(Debug, Clone)]
pub struct PastTask {
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    pub assignee_id: Option<Uuid>,
    pub creator_id: Uuid,
    pub due_date: Option<Date>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Writes `tasks` of the company in one transaction; answers how many.
pub async fn tasks(
    db: &ServiceDb,
    tenant: &Tenant,
    tasks: Vec<PastTask>,
) -> Result<u64, StoreError> {
    let rows = tasks
        .into_iter()
        .map(|t| task::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(tenant.company_id()),
            title: Set(t.title),
            description: Set(t.description),
            status: Set(t.status),
            assignee_id: Set(t.assignee_id),
            creator_id: Set(t.creator_id),
            due_date: Set(t.due_date),
            created_at: Set(t.created_at),
            updated_at: Set(t.updated_at),
            revision: Set(roster_events::IMPORTED_REVISION),
        })
        .collect();
    let txn = db.begin_write(tenant).await?;
    let written = roster_storage::insert_all(&txn, rows).await?;
    txn.commit().await?;
    Ok(written)
}
