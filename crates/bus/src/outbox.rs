//! A producer's outbox: events are written in the transaction of the change that
//! caused them ([`record`]), and the relay publishes them after commit ([`commit`]
//! wakes it at once).

use roster_events::{Envelope, NewEvent};
use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::tables::outbox;

/// Writes `events` to the outbox within the caller's transaction, with the trace of
/// the work under way. Commit with [`commit`].
pub async fn record(
    txn: &impl ConnectionTrait,
    events: impl IntoIterator<Item = NewEvent>,
) -> Result<(), DbErr> {
    let trace = roster_events::trace::current();
    let envelopes: Vec<Envelope> = events
        .into_iter()
        .map(|event| event.into_envelope(trace.clone()))
        .collect();
    record_envelopes(txn, &envelopes).await
}

/// Writes envelopes made elsewhere (moved from another installation, or written by
/// a newer version of Roster) to the outbox as they are.
pub async fn record_envelopes(
    txn: &impl ConnectionTrait,
    envelopes: &[Envelope],
) -> Result<(), DbErr> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let rows = envelopes.iter().map(|envelope| outbox::ActiveModel {
        seq: NotSet,
        id: Set(envelope.id),
        kind: Set(envelope.kind.clone()),
        aggregate_id: Set(envelope.aggregate_id),
        company_id: Set(envelope.company_id),
        occurred_at: Set(envelope.occurred_at),
        envelope: Set(envelope.to_json()),
        published_at: Set(None),
        publications: Set(0),
    });
    outbox::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Commits a transaction that recorded events, then wakes the service's relay.
pub async fn commit(db: &ServiceDb, txn: DatabaseTransaction) -> Result<(), DbErr> {
    txn.commit().await?;
    db.outbox_signal().notify_one();
    Ok(())
}

/// An event waiting in the outbox: what a bus needs to publish it, taken from the
/// row's columns (the envelope travels as stored, read by each consumer).
#[derive(Debug, Clone)]
pub struct Pending {
    pub seq: i64,
    pub id: Uuid,
    /// The event's type.
    pub kind: String,
    pub occurred_at: OffsetDateTime,
    /// The envelope as stored, which is what the bus carries.
    pub json: bytes::Bytes,
    /// How many times it was published before (more than 0 after a replay).
    pub publications: i32,
}

impl Pending {
    /// `envelope` waiting at row `seq`, published `publications` times before.
    pub fn new(seq: i64, envelope: &Envelope, publications: i32) -> Self {
        Self {
            seq,
            id: envelope.id,
            kind: envelope.kind.clone(),
            occurred_at: envelope.occurred_at,
            json: envelope.to_json().into(),
            publications,
        }
    }

    /// The id the bus deduplicates on: the event id, and for a replay the replay's
    /// number too, so that a replay is not dropped as a duplicate of the first
    /// publication (consumers' inboxes still recognise the event).
    pub fn message_id(&self) -> String {
        match self.publications {
            0 => self.id.to_string(),
            n => format!("{}.replay-{n}", self.id),
        }
    }
}

impl std::fmt::Display for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.id)
    }
}

/// The envelope a row holds; a row written by hand that holds none is named in the
/// log and passed over.
fn envelope_of(db: &ServiceDb, row: &outbox::Model) -> Option<Envelope> {
    Envelope::from_json(row.envelope.as_bytes())
        .inspect_err(|e| {
            tracing::error!(service = db.service(), seq = row.seq, error = %e, "an outbox row holds no envelope; it is passed over");
        })
        .ok()
}

