use std::fmt;

use roster_config::StorageConfig;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode,
    SqlxPostgresConnector, SqlxSqliteConnector, Statement, TransactionOptions, TransactionTrait,
};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::tenant::{ALL_COMPANIES_SETTING, COMPANY_SETTING};
use crate::{DbError, Location, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One of a service's tables, for `roster doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSize {
    pub name: String,
    /// Counted on SQLite; PostgreSQL's estimate from its statistics.
    pub rows: u64,
    /// On disk with its indexes, where the backend tells (PostgreSQL always; SQLite
    /// when built with its `dbstat` table).
    pub bytes: Option<u64>,
}

/// Connections in a service's pool, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub in_use: u32,
    pub idle: u32,
}

/// One service's database handle. Cheap to clone; every clone shares the pool.
#[derive(Clone)]
pub struct ServiceDb {
    service: &'static str,
    conn: DatabaseConnection,
    /// On SQLite, the one connection write transactions take turns on, so writers of
    /// this process queue in order instead of sleeping in SQLite's busy handler.
    writer: Option<DatabaseConnection>,
    backend: Backend,
    place: String,
    ping_timeout: std::time::Duration,
    outbox: std::sync::Arc<tokio::sync::Notify>,
    applied: std::sync::Arc<tokio::sync::watch::Sender<()>>,
}

impl fmt::Debug for ServiceDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceDb")
            .field("service", &self.service)
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

/// Each SQLite connection's page cache, in KiB (SQLite's own default is 2,000): one
/// process holds every service's pools, eleven connections each, and at SQLite's
/// default the caches alone reach 150 MiB once the files outgrow them. The operating
/// system's page cache keeps the files' hot pages anyway.
const SQLITE_CACHE_KIB: i64 = 512;

/// How long a PostgreSQL connection may have been idle and still be handed out
/// without a ping first. A connection back from a query moments ago is alive (and
/// sqlx pings each one as it is returned), so a busy pool spends no round trip of
/// a request on asking; one idle longer, as after a database restart, is asked.
const UNTESTED_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Rows SQLite's `ANALYZE` reads per index when it refreshes the planner's statistics:
/// estimates good enough to choose between indexes, in milliseconds on any file.
const SQLITE_ANALYSIS_LIMIT: u32 = 1000;

