//! Deliveries by email and webhook: queued in the transaction that records the event,
//! claimed by the sender (`queued -> sending`), then settled with one attempt logged
//! each time: `delivered`, `bounced` (the far end refuses for good), `queued` again
//! after a backoff, or `failed` once the tries are spent.

use roster_http::Cursor;
use roster_storage::StoreError;
use roster_storage::{DbError, Scope, ServiceDb, Tenant};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::{delivery, delivery_attempt};

/// Where a delivery goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Email, Self::Webhook]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Sending,
    Delivered,
    Failed,
    Bounced,
}

impl Status {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Sending,
        Self::Delivered,
        Self::Failed,
        Self::Bounced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Bounced => "bounced",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A delivery to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub company_id: Uuid,
    pub employee_id: Uuid,
    pub event_id: Uuid,
    pub kind: &'static str,
    pub channel: Channel,
    pub target: String,
    pub webhook_id: Option<Uuid>,
    pub subject: String,
    pub body: String,
}

/// Queues `deliveries` in the caller's transaction; one an event already queued is
/// not queued again.
pub async fn queue(
    conn: &impl ConnectionTrait,
    deliveries: Vec<NewDelivery>,
) -> Result<(), sea_orm::DbErr> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let rows = deliveries.into_iter().map(|d| delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(d.company_id),
        employee_id: Set(d.employee_id),
        event_id: Set(d.event_id),
        kind: Set(d.kind.to_owned()),
        channel: Set(d.channel.as_str().to_owned()),
        target: Set(d.target),
        webhook_id: Set(d.webhook_id),
        subject: Set(d.subject),
        body: Set(d.body),
        status: Set(Status::Queued.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    delivery::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                delivery::Column::EventId,
                delivery::Column::EmployeeId,
                delivery::Column::Channel,
                delivery::Column::Target,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Claims up to `limit` queued deliveries that are due, across companies: each moves
/// to `sending` for this sender alone (another that claims it at once finds it taken).
pub async fn claim_due(db: &ServiceDb, limit: u64) -> Result<Vec<delivery::Model>, DbError> {
    let now = OffsetDateTime::now_utc();
    let due = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(Status::Queued.as_str()))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::NextAttemptAt)
        .limit(limit)
        .all(&db.read(Scope::AllCompanies).await?)
        .await?;
    if due.is_empty() {
        return Ok(due);
    }
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let mut claimed = Vec::with_capacity(due.len());
    for mut row in due {
        let taken = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(Status::Sending.as_str()),
            )
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::Id.eq(row.id))
            .filter(delivery::Column::Status.eq(Status::Queued.as_str()))
            .exec(&txn)
            .await?
            .rows_affected;
        if taken == 1 {
            row.status = Status::Sending.as_str().to_owned();
            claimed.push(row);
        }
    }
    txn.commit().await?;
    Ok(claimed)
}

/// When the next queued delivery is due, if any is queued.
pub async fn next_due(db: &ServiceDb) -> Result<Option<OffsetDateTime>, DbError> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::Status.eq(Status::Queued.as_str()))
        .order_by_asc(delivery::Column::NextAttemptAt)
        .one(&db.read(Scope::AllCompanies).await?)
        .await?
        .map(|d| d.next_attempt_at))
}

/// Puts back in the queue deliveries left `sending` since before `before` by a
/// sender that stopped mid-way (they may go out twice: at least once, never lost).
pub async fn requeue_abandoned(db: &ServiceDb, before: OffsetDateTime) -> Result<u64, DbError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let requeued = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::Status,
            Expr::value(Status::Queued.as_str()),
        )
        .filter(delivery::Column::Status.eq(Status::Sending.as_str()))
        .filter(delivery::Column::UpdatedAt.lt(before))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(requeued)
}

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted; the far end's answer.
    Delivered(String),
    /// Refused for good (an SMTP 5xx, a webhook that is gone).
    Bounced(String),
    /// Failed for now; tried again after `retry_in` unless the tries are spent.
    Failed(String),
    /// Cannot ever succeed (the webhook was deleted): no more tries.
    Abandoned(String),
}

