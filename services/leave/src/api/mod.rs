//! The leave service's routes, under `/api/v1/leave`. Administrators define leave
//! types and adjust balances; anyone requests leave and sees their own balance, its
//! ledger and their requests (a manager also their reports', which they decide; an
//! administrator everyone's).

mod balances;
mod requests;
mod types;

use roster_http::access::{ADMIN, MEMBER, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of leave and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("POST", "/api/v1/leave/types", ADMIN),
    rule("GET", "/api/v1/leave/types", MEMBER),
    rule("GET", "/api/v1/leave/balances", MEMBER),
    rule("GET", "/api/v1/leave/balances/report", MEMBER),
    rule("GET", "/api/v1/leave/balances/{employee_id}/ledger", MEMBER),
    rule("POST", "/api/v1/leave/adjustments", ADMIN),
    rule("POST", "/api/v1/leave/requests", MEMBER),
    rule("GET", "/api/v1/leave/requests", MEMBER),
    rule("POST", "/api/v1/leave/requests/{id}/approve", MEMBER),
    rule("POST", "/api/v1/leave/requests/{id}/reject", MEMBER),
    rule("POST", "/api/v1/leave/requests/{id}/cancel", MEMBER),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(types::create_type, types::list_types))
        .routes(routes!(balances::list_balances))
        .routes(routes!(balances::report))
        .routes(routes!(balances::ledger))
        .routes(routes!(balances::adjust))
        .routes(routes!(requests::create_request, requests::list_requests))
        .routes(routes!(requests::approve))
        .routes(routes!(requests::reject))
        .routes(routes!(requests::cancel))
        .with_state(ctx)
}
