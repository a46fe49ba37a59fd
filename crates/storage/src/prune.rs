//! Records kept only for a while: what a service declares of them ([`Retained`]), and
//! how the host deletes those past their retention, a batch per transaction, so that
//! pruning a large backlog never holds a long transaction (on SQLite, the one writer)
//! or a large lock.

use std::time::Duration;

use roster_config::Config;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Order};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{DbError, Scope, ServiceDb};

/// A table whose rows a service keeps only for a while after they are finished with.
#[derive(Debug, Clone, Copy)]
pub struct Retained {
    pub table: &'static str,
    /// The column of a row's key (a UUID).
    pub key: &'static str,
    /// Which rows are finished with, and were so before `cutoff`.
    pub finished_before: fn(OffsetDateTime) -> Condition,
    /// How long they are kept (a `[retention]` setting, or `[events]`' for the
    /// tables of events).
    pub keep: fn(&Config) -> Duration,
    /// Rows of other tables that go with a row of this one: (table, column holding
    /// its key). Deleted first, in the same transaction.
    pub with: &'static [(&'static str, &'static str)],
}

/// The rows whose `column` holds a moment before `cutoff` (never those where it is
/// empty): the usual `Retained::finished_before`.
pub fn before(column: &'static str, cutoff: OffsetDateTime) -> Condition {
    Condition::all().add(Expr::col(Alias::new(column)).lt(cutoff))
}

/// Deletes the rows of `retained` finished with for longer than it keeps them, `batch`
/// rows per transaction, until none is left; answers how many. Each batch is found by
/// a read, so a table with nothing to prune never takes the write lock (on SQLite, the
/// one writer); the deletes name the condition again, so a row that changed since
/// (a position an event moved) stays, and so do the rows that go with it.
pub async fn prune(db: &ServiceDb, retained: &Retained, config: &Config) -> Result<u64, DbError> {
    let cutoff = OffsetDateTime::now_utc() - (retained.keep)(config);
    let batch = config.retention.batch;
    let mut total = 0;
    loop {
        let found = Query::select()
            .column(Alias::new(retained.key))
            .from(Alias::new(retained.table))
            .cond_where((retained.finished_before)(cutoff))
            .order_by(Alias::new(retained.key), Order::Asc)
            .limit(batch)
            .to_owned();
        let keys: Vec<Uuid> = db
            .read(Scope::AllCompanies)
            .await?
            .query_all(&found)
            .await?
            .iter()
            .map(|row| row.try_get_by_index(0))
            .collect::<Result<_, _>>()?;
        if keys.is_empty() {
            return Ok(total);
        }
        // The batch's rows that are still finished with: a key is an id, which in a
        // table of several kinds of things (positions in aggregates of each kind) may
        // name more than one row.
        let still = Query::select()
            .column(Alias::new(retained.key))
            .from(Alias::new(retained.table))
            .and_where(Expr::col(Alias::new(retained.key)).is_in(keys.iter().copied()))
            .cond_where((retained.finished_before)(cutoff))
            .to_owned();
        let txn = db.begin_write(Scope::AllCompanies).await?;
        for (table, column) in retained.with {
            let children = Query::delete()
                .from_table(Alias::new(*table))
                .and_where(Expr::col(Alias::new(*column)).in_subquery(still.clone()))
                .to_owned();
            txn.execute(&children).await?;
        }
        let rows = Query::delete()
            .from_table(Alias::new(retained.table))
            .and_where(Expr::col(Alias::new(retained.key)).is_in(keys.iter().copied()))
            .cond_where((retained.finished_before)(cutoff))
            .to_owned();
        total += txn.execute(&rows).await?.rows_affected();
        txn.commit().await?;
        if (keys.len() as u64) < batch {
            return Ok(total);
        }
        // Writers waiting for the database go first.
        tokio::task::yield_now().await;
    }
}
