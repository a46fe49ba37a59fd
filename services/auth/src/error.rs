use roster_http::{ApiError, FieldError};
use roster_storage::DbError;

/// What the auth store answers when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// One or more values break a rule (422).
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The email is another account's (409).
    #[error("the email is taken")]
    EmailTaken,
    /// The id belongs to an account that was cancelled and cannot come back (409).
    #[error("the account was cancelled")]
    Cancelled,
    /// Missing (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AuthError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Db(error.into())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Invalid(errors) => ApiError::invalid_fields(errors),
            AuthError::EmailTaken => {
                ApiError::conflict("email", "another account already uses this email")
            }
            AuthError::Cancelled => ApiError::Conflict {
                detail: "this account id was cancelled and cannot be used again".to_owned(),
                errors: Vec::new(),
            },
            AuthError::NotFound(what) => ApiError::not_found(format!("no such {what}")),
            AuthError::Db(e) => e.into(),
            AuthError::Internal(e) => ApiError::Internal(e),
        }
    }
}
