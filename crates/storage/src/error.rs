use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

/// A database failure, classified once so that every service maps it the same way.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection within the acquire timeout, or the server went away: the caller
    /// may retry later (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write; carries the constraint (PostgreSQL) or
    /// the columns (SQLite) named by the database.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    #[error("foreign key constraint violated: {0}")]
    ForeignKeyViolation(String),
    #[error(transparent)]
    Other(DbErr),
}

impl DbError {
    /// Whether a unique violation concerns the named index or column list. PostgreSQL
    /// names the index; SQLite names the columns (`teams.company_id, teams.name`).
    /// Whether the database did not answer (the request may be retried).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    pub fn is_unique_violation_of(&self, index: &str, columns: &str) -> bool {
        matches!(self, Self::UniqueViolation(what) if what.contains(index) || what.contains(columns))
    }
}

impl From<DbErr> for DbError {
    fn from(error: DbErr) -> Self {
        match &error {
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => {
                Self::Unavailable("no connection within the acquire timeout".to_owned())
            }
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => {
                Self::Unavailable("the connection closed".to_owned())
            }
            DbErr::Conn(RuntimeErr::SqlxError(e))
            | DbErr::Exec(RuntimeErr::SqlxError(e))
            | DbErr::Query(RuntimeErr::SqlxError(e)) => classify(e).unwrap_or(Self::Other(error)),
            DbErr::Conn(_) => Self::Unavailable(error.to_string()),
            _ => Self::Other(error),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        classify(&error)
            .unwrap_or_else(|| Self::Other(DbErr::Exec(RuntimeErr::Internal(error.to_string()))))
    }
}

fn classify(error: &sqlx::Error) -> Option<DbError> {
    match error {
        sqlx::Error::PoolTimedOut => Some(DbError::Unavailable(
            "no connection within the acquire timeout".to_owned(),
        )),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => Some(DbError::Unavailable(error.to_string())),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let what = || db.constraint().unwrap_or(db.message()).to_owned();
            match code.as_ref() {
                // PostgreSQL unique_violation; SQLite SQLITE_CONSTRAINT_UNIQUE and _PRIMARYKEY.
                "23505" | "2067" | "1555" => Some(DbError::UniqueViolation(what())),
                // PostgreSQL foreign_key_violation; SQLite SQLITE_CONSTRAINT_FOREIGNKEY.
                "23503" | "787" => Some(DbError::ForeignKeyViolation(what())),
                // PostgreSQL connection exceptions, a login refused (class 28), a
                // database gone (3D000) and operator intervention (shutdown, cannot
                // connect now): a pool reconnecting inside a query reports these as query
                // errors. SQLite SQLITE_BUSY after the busy timeout.
                c if c.starts_with("08")
                    || c.starts_with("28")
                    || c.starts_with("57P")
                    || c == "3D000"
                    || c == "5" =>
                {
                    Some(DbError::Unavailable(db.message().to_owned()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}
