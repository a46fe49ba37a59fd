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
    /// The database gave up on this transaction for a reason of the moment, not of the
    /// work: a deadlock, a serialization failure, a statement or lock timeout. The
    /// same work tried again succeeds (HTTP 503, retried by event consumers).
    #[error("transaction interrupted, try again: {0}")]
    Transient(String),
    #[error(transparent)]
    Other(DbErr),
}

impl DbError {
    /// Whether the same work tried again may well succeed: the database did not
    /// answer, or interrupted the transaction for a reason of the moment.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Transient(_))
    }

    /// Whether a unique violation concerns the named index or column list. PostgreSQL
    /// names the index; SQLite names the columns (`teams.company_id, teams.name`).
    pub fn is_unique_violation_of(&self, index: &str, columns: &str) -> bool {
        matches!(self, Self::UniqueViolation(what) if what.contains(index) || what.contains(columns))
    }
}

impl DbError {
    /// The class of `error` when it is one this type names (anything but `Other`),
    /// for code that holds a database error by reference (inside another error).
    pub fn class_of(error: &DbErr) -> Option<Self> {
        match error {
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => Some(Self::Unavailable(
                "no connection within the acquire timeout".to_owned(),
            )),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => {
                Some(Self::Unavailable("the connection closed".to_owned()))
            }
            DbErr::Conn(RuntimeErr::SqlxError(e))
            | DbErr::Exec(RuntimeErr::SqlxError(e))
            | DbErr::Query(RuntimeErr::SqlxError(e)) => classify(e),
            DbErr::Conn(_) => Some(Self::Unavailable(error.to_string())),
            _ => None,
        }
    }
}

impl DbError {
    /// The same class with the same words (anything but `Other`, whose database error
    /// cannot be copied), for code that holds this error by reference.
    pub fn class(&self) -> Option<Self> {
        match self {
            Self::Unavailable(why) => Some(Self::Unavailable(why.clone())),
            Self::UniqueViolation(what) => Some(Self::UniqueViolation(what.clone())),
            Self::ForeignKeyViolation(what) => Some(Self::ForeignKeyViolation(what.clone())),
            Self::Transient(why) => Some(Self::Transient(why.clone())),
            Self::Other(_) => None,
        }
    }
}

impl From<DbErr> for DbError {
    fn from(error: DbErr) -> Self {
        Self::class_of(&error).unwrap_or(Self::Other(error))
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
                // PostgreSQL serialization_failure, deadlock_detected, query_canceled
                // (a statement timeout) and lock_not_available (a lock timeout); SQLite
                // SQLITE_LOCKED and SQLITE_BUSY_SNAPSHOT.
                "40001" | "40P01" | "57014" | "55P03" | "6" | "517" => {
                    Some(DbError::Transient(db.message().to_owned()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}
