//! The error policy.
//!
//! - Start-up and background jobs use `anyhow`: they either stop the process with one
//!   clear line or log and retry.
//! - The data layer returns typed errors: [`roster_storage::DbError`] from the database,
//!   and [`StoreError`] from every service's store, so a unique violation can become a
//!   409 on the field it concerns where it is understood.
//! - Handlers return [`ApiError`], the one type that maps to an HTTP status and an
//!   `application/problem+json` body. A client's mistake is never a 500.
//! - 5xx answers are logged in full, with the request id; their bodies say nothing
//!   about the inside (no SQL, no paths, no stack).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_contracts::Invalid;
use roster_storage::{DbError, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem, as every error answer carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem, such as `urn:roster:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The fields at fault, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One field at fault, named by its path in the body or query (`location.latitude`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What a handler answers when it cannot answer what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, a wrong type, a missing field).
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401: no token, or one that does not verify.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: authenticated, but the caller's roles do not allow this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: missing, or another company's (the two are indistinguishable).
    #[error("not found: {0}")]
    NotFound(String),
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with the current state, such as a taken name.
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 413.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: well-formed, but the values break a rule.
    #[error("unprocessable: {detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 429: too many attempts; retry after this many seconds.
    #[error("too many requests: {detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// 503: a dependency (a database) does not answer; the client may retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 503: the database interrupted the transaction for a reason of the moment (a
    /// deadlock, a serialization failure, a timeout); the same request again succeeds.
    #[error("contended: {0}")]
    Contended(String),
    /// 503: another service did not answer; the detail, shown to the client, says what
    /// was and was not done.
    #[error("dependency failed: {0}")]
    DependencyFailed(String),
    /// 500: a bug or an unexpected failure; logged in full, shown as nothing.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// 422 with several fields at fault.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::Unprocessable { detail, errors }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Conflict {
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Contended(_) | Self::DependencyFailed(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict { .. } => "conflict",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Unprocessable { .. } => "validation",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) => "unavailable",
            Self::Contended(_) => "contended",
            Self::DependencyFailed(_) => "dependency-failed",
            Self::Internal(_) => "internal",
        }
    }

    /// The body the client sees.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors) = match self {
            Self::BadRequest { detail, errors }
            | Self::Conflict { detail, errors }
            | Self::Unprocessable { detail, errors } => (detail.clone(), errors.clone()),
            Self::Unauthorized(detail)
            | Self::Forbidden(detail)
            | Self::NotFound(detail)
            | Self::DependencyFailed(detail)
            | Self::TooManyRequests { detail, .. } => (detail.clone(), Vec::new()),
            Self::MethodNotAllowed => (
                "this route does not take that method".to_owned(),
                Vec::new(),
            ),
            Self::PayloadTooLarge => ("the request body is too large".to_owned(), Vec::new()),
            Self::UnsupportedMediaType => (
                "the request body must be JSON (Content-Type: application/json)".to_owned(),
                Vec::new(),
            ),
            Self::Unavailable(_) => (
                "a database this request needs is not answering; try again shortly".to_owned(),
                Vec::new(),
            ),
            Self::Contended(_) => (
                "the request met others changing the same records at the same moment; try again"
                    .to_owned(),
                Vec::new(),
            ),
            Self::Internal(_) => (
                "an unexpected error occurred; it has been logged".to_owned(),
                Vec::new(),
            ),
        };
        Problem {
            kind: format!("urn:roster:problem:{}", self.slug()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(error) => tracing::error!(error = ?error, "internal error"),
            Self::Unavailable(why) => tracing::warn!(%why, "dependency unavailable"),
            Self::Contended(why) => tracing::warn!(%why, "transaction interrupted"),
            Self::DependencyFailed(why) => tracing::warn!(%why, "dependency failed"),
            _ => {}
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.problem())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        let retry_after = match &self {
            Self::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::Contended(_) => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(why) => Self::Unavailable(why),
            DbError::Transient(why) => Self::Contended(why),
            // Services map the violations they expect to named fields before this; one
            // that reaches here is still the client's conflict, not a server error.
            DbError::UniqueViolation(_) => Self::Conflict {
                detail: "a record with these values already exists".to_owned(),
                errors: Vec::new(),
            },
            DbError::ForeignKeyViolation(_) => Self::Unprocessable {
                detail: "a referenced record does not exist".to_owned(),
                errors: Vec::new(),
            },
            DbError::Other(e) => Self::Internal(e.into()),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::invalid(invalid.field, invalid.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(errors) => Self::invalid_fields(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(e.field, e.message))
                    .collect(),
            ),
            StoreError::Taken { field, message } => Self::conflict(field, message),
            StoreError::Conflict(detail) => Self::Conflict {
                detail: detail.to_owned(),
                errors: Vec::new(),
            },
            StoreError::NotFound(what) => Self::not_found(format!("no such {what}")),
            StoreError::OverQuota { what, limit } => Self::Conflict {
                detail: format!(
                    "the company holds {limit} {what}, as many as its quota allows (quotas.{what}): remove one first, or ask the operator to raise it"
                ),
                errors: Vec::new(),
            },
            StoreError::Forbidden(why) => Self::Forbidden(why.to_owned()),
            StoreError::Db(e) => e.into(),
            StoreError::Internal(e) => Self::Internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn body(error: ApiError) -> (StatusCode, String, Problem) {
        let response = error.into_response();
        let status = response.status();
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }

    #[tokio::test]
    async fn validation_errors_name_the_field() {
        let (status, content_type, problem) =
            body(ApiError::invalid("latitude", "must be between -90 and 90")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(content_type, PROBLEM_JSON);
        assert_eq!(problem.errors[0].field, "latitude");
        assert_eq!(problem.kind, "urn:roster:problem:validation");
    }

    #[tokio::test]
    async fn internal_errors_show_nothing_inside() {
        let (status, _, problem) = body(ApiError::Internal(anyhow::anyhow!(
            "relation \"secret_table\" does not exist"
        )))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!problem.detail.contains("secret_table"));
    }

    #[tokio::test]
    async fn an_unavailable_database_is_503() {
        let (status, _, problem) =
            body(DbError::Unavailable("connection refused at 10.0.0.5".to_owned()).into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!problem.detail.contains("10.0.0.5"));
    }
}
