//! A company's webhooks: where its notifications are posted, each signed with the
//! webhook's own secret, which is kept sealed with the installation's data key.

use roster_http::Cursor;
use roster_storage::StoreError;
use roster_storage::quota::Quota;
use roster_storage::{Scope, ServiceDb, Tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::webhook;

/// A webhook to register.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub sealed_secret: Vec<u8>,
    /// The kinds it receives; empty for every kind.
    pub kinds: Vec<String>,
    pub created_by: Uuid,
}

/// The kinds a webhook receives, as its row keeps them.
pub fn kinds_of(row: &webhook::Model) -> Vec<String> {
    row.kinds
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A company's webhooks, at most `quotas.webhooks`.
const WEBHOOKS: Quota = Quota {
    what: "webhooks",
    subject: "quota.webhooks",
};

/// Registers a webhook, within the company's quota (`limit`).
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    new: NewWebhook,
    limit: u64,
) -> Result<webhook::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let company_id = tenant.company_id();
    let held = webhook::Entity::find().filter(webhook::Column::CompanyId.eq(company_id));
    WEBHOOKS.check(&txn, company_id, limit, held).await?;
    let row = webhook::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        url: Set(new.url),
        sealed_secret: Set(new.sealed_secret),
        kinds: Set(new.kinds.join(",")),
        created_by: Set(new.created_by),
        created_at: Set(OffsetDateTime::now_utc()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A page of the company's webhooks, oldest first.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<webhook::Model>, StoreError> {
    let query = webhook::Entity::find().filter(webhook::Column::CompanyId.eq(tenant.company_id()));
    Ok(cursor
        .page_by(query, webhook::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// Removes a webhook; what was queued for it fails rather than leaves.
pub async fn delete(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    let deleted = webhook::Entity::delete_many()
        .filter(webhook::Column::CompanyId.eq(tenant.company_id()))
        .filter(webhook::Column::Id.eq(id))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        return Err(StoreError::NotFound("webhook"));
    }
    txn.commit().await?;
    Ok(())
}

/// The company's webhooks that receive `kind`, in the caller's transaction.
pub async fn receiving(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    kind: &str,
) -> Result<Vec<webhook::Model>, sea_orm::DbErr> {
    let all = webhook::Entity::find()
        .filter(webhook::Column::CompanyId.eq(company_id))
        .all(conn)
        .await?;
    Ok(all
        .into_iter()
        .filter(|row| {
            let kinds = kinds_of(row);
            kinds.is_empty() || kinds.iter().any(|k| k == kind)
        })
        .collect())
}

/// A webhook by id, whichever its company: for the sender of its deliveries.
pub async fn find(
    db: &ServiceDb,
    id: Uuid,
) -> Result<Option<webhook::Model>, roster_storage::DbError> {
    Ok(webhook::Entity::find_by_id(id)
        .one(&db.read(Scope::AllCompanies).await?)
        .await?)
}
