use roster_contracts::Invalid;
use roster_http::{ApiError, FieldError};
use roster_storage::DbError;

/// What the people store answers when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// One or more values break a rule (422).
    #[error("invalid: {0:?}")]
    Invalid(Vec<Invalid>),
    /// A unique value is already used (409).
    #[error("{field}: {message}")]
    Taken {
        field: &'static str,
        message: &'static str,
    },
    /// Missing, or another company's (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<Invalid> for PeopleError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(vec![invalid])
    }
}

impl From<sea_orm::DbErr> for PeopleError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Db(error.into())
    }
}

impl From<PeopleError> for ApiError {
    fn from(error: PeopleError) -> Self {
        match error {
            PeopleError::Invalid(errors) => ApiError::invalid_fields(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(e.field, e.message))
                    .collect(),
            ),
            PeopleError::Taken { field, message } => ApiError::conflict(field, message),
            PeopleError::NotFound(what) => ApiError::not_found(format!("no such {what}")),
            PeopleError::Db(e) => e.into(),
            PeopleError::Internal(e) => ApiError::Internal(e),
        }
    }
}