/// Logs attempt `delivery.attempts + 1` and moves the delivery on: `delivered`,
/// `bounced`, `queued` again in `retry_in` while fewer than `max_attempts` were made,
/// else `failed`. Answers the status it moved to.
pub async fn settle(
    db: &ServiceDb,
    delivery: &delivery::Model,
    started_at: OffsetDateTime,
    attempt: Attempt,
    max_attempts: u32,
    retry_in: time::Duration,
) -> Result<Status, DbError> {
    let now = OffsetDateTime::now_utc();
    let number = delivery.attempts + 1;
    let spent = u32::try_from(number).unwrap_or(u32::MAX) >= max_attempts;
    let (status, outcome, detail) = match attempt {
        Attempt::Delivered(detail) => (Status::Delivered, "delivered", detail),
        Attempt::Bounced(detail) => (Status::Bounced, "bounced", detail),
        Attempt::Abandoned(detail) => (Status::Failed, "failed", detail),
        Attempt::Failed(detail) if spent => (Status::Failed, "failed", detail),
        Attempt::Failed(detail) => (Status::Queued, "retry", detail),
    };
    let txn = db.begin_write(Scope::AllCompanies).await?;
    delivery_attempt::Entity::insert(delivery_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(delivery.company_id),
        delivery_id: Set(delivery.id),
        attempt: Set(number),
        started_at: Set(started_at),
        finished_at: Set(now),
        outcome: Set(outcome.to_owned()),
        detail: Set(Some(detail.clone())),
    })
    .exec_without_returning(&txn)
    .await?;
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status.as_str()))
        .col_expr(delivery::Column::Attempts, Expr::value(number))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now));
    update = match status {
        Status::Delivered => update
            .col_expr(delivery::Column::DeliveredAt, Expr::value(now))
            .col_expr(delivery::Column::LastError, Expr::value(None::<String>)),
        Status::Queued => update
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + retry_in))
            .col_expr(delivery::Column::LastError, Expr::value(detail)),
        _ => update.col_expr(delivery::Column::LastError, Expr::value(detail)),
    };
    update
        .filter(delivery::Column::Id.eq(delivery.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(status)
}

/// How the deliveries of every company stand, for `roster doctor`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// Failed or bounced since the time asked.
    pub failed: u64,
    pub bounced: u64,
    /// Queued and due since before the time asked: nobody is sending.
    pub overdue: u64,
}

/// How deliveries stand: those that failed or bounced since `since`, and those due
/// before `due_before` still queued.
pub async fn standing(
    db: &ServiceDb,
    since: OffsetDateTime,
    due_before: OffsetDateTime,
) -> Result<Standing, DbError> {
    let conn = db.read(Scope::AllCompanies).await?;
    let count = |status: Status, column: delivery::Column, bound: OffsetDateTime, after: bool| {
        let query = delivery::Entity::find().filter(delivery::Column::Status.eq(status.as_str()));
        match after {
            true => query.filter(column.gte(bound)),
            false => query.filter(column.lt(bound)),
        }
    };
    Ok(Standing {
        failed: count(Status::Failed, delivery::Column::UpdatedAt, since, true)
            .count(&conn)
            .await?,
        bounced: count(Status::Bounced, delivery::Column::UpdatedAt, since, true)
            .count(&conn)
            .await?,
        overdue: count(
            Status::Queued,
            delivery::Column::NextAttemptAt,
            due_before,
            false,
        )
        .count(&conn)
        .await?,
    })
}

/// Which deliveries a listing keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryFilter {
    pub status: Option<Status>,
    pub channel: Option<Channel>,
    pub employee_id: Option<Uuid>,
}

/// A page of the company's deliveries, oldest first.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    filter: DeliveryFilter,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<delivery::Model>, StoreError> {
    let mut query =
        delivery::Entity::find().filter(delivery::Column::CompanyId.eq(tenant.company_id()));
    if let Some(status) = filter.status {
        query = query.filter(delivery::Column::Status.eq(status.as_str()));
    }
    if let Some(channel) = filter.channel {
        query = query.filter(delivery::Column::Channel.eq(channel.as_str()));
    }
    if let Some(employee_id) = filter.employee_id {
        query = query.filter(delivery::Column::EmployeeId.eq(employee_id));
    }
    Ok(cursor
        .page_by(query, delivery::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// One of the company's deliveries with every attempt at it, first to last.
pub async fn with_attempts(
    db: &ServiceDb,
    tenant: &Tenant,
    id: Uuid,
) -> Result<(delivery::Model, Vec<delivery_attempt::Model>), StoreError> {
    let conn = db.read(tenant).await?;
    let found = delivery::Entity::find()
        .filter(delivery::Column::CompanyId.eq(tenant.company_id()))
        .filter(delivery::Column::Id.eq(id))
        .one(&conn)
        .await?
        .ok_or(StoreError::NotFound("delivery"))?;
    let attempts = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::CompanyId.eq(tenant.company_id()))
        .filter(delivery_attempt::Column::DeliveryId.eq(id))
        .order_by_asc(delivery_attempt::Column::Attempt)
        .all(&conn)
        .await?;
    Ok((found, attempts))
}