/// Up to `limit` unpublished events in outbox order, but those of `passing` (on their
/// way already). They are published as stored: a row that holds no envelope (written
/// by hand) reaches each consumer's dead letters with the reason.
pub(crate) async fn unpublished(
    db: &ServiceDb,
    limit: u64,
    passing: &std::collections::HashSet<i64>,
) -> Result<Vec<Pending>, DbError> {
    let txn = db.read(Scope::AllCompanies).await?;
    // Ordered as the (published_at, seq) index is, so the database reads the first
    // unpublished rows from it and stops at the limit, whatever the published rows
    // the retention keeps before them.
    let unpublished = || {
        outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .order_by_asc(outbox::Column::PublishedAt)
            .order_by_asc(outbox::Column::Seq)
    };
    let rows = if passing.is_empty() {
        unpublished().limit(limit).all(&txn).await?
    } else {
        // The rows' numbers first (from the index alone), then the rows not on their
        // way.
        let seqs: Vec<i64> = unpublished()
            .select_only()
            .column(outbox::Column::Seq)
            .limit(limit + passing.len() as u64)
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .filter(|seq| !passing.contains(seq))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        outbox::Entity::find()
            .filter(outbox::Column::Seq.is_in(seqs))
            .order_by_asc(outbox::Column::Seq)
            .all(&txn)
            .await?
    };
    Ok(rows
        .into_iter()
        .map(|row| Pending {
            seq: row.seq,
            id: row.id,
            kind: row.kind,
            occurred_at: row.occurred_at,
            json: row.envelope.into(),
            publications: row.publications,
        })
        .collect())
}

/// Marks events published, by their rows.
pub(crate) async fn mark_published(db: &ServiceDb, seqs: &[i64]) -> Result<(), DbError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::PublishedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .col_expr(
            outbox::Column::Publications,
            Expr::col(outbox::Column::Publications).add(1),
        )
        .filter(outbox::Column::Seq.is_in(seqs.iter().copied()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Marks every retained event that occurred at or after `from` unpublished, so the
/// relay publishes them again in their order; answers how many. Consumers that have
/// applied one already recognise it and change nothing.
pub async fn replay(db: &ServiceDb, from: OffsetDateTime) -> Result<u64, DbError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let marked = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::PublishedAt,
            Expr::value(None::<OffsetDateTime>),
        )
        .filter(outbox::Column::OccurredAt.gte(from))
        .filter(outbox::Column::PublishedAt.is_not_null())
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    db.outbox_signal().notify_one();
    Ok(marked)
}

/// How many events are not yet published.
pub async fn backlog(db: &ServiceDb) -> Result<u64, DbError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .count(&db.read(Scope::AllCompanies).await?)
        .await?)
}

/// Where `roster events tail` has read up to in one outbox: the publication time and
/// row of the last event shown.
pub type TailMark = (OffsetDateTime, i64);

/// Up to `limit` events published after `after` (all retained ones without it), in
/// the order they were published. Follows publication rather than `seq`, so an event
/// whose transaction committed late is shown when it is published, not skipped.
pub async fn published_after(
    db: &ServiceDb,
    after: Option<TailMark>,
    limit: u64,
) -> Result<Vec<(TailMark, Envelope)>, DbError> {
    let mut query = outbox::Entity::find().filter(outbox::Column::PublishedAt.is_not_null());
    if let Some((at, seq)) = after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(outbox::Column::PublishedAt.gt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(outbox::Column::PublishedAt.eq(at))
                        .add(outbox::Column::Seq.gt(seq)),
                ),
        );
    }
    let rows = query
        .order_by_asc(outbox::Column::PublishedAt)
        .order_by_asc(outbox::Column::Seq)
        .limit(limit)
        .all(&db.read(Scope::AllCompanies).await?)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some(((row.published_at?, row.seq), envelope_of(db, &row)?)))
        .collect())
}

/// When each event of type `kind` that occurred at `since` or later occurred, and when
/// it was last published: the relay's share of an event's way.
pub async fn published_since(
    db: &ServiceDb,
    kind: &str,
    since: OffsetDateTime,
) -> Result<Vec<(OffsetDateTime, OffsetDateTime)>, DbError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(kind))
        .filter(outbox::Column::OccurredAt.gte(since))
        .filter(outbox::Column::PublishedAt.is_not_null())
        .select_only()
        .columns([outbox::Column::OccurredAt, outbox::Column::PublishedAt])
        .into_tuple::<(OffsetDateTime, Option<OffsetDateTime>)>()
        .all(&db.read(Scope::AllCompanies).await?)
        .await?
        .into_iter()
        .filter_map(|(occurred, published)| Some((occurred, published?)))
        .collect())
}
