use std::collections::BTreeMap;

use roster_storage::{Backend, DbError, Scope, ServiceDb};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::SchemaManager;
use time::OffsetDateTime;

use crate::Migrations;

/// Applies and reverts one service's migrations in its own database.
pub struct Migrator<'a> {
    db: &'a ServiceDb,
    migrations: Migrations,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("service", &self.db.service())
            .field("migrations", &self.migrations.len())
            .finish()
    }
}

/// One migration as the database sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub name: String,
    pub applied_at: Option<OffsetDateTime>,
    /// False for a version the database records but this build does not have.
    pub known: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("migration {name} ({direction}) failed: {source}")]
    Failed {
        name: String,
        direction: &'static str,
        source: DbError,
    },
    #[error(
        "the database records migrations this build of Roster does not have ({}): it was migrated by a newer version",
        .0.join(", ")
    )]
    Unknown(Vec<String>),
}

const TABLE: &str = "schema_migrations";
const VERSION: &str = "version";
const APPLIED_AT: &str = "applied_at";
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version VARCHAR(255) NOT NULL PRIMARY KEY, \
     applied_at BIGINT NOT NULL)";

impl<'a> Migrator<'a> {
    pub fn new(db: &'a ServiceDb, migrations: Migrations) -> Self {
        Self { db, migrations }
    }

    /// Every known migration in order with its state, then any the database records
    /// that this build does not know.
    pub async fn status(&self) -> Result<Vec<MigrationState>, MigrateError> {
        self.install().await?;
        let mut applied = applied(self.db.conn()).await?;
        let mut states: Vec<MigrationState> = self
            .migrations
            .iter()
            .map(|m| MigrationState {
                name: m.name().to_owned(),
                applied_at: applied.remove(m.name()),
                known: true,
            })
            .collect();
        states.extend(applied.into_iter().map(|(name, at)| MigrationState {
            name,
            applied_at: Some(at),
            known: false,
        }));
        Ok(states)
    }

    /// Applies pending migrations in order, at most `steps` of them; answers their
    /// names.
    #[tracing::instrument(skip(self), fields(service = self.db.service()))]
    pub async fn up(&self, steps: Option<u32>) -> Result<Vec<String>, MigrateError> {
        self.refuse_unknown().await?;
        let limit = steps.map_or(usize::MAX, |s| s as usize);
        let mut done = Vec::new();
        for migration in &self.migrations {
            if done.len() >= limit {
                break;
            }
            let name = migration.name();
            let failed = |source| MigrateError::Failed {
                name: name.to_owned(),
                direction: "up",
                source,
            };
            let txn = self.db.begin_write(Scope::AllCompanies).await?;
            lock(&txn, self.db.backend()).await?;
            if applied(&txn).await?.contains_key(name) {
                // Ended here, not on drop: a dropped transaction is rolled back only
                // when its connection is next used, and until then it holds the lock
                // (on SQLite, the write lock of the whole file).
                txn.rollback().await.map_err(DbError::from)?;
                continue;
            }
            migration
                .up(&SchemaManager::new(&txn))
                .await
                .map_err(|e| failed(e.into()))?;
            let record = Query::insert()
                .into_table(TABLE)
                .columns([VERSION, APPLIED_AT])
                .values_panic([
                    name.into(),
                    OffsetDateTime::now_utc().unix_timestamp().into(),
                ])
                .to_owned();
            txn.execute(&record).await.map_err(|e| failed(e.into()))?;
            txn.commit().await.map_err(|e| failed(e.into()))?;
            tracing::info!(migration = name, "applied");
            done.push(name.to_owned());
        }
        Ok(done)
    }

    /// Reverts applied migrations, newest first, at most `steps` of them; answers their
    /// names. Nothing applied is not an error: the answer is empty.
    #[tracing::instrument(skip(self), fields(service = self.db.service()))]
    pub async fn down(&self, steps: Option<u32>) -> Result<Vec<String>, MigrateError> {
        self.refuse_unknown().await?;
        let limit = steps.map_or(usize::MAX, |s| s as usize);
        let mut done = Vec::new();
        for migration in self.migrations.iter().rev() {
            if done.len() >= limit {
                break;
            }
            let name = migration.name();
            let failed = |source| MigrateError::Failed {
                name: name.to_owned(),
                direction: "down",
                source,
            };
            let txn = self.db.begin_write(Scope::AllCompanies).await?;
            lock(&txn, self.db.backend()).await?;
            if !applied(&txn).await?.contains_key(name) {
                txn.rollback().await.map_err(DbError::from)?;
                continue;
            }
            migration
                .down(&SchemaManager::new(&txn))
                .await
                .map_err(|e| failed(e.into()))?;
            let record = Query::delete()
                .from_table(TABLE)
                .and_where(Expr::col(VERSION).eq(name))
                .to_owned();
            txn.execute(&record).await.map_err(|e| failed(e.into()))?;
            txn.commit().await.map_err(|e| failed(e.into()))?;
            tracing::info!(migration = name, "reverted");
            done.push(name.to_owned());
        }
        Ok(done)
    }

    /// Names of the migrations not yet applied.
    pub async fn pending(&self) -> Result<Vec<String>, MigrateError> {
        Ok(self
            .status()
            .await?
            .into_iter()
            .filter(|s| s.applied_at.is_none())
            .map(|s| s.name)
            .collect())
    }

    async fn install(&self) -> Result<(), DbError> {
        self.db.conn().execute_unprepared(CREATE_TABLE).await?;
        Ok(())
    }

    async fn refuse_unknown(&self) -> Result<(), MigrateError> {
        let unknown: Vec<String> = self
            .status()
            .await?
            .into_iter()
            .filter(|s| !s.known)
            .map(|s| s.name)
            .collect();
        match unknown.is_empty() {
            true => Ok(()),
            false => Err(MigrateError::Unknown(unknown)),
        }
    }
}

/// Serialises migrators of the same schema. SQLite's `BEGIN IMMEDIATE` already holds
/// the write lock; PostgreSQL takes an advisory lock that the commit releases.
async fn lock(conn: &impl ConnectionTrait, backend: Backend) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        conn.execute_unprepared(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.schema_migrations'))",
        )
        .await?;
    }
    Ok(())
}

async fn applied(conn: &impl ConnectionTrait) -> Result<BTreeMap<String, OffsetDateTime>, DbError> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT version, applied_at FROM schema_migrations",
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let version: String = row.try_get_by_index(0)?;
            let at: i64 = row.try_get_by_index(1)?;
            let at = OffsetDateTime::from_unix_timestamp(at)
                .map_err(|e| DbErr::Custom(format!("schema_migrations.applied_at: {e}")))?;
            Ok((version, at))
        })
        .collect::<Result<_, DbErr>>()
        .map_err(DbError::from)
}
