use roster_http::{ApiError, FieldError};
use roster_storage::DbError;

use crate::domain::Invalid;

/// What the org store answers when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// One or more values break a rule (422).
    #[error("invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Invalid>),
    /// A unique value is already used in the company (409).
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
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<Invalid> for OrgError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(vec![invalid])
    }
}

impl From<sea_orm::DbErr> for OrgError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Db(error.into())
    }
}

impl From<OrgError> for ApiError {
    fn from(error: OrgError) -> Self {
        match error {
            OrgError::Invalid(errors) => ApiError::invalid_fields(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(e.field, e.message))
                    .collect(),
            ),
            OrgError::Taken { field, message } => ApiError::conflict(field, message),
            OrgError::Conflict(detail) => ApiError::Conflict {
                detail: detail.to_owned(),
                errors: Vec::new(),
            },
            OrgError::NotFound(what) => ApiError::not_found(format!("no such {what}")),
            OrgError::Db(e) => e.into(),
        }
    }
}
