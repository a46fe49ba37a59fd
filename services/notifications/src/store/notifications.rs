//! A person's notifications: written by the event handler, read and marked read by
//! their recipient only.

use roster_http::Cursor;
use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::notification;

/// A notification to write.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub company_id: Uuid,
    pub employee_id: Uuid,
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub event_id: Uuid,
}

/// Writes `notes` in the caller's transaction; one an event already gave its
/// recipient is not written again.
pub async fn insert_all(
    conn: &impl ConnectionTrait,
    notes: Vec<NewNotification>,
) -> Result<(), sea_orm::DbErr> {
    if notes.is_empty() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let rows = notes.into_iter().map(|n| notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(n.company_id),
        employee_id: Set(n.employee_id),
        kind: Set(n.kind.to_owned()),
        title: Set(n.title),
        body: Set(n.body),
        link: Set(n.link),
        event_id: Set(n.event_id),
        read_at: Set(None),
        created_at: Set(now),
    });
    notification::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                notification::Column::EventId,
                notification::Column::EmployeeId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

fn of(tenant: &Tenant, employee_id: Uuid) -> Select<notification::Entity> {
    notification::Entity::find()
        .filter(notification::Column::CompanyId.eq(tenant.company_id()))
        .filter(notification::Column::EmployeeId.eq(employee_id))
}

/// A page of `employee_id`'s notifications, oldest first; with `unread`, those not
/// read yet.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
    unread: bool,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<notification::Model>, StoreError> {
    let mut query = of(tenant, employee_id);
    if unread {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    Ok(cursor
        .page_by(query, notification::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// How many of `employee_id`'s notifications are not read yet.
pub async fn unread_count(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
) -> Result<u64, StoreError> {
    Ok(of(tenant, employee_id)
        .filter(notification::Column::ReadAt.is_null())
        .count(&db.read(tenant).await?)
        .await?)
}

/// Marks one of `employee_id`'s notifications read (reading it again changes nothing).
pub async fn mark_read(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    let found = of(tenant, employee_id)
        .filter(notification::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("notification"))?;
    if found.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::ReadAt,
                Expr::value(OffsetDateTime::now_utc()),
            )
            .filter(notification::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Up to `limit` of `employee_id`'s notifications with an id above `after`, oldest
/// first: what a stream has not shown yet.
pub async fn after(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
    after: Uuid,
    limit: u64,
) -> Result<Vec<notification::Model>, StoreError> {
    Ok(of(tenant, employee_id)
        .filter(notification::Column::Id.gt(after))
        .order_by_asc(notification::Column::Id)
        .limit(limit)
        .all(&db.read(tenant).await?)
        .await?)
}
