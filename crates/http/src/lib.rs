#![doc = include_str!("../README.md")]

pub mod access;
mod caller;
pub mod error;
mod extract;
pub mod layers;
mod metrics;
mod pagination;
pub mod patch;

pub use access::{Access, AccessPolicy, Rule, ServiceToken, authorize, rule};
pub use caller::{Caller, Viewer, authenticate};
pub use error::{ApiError, FieldError, Problem, StoreError};
pub use extract::{Json, Path, Query};
pub use metrics::Metrics;
pub use pagination::{Cursor, Page, PageParams};
pub use roster_storage::Tenant;

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
