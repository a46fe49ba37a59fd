//! The company's registry of NFC tags: a check-in by tag must read one of these.

use roster_http::Cursor;
use roster_storage::StoreError;
use roster_storage::quota::Quota;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::nfc_tag;
use crate::domain::{Invalid, TagUid};

#[derive(Debug)]
pub struct NewTag {
    pub uid: TagUid,
    pub label: String,
    pub location_id: Option<Uuid>,
}

/// A company's tags, at most `quotas.nfc_tags`.
const NFC_TAGS: Quota = Quota {
    what: "nfc_tags",
    subject: "quota.nfc_tags",
};

/// Registers a tag, within the company's quota (`limit`); its location, if named,
/// must be one of the company's.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    new: NewTag,
    limit: u64,
) -> Result<nfc_tag::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let company_id = tenant.company_id();
    let held = nfc_tag::Entity::find().filter(nfc_tag::Column::CompanyId.eq(company_id));
    NFC_TAGS.check(&txn, company_id, limit, held).await?;
    if let Some(location_id) = new.location_id {
        let places = roster_replica::places(&txn, tenant.company_id()).await?;
        if !places.iter().any(|p| p.id == location_id) {
            return Err(
                Invalid::new("location_id", "no location of this company has this id").into(),
            );
        }
    }
    let tag = nfc_tag::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        uid: Set(new.uid.into_inner()),
        label: Set(new.label),
        location_id: Set(new.location_id),
        created_at: Set(OffsetDateTime::now_utc()),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        StoreError::taken(
            e,
            "idx_nfc_tags_company_id_uid",
            "nfc_tags.company_id, nfc_tags.uid",
            "uid",
            "a tag with this UID is registered already",
        )
    })?;
    txn.commit().await?;
    Ok(tag)
}

/// A page of the company's tags, in the order they were registered.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<nfc_tag::Model>, StoreError> {
    let query = nfc_tag::Entity::find().filter(nfc_tag::Column::CompanyId.eq(tenant.company_id()));
    Ok(cursor
        .page_by(query, nfc_tag::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// Takes a tag out of the registry; the check-ins made with it keep its id.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    let deleted = nfc_tag::Entity::delete_many()
        .filter(nfc_tag::Column::CompanyId.eq(tenant.company_id()))
        .filter(nfc_tag::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(StoreError::NotFound("tag"));
    }
    txn.commit().await?;
    Ok(())
}
