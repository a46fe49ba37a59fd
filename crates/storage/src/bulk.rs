//! Writing many rows at once: imports and seeding.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait};

/// Rows per statement: within the bind limits of both backends (SQLite 32,766,
/// PostgreSQL 65,535) for tables of up to 60 columns.
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts `rows` a few hundred per statement, in the caller's transaction; answers
/// how many were written.
pub async fn insert_all<A>(conn: &impl ConnectionTrait, rows: Vec<A>) -> Result<u64, DbErr>
where
    A: ActiveModelTrait + Send,
{
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        written += A::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(written)
}
