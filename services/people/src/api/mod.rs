//! The people service's routes, under `/api/v1/people/`, and its internal route for
//! signups, under `/internal/v1/people/`. Who may call what is [`ACCESS`].

mod employees;
mod internal;

use std::sync::Arc;

use roster_http::ApiError;
use roster_http::access::{ADMIN, Access, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

use crate::PeopleState;

const MEMBER: Access = Access::Member;

/// Every route of people and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("GET", "/api/v1/people/employees", MEMBER),
    rule("POST", "/api/v1/people/employees", ADMIN),
    rule("GET", "/api/v1/people/employees/{id}", MEMBER),
    rule("PATCH", "/api/v1/people/employees/{id}", ADMIN),
    rule("DELETE", "/api/v1/people/employees/{id}", ADMIN),
    rule("GET", "/api/v1/people/me", MEMBER),
    rule("POST", "/internal/v1/people/signups", Access::Service),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(
            employees::create_employee,
            employees::list_employees
        ))
        .routes(routes!(
            employees::get_employee,
            employees::update_employee,
            employees::delete_employee
        ))
        .routes(routes!(employees::me))
        .merge(internal::routes())
        .with_state(ctx)
}

fn state(ctx: &ServiceContext) -> Result<Arc<PeopleState>, ApiError> {
    ctx.state::<PeopleState>().map_err(ApiError::Internal)
}
