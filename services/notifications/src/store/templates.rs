//! Each company's own wording of a kind of notification; a kind it has not worded
//! uses the default (`render`).

use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::template;
use crate::render::Template;

/// A title and body to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wording {
    pub title: String,
    pub body: String,
    /// Whether the company wrote it (rather than the default).
    pub custom: bool,
}

impl Wording {
    fn default_of(template: &Template) -> Self {
        Self {
            title: template.title.to_owned(),
            body: template.body.to_owned(),
            custom: false,
        }
    }
}

impl From<template::Model> for Wording {
    fn from(row: template::Model) -> Self {
        Self {
            title: row.title,
            body: row.body,
            custom: true,
        }
    }
}

/// How `company_id` words `template`'s kind, in the caller's transaction.
pub async fn wording(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    template: &Template,
) -> Result<Wording, sea_orm::DbErr> {
    Ok(template::Entity::find()
        .filter(template::Column::CompanyId.eq(company_id))
        .filter(template::Column::Kind.eq(template.kind))
        .one(conn)
        .await?
        .map_or_else(|| Wording::default_of(template), Wording::from))
}

/// Every kind's wording in the company, in the order of `kinds`.
pub async fn all(
    db: &ServiceDb,
    tenant: &Tenant,
    kinds: &[&Template],
) -> Result<Vec<(&'static str, Wording)>, StoreError> {
    let mut own = template::Entity::find()
        .filter(template::Column::CompanyId.eq(tenant.company_id()))
        .order_by_asc(template::Column::Kind)
        .all(&db.read(tenant).await?)
        .await?;
    Ok(kinds
        .iter()
        .map(|t| {
            let wording = own
                .iter()
                .position(|row| row.kind == t.kind)
                .map_or_else(|| Wording::default_of(t), |i| own.swap_remove(i).into());
            (t.kind, wording)
        })
        .collect())
}

/// Keeps the company's wording of `template`'s kind (checked by the caller).
pub async fn put(
    db: &ServiceDb,
    tenant: &Tenant,
    template: &Template,
    title: String,
    body: String,
    by: Uuid,
) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    let now = OffsetDateTime::now_utc();
    template::Entity::insert(template::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        kind: Set(template.kind.to_owned()),
        title: Set(title),
        body: Set(body),
        updated_by: Set(Some(by)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([template::Column::CompanyId, template::Column::Kind])
            .update_columns([
                template::Column::Title,
                template::Column::Body,
                template::Column::UpdatedBy,
                template::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Goes back to the default wording of `template`'s kind.
pub async fn reset(db: &ServiceDb, tenant: &Tenant, template: &Template) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    template::Entity::delete_many()
        .filter(template::Column::CompanyId.eq(tenant.company_id()))
        .filter(template::Column::Kind.eq(template.kind))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
