//! What a service's store answers when it cannot do what was asked: the one error
//! every store function returns, which the HTTP layer turns into a problem.

use roster_contracts::Invalid;

use crate::DbError;

/// What a service's store answers when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// One or more values break a rule (422).
    #[error("invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Invalid>),
    /// A unique value is already used (409 on the field).
    #[error("{field}: {message}")]
    Taken {
        field: &'static str,
        message: &'static str,
    },
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(&'static str),
    /// Missing, or another company's (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The company holds as many of these as its quota allows (409).
    #[error("over the quota of {limit} {what}")]
    OverQuota { what: &'static str, limit: u64 },
    /// Visible to the caller, but not theirs to change (403).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl StoreError {
    /// Turns the violation of the unique index `index` (on `columns`, as SQLite names
    /// them) into a 409 on `field`; any other error passes through.
    pub fn taken(
        error: sea_orm::DbErr,
        index: &str,
        columns: &str,
        field: &'static str,
        message: &'static str,
    ) -> Self {
        match DbError::from(error) {
            e if e.is_unique_violation_of(index, columns) => Self::Taken { field, message },
            e => Self::Db(e),
        }
    }
}

impl From<Invalid> for StoreError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(vec![invalid])
    }
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Db(error.into())
    }
}
