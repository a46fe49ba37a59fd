//! The leave service's routes, under `/api/v1/leave`. Administrators define leave
//! types and adjust balances; anyone sees their own balance and its ledger (a manager
//! also their reports', an administrator everyone's).

mod balances;
mod types;

use roster_http::access::{ADMIN, MEMBER, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of leave and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("POST", "/api/v1/leave/types", ADMIN),
    rule("GET", "/api/v1/leave/types", MEMBER),
    rule("GET", "/api/v1/leave/balances", MEMBER),
    rule("GET", "/api/v1/leave/balances/{employee_id}/ledger", MEMBER),
    rule("POST", "/api/v1/leave/adjustments", ADMIN),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(types::create_type, types::list_types))
        .routes(routes!(balances::list_balances))
        .routes(routes!(balances::ledger))
        .routes(routes!(balances::adjust))
        .with_state(ctx)
}
