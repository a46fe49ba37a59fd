//! The notifications service's routes, under `/api/v1/notifications`: each member
//! reads and marks their own notifications, nobody else's.

mod notifications;

use roster_http::access::{MEMBER, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of notifications and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("GET", "/api/v1/notifications", MEMBER),
    rule("GET", "/api/v1/notifications/unread-count", MEMBER),
    rule("POST", "/api/v1/notifications/{id}/read", MEMBER),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::unread_count))
        .routes(routes!(notifications::mark_read))
        .with_state(ctx)
}
