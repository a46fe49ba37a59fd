#![doc = include_str!("../README.md")]

pub mod access;
mod caller;
mod date;
pub mod error;
mod extract;
pub mod layers;
mod metrics;
mod pagination;
pub mod patch;
pub mod rate;

pub use access::{Access, AccessPolicy, Rule, ServiceToken, authorize, rule};
pub use caller::{Caller, Viewer, authenticate};
pub use date::CalendarDate;
pub use error::{ApiError, FieldError, Problem};
pub use extract::{Json, Path, Query};
pub use metrics::Metrics;
pub use pagination::{Cursor, Page, PageParams};
pub use roster_storage::Tenant;

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Raised when the server starts draining, for answers that would otherwise never end
/// (event streams): they end, so the drain does not wait on them for its whole grace.
/// The server puts it in every request's extensions.
#[derive(Debug, Clone)]
pub struct Stopping(pub tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the server drains (never, if it went away without saying so).
    pub async fn wait(mut self) {
        if self.0.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
