//! The notifications service's routes, under `/api/v1/notifications`: each member
//! reads, streams and marks their own notifications and sets their own preferences;
//! administrators word the company's templates, register its webhooks and follow its
//! deliveries.

mod deliveries;
mod notifications;
mod preferences;
mod stream;
mod templates;
mod webhooks;

use roster_http::access::{ADMIN, MEMBER, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of notifications and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("GET", "/api/v1/notifications", MEMBER),
    rule("GET", "/api/v1/notifications/unread-count", MEMBER),
    rule("POST", "/api/v1/notifications/{id}/read", MEMBER),
    rule("GET", "/api/v1/notifications/stream", MEMBER),
    rule("GET", "/api/v1/notifications/preferences", MEMBER),
    rule("PUT", "/api/v1/notifications/preferences", MEMBER),
    rule("GET", "/api/v1/notifications/templates", ADMIN),
    rule("PUT", "/api/v1/notifications/templates/{kind}", ADMIN),
    rule("DELETE", "/api/v1/notifications/templates/{kind}", ADMIN),
    rule("POST", "/api/v1/notifications/webhooks", ADMIN),
    rule("GET", "/api/v1/notifications/webhooks", ADMIN),
    rule("DELETE", "/api/v1/notifications/webhooks/{id}", ADMIN),
    rule("GET", "/api/v1/notifications/deliveries", ADMIN),
    rule("GET", "/api/v1/notifications/deliveries/{id}", ADMIN),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::unread_count))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(stream::stream))
        .routes(routes!(
            preferences::get_preferences,
            preferences::put_preferences
        ))
        .routes(routes!(templates::list_templates))
        .routes(routes!(templates::put_template, templates::reset_template))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(deliveries::list_deliveries))
        .routes(routes!(deliveries::get_delivery))
        .with_state(ctx)
}