impl ServiceDb {
    /// Connects as the service. SQLite files are created when missing; PostgreSQL pools
    /// connect lazily, so a database that is down shows in readiness, not as a crash.
    pub async fn connect(
        service: &'static str,
        location: &Location,
        config: &StorageConfig,
    ) -> Result<Self, DbError> {
        let (conn, writer, backend, place) = match location {
            Location::Sqlite { path } => {
                // Readable by Roster's user only: the file made so before SQLite opens
                // it, and its journal files, which SQLite makes with the file's mode.
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::private_dir(dir).map_err(|e| {
                        DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let journals = ["-wal", "-shm"].map(|end| {
                    let mut name = path.as_os_str().to_owned();
                    name.push(end);
                    std::path::PathBuf::from(name)
                });
                crate::private_file(path)
                    .and_then(|()| journals.iter().try_for_each(|j| crate::narrow_file(j)))
                    .map_err(|e| {
                        DbError::Unavailable(format!("cannot create {}: {e}", path.display()))
                    })?;
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(config.busy_timeout())
                    .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(config.max_connections)
                    .acquire_timeout(config.acquire_timeout())
                    .connect_with(options.clone())
                    .await?;
                // A writer waits its turn here as long as it would have on the busy
                // timeout (which still covers writers in other processes).
                let writer = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(config.busy_timeout())
                    .connect_with(options)
                    .await?;
                (
                    SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
                    Some(SqlxSqliteConnector::from_sqlx_sqlite_pool(writer)),
                    Backend::Sqlite,
                    format!("sqlite {}", path.display()),
                )
            }
            Location::Postgres(pg) => {
                let pool = PgPoolOptions::new()
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= UNTESTED_IDLE {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .max_connections(config.max_connections)
                    .acquire_timeout(config.acquire_timeout())
                    .connect_lazy_with(pg.service_options(service));
                (
                    SqlxPostgresConnector::from_sqlx_postgres_pool(pool),
                    None,
                    Backend::Postgres,
                    format!(
                        "postgres database {} schema {} as {}",
                        pg.database, pg.schema, pg.role
                    ),
                )
            }
        };
        Ok(Self {
            service,
            conn,
            writer,
            backend,
            place,
            ping_timeout: config.acquire_timeout(),
            outbox: std::sync::Arc::default(),
            applied: std::sync::Arc::new(tokio::sync::watch::Sender::new(())),
        })
    }

    /// Takes the query planner's statistics of the service's tables afresh. Without
    /// them a planner guesses, and its guesses after a bulk import are ruinous: SQLite
    /// reads every row of a company by an index that only serves the ordering, and
    /// PostgreSQL, taking a fresh table for empty, nests loops over tens of thousands
    /// of rows (a department's month of attendance ran past 30 s before its tables
    /// were analyzed, 77 ms after). Run after bulk imports, and on SQLite when a
    /// service starts and hourly (PostgreSQL's autovacuum keeps them up to date
    /// otherwise).
    ///
    /// On SQLite each index is sampled at most [`SQLITE_ANALYSIS_LIMIT`] rows
    /// (milliseconds on any file), and the old statistics are dropped in the same
    /// transaction: that changes the schema, which is what has every connection of
    /// every process load the new ones (an `ANALYZE` alone reaches only its own).
    pub async fn refresh_statistics(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => {
                let txn = self.begin_write(Scope::AllCompanies).await?;
                txn.execute_unprepared(&format!(
                    "PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}; \
                     DROP TABLE IF EXISTS sqlite_stat1; \
                     ANALYZE"
                ))
                .await?;
                txn.commit().await?;
            }
            Backend::Postgres => {
                // Its own tables only: a plain ANALYZE would warn of every table it
                // may not analyze, other services' included where they share a database.
                let tables: Vec<String> = self
                    .conn
                    .query_all_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT format('%I.%I', schemaname, tablename) AS name \
                         FROM pg_tables WHERE tableowner = current_user",
                    ))
                    .await?
                    .iter()
                    .map(|row| row.try_get("", "name"))
                    .collect::<Result<_, _>>()?;
                if !tables.is_empty() {
                    self.conn
                        .execute_unprepared(&format!("ANALYZE {}", tables.join(", ")))
                        .await?;
                }
            }
        }
        Ok(())
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The service's tables with their rows and size, largest first.
    pub async fn table_sizes(&self) -> Result<Vec<TableSize>, DbError> {
        let conn = &self.conn;
        let mut tables = match self.backend {
            Backend::Postgres => conn
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT c.relname AS name, GREATEST(c.reltuples, 0)::bigint AS rows, \
                            pg_total_relation_size(c.oid) AS bytes \
                     FROM pg_class c WHERE c.relkind = 'r' \
                     AND pg_get_userbyid(c.relowner) = current_user",
                ))
                .await?
                .iter()
                .map(|row| {
                    Ok(TableSize {
                        name: row.try_get("", "name")?,
                        rows: u64::try_from(row.try_get::<i64>("", "rows")?).unwrap_or(0),
                        bytes: u64::try_from(row.try_get::<i64>("", "bytes")?).ok(),
                    })
                })
                .collect::<Result<Vec<_>, sea_orm::DbErr>>()?,
            Backend::Sqlite => {
                let names: Vec<String> = conn
                    .query_all_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT name FROM sqlite_schema WHERE type = 'table' \
                         AND name NOT LIKE 'sqlite_%'",
                    ))
                    .await?
                    .iter()
                    .map(|row| row.try_get("", "name"))
                    .collect::<Result<_, _>>()?;
                // Pages per table and its indexes, where SQLite was built with them.
                let pages: std::collections::HashMap<String, i64> = conn
                    .query_all_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        "SELECT coalesce(m.tbl_name, d.name) AS name, SUM(d.pgsize) AS bytes \
                         FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name \
                         GROUP BY 1",
                    ))
                    .await
                    .map(|rows| {
                        rows.iter()
                            .filter_map(|row| {
                                Some((
                                    row.try_get("", "name").ok()?,
                                    row.try_get("", "bytes").ok()?,
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut tables = Vec::with_capacity(names.len());
                for name in names {
                    let count = conn
                        .query_one_raw(Statement::from_string(
                            DbBackend::Sqlite,
                            format!("SELECT count(*) AS rows FROM {}", crate::ident(&name)),
                        ))
                        .await?
                        .map(|row| row.try_get::<i64>("", "rows"))
                        .transpose()?
                        .unwrap_or(0);
                    tables.push(TableSize {
                        bytes: pages.get(&name).and_then(|b| u64::try_from(*b).ok()),
                        rows: u64::try_from(count).unwrap_or(0),
                        name,
                    });
                }
                tables
            }
        };
        tables.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.rows.cmp(&a.rows)));
        Ok(tables)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the data lives, for operators: never carries a password.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// The connection outside any transaction, for tables that belong to no company
    /// (signing keys, the migration ledger). In the PostgreSQL modes it sees no row of
    /// a tenant table: those are read through [`ServiceDb::read`].
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Starts a transaction for reads in `scope`: its queries see one consistent state.
    pub async fn read(&self, scope: impl Into<Scope>) -> Result<DatabaseTransaction, DbError> {
        let txn = self.conn.begin().await?;
        self.enter(&txn, scope.into()).await?;
        Ok(txn)
    }

    /// Starts a write transaction in `scope`. On SQLite it runs on the process's one
    /// writing connection and takes the write lock at once (`BEGIN IMMEDIATE`): writers
    /// queue for that connection in order, and a writer in another process is waited
    /// for on the busy timeout, never failing because a read lock cannot be upgraded.
    pub async fn begin_write(
        &self,
        scope: impl Into<Scope>,
    ) -> Result<DatabaseTransaction, DbError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend == Backend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let conn = self.writer.as_ref().unwrap_or(&self.conn);
        let txn = conn.begin_with_options(options).await?;
        self.enter(&txn, scope.into()).await?;
        Ok(txn)
    }

    /// Sets the transaction's scope for the row-level security policies (PostgreSQL);
    /// both settings end with the transaction, so a pooled connection keeps none.
    async fn enter(&self, txn: &DatabaseTransaction, scope: Scope) -> Result<(), DbError> {
        if self.backend == Backend::Postgres {
            let (company, all) = scope.settings();
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!(
                    "SELECT set_config('{COMPANY_SETTING}', $1, true), \
                            set_config('{ALL_COMPANIES_SETTING}', $2, true)"
                ),
                [company.into(), all.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Raised after a transaction that wrote to the service's outbox commits, so its
    /// relay publishes at once rather than at its next poll. Shared by every clone.
    pub fn outbox_signal(&self) -> &tokio::sync::Notify {
        &self.outbox
    }

    /// Raised after this process's consumer commits the effects of events, so what
    /// shows them (a notification stream, a sender) looks again at once. Shared by
    /// every clone; [`ServiceDb::watch_applied`] waits for it.
    pub fn applied_signal(&self) -> &tokio::sync::watch::Sender<()> {
        &self.applied
    }

    /// Waits for the applied signal, looking at most once per `gap`: under a burst of
    /// commits (thousands a second while a backlog drains) a waiter looks a few times
    /// a second rather than once per commit.
    pub fn watch_applied(&self, gap: std::time::Duration) -> AppliedWatch {
        AppliedWatch {
            signal: self.applied.subscribe(),
            gap,
            last: tokio::time::Instant::now(),
        }
    }

    /// Answers within the acquire timeout whether the database takes queries.
    pub async fn ping(&self) -> Result<(), DbError> {
        match tokio::time::timeout(self.ping_timeout, self.conn.ping()).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(DbError::Unavailable(format!(
                "no answer within {} ms",
                self.ping_timeout.as_millis()
            ))),
        }
    }

    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = match self.backend {
            Backend::Sqlite => [Some(&self.conn), self.writer.as_ref()]
                .into_iter()
                .flatten()
                .map(|conn| {
                    let pool = conn.get_sqlite_connection_pool();
                    (pool.size(), pool.num_idle())
                })
                .fold((0, 0), |(size, idle), (s, i)| (size + s, idle + i)),
            Backend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        PoolStats {
            in_use: size.saturating_sub(idle),
            idle,
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            let _ = writer.close_by_ref().await;
        }
        let _ = self.conn.close_by_ref().await;
    }
}

/// A waiter on [`ServiceDb::applied_signal`] that looks at most once per gap.
#[derive(Debug)]
pub struct AppliedWatch {
    signal: tokio::sync::watch::Receiver<()>,
    gap: std::time::Duration,
    last: tokio::time::Instant,
}

impl AppliedWatch {
    /// Returns once events were applied since the last return (but not sooner than
    /// the gap after it), or after `poll` whatever happened.
    pub async fn wait(&mut self, poll: std::time::Duration) {
        tokio::select! {
            changed = self.signal.changed() => {
                if changed.is_ok() {
                    tokio::time::sleep_until(self.last + self.gap).await;
                } else {
                    tokio::time::sleep(poll).await;
                }
            }
            () = tokio::time::sleep(poll) => {}
        }
        self.last = tokio::time::Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use roster_config::StorageConfig;
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    use super::ServiceDb;
    use crate::Location;

    /// How SQLite plans one employee's teams on `db`, after a query that has the
    /// connection look at the schema as it is now. Each plan is asked in new words: a
    /// prepared `EXPLAIN` is never prepared again, so it would tell the first plan.
    async fn plan(db: &ServiceDb) -> String {
        static ASKED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let asked = ASKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let teams = "SELECT team_id FROM employee_teams \
                     WHERE company_id = 1 AND employee_id IN (5) ORDER BY team_id";
        db.conn()
            .execute_unprepared(teams)
            .await
            .expect("the query runs");
        let rows = db
            .conn()
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {teams} /* {asked} */"),
            ))
            .await
            .expect("the plan");
        rows.iter()
            .map(|row| row.try_get::<String>("", "detail").expect("a detail"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[tokio::test]
    async fn fresh_statistics_reach_the_connections_of_another_handle() {
        let dir = tempfile::tempdir().expect("a directory");
        let location = Location::Sqlite {
            path: dir.path().join("people.db"),
        };
        let config = StorageConfig {
            max_connections: 1,
            ..StorageConfig::default()
        };
        let serving = ServiceDb::connect("people", &location, &config)
            .await
            .expect("opens");
        serving
            .conn()
            .execute_unprepared(
                "CREATE TABLE employee_teams (employee_id INTEGER, team_id INTEGER, \
                     company_id INTEGER, PRIMARY KEY (employee_id, team_id)); \
                 CREATE INDEX idx_company_team ON employee_teams (company_id, team_id); \
                 WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) \
                 INSERT INTO employee_teams SELECT i, i % 100, 1 FROM n",
            )
            .await
            .expect("the table");
        // Without statistics SQLite reads the whole company by the ordering's index.
        let planned = plan(&serving).await;
        assert!(planned.contains("idx_company_team"), "{planned}");

        // Another handle, as `roster seed` is another process, takes them: once with
        // none yet, then again over those the serving handle holds.
        let seeding = ServiceDb::connect("people", &location, &config)
            .await
            .expect("opens");
        for _ in 0..2 {
            seeding.refresh_statistics().await.expect("analyzed");
            let planned = plan(&serving).await;
            assert!(planned.contains("sqlite_autoindex"), "{planned}");
            serving
                .conn()
                .execute_unprepared(
                    "UPDATE sqlite_stat1 SET stat = '20000 20000 1' WHERE idx LIKE 'sqlite_autoindex%'; \
                     ANALYZE sqlite_schema",
                )
                .await
                .expect("statistics that mislead");
            let planned = plan(&serving).await;
            assert!(planned.contains("idx_company_team"), "{planned}");
        }
        seeding.close().await;
        serving.close().await;
    }
}
