//! The presence service's routes, under `/api/v1/presence`. Any member of a company
//! checks in and out and sees their own attendance (a manager also their reports', an
//! administrator everyone's); managers and administrators record and correct manual
//! check-ins; administrators keep the tag registry.

mod attendance;
mod checkins;
mod nfc_tags;

use roster_http::access::{ADMIN, MEMBER, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of presence and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("POST", "/api/v1/presence/checkins", MEMBER),
    rule("GET", "/api/v1/presence/checkins", MEMBER),
    rule("GET", "/api/v1/presence/checkins/{id}", MEMBER),
    rule("PATCH", "/api/v1/presence/checkins/{id}", MEMBER),
    rule("GET", "/api/v1/presence/checkins/{id}/history", MEMBER),
    rule("POST", "/api/v1/presence/nfc-tags", ADMIN),
    rule("GET", "/api/v1/presence/nfc-tags", ADMIN),
    rule("DELETE", "/api/v1/presence/nfc-tags/{id}", ADMIN),
    rule("GET", "/api/v1/presence/attendance", MEMBER),
    rule("GET", "/api/v1/presence/attendance/month", MEMBER),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(checkins::create_checkin, checkins::list_checkins))
        .routes(routes!(checkins::get_checkin, checkins::correct_checkin))
        .routes(routes!(checkins::checkin_history))
        .routes(routes!(nfc_tags::create_tag, nfc_tags::list_tags))
        .routes(routes!(nfc_tags::delete_tag))
        .routes(routes!(attendance::day))
        .routes(routes!(attendance::month))
        .with_state(ctx)
}
