//! The people service's routes, under `/api/v1/people/`, and its internal route for
//! signups, under `/internal/v1/people/`. Who may call what is [`ACCESS`].

mod employees;
mod internal;

use std::sync::Arc;

use roster_contracts::Invalid;
use roster_http::access::{ADMIN, MEMBER, Rule, SERVICE, rule};
use roster_http::{ApiError, ApiResult};
use roster_service::{OpenApiRouter, ServiceContext};
use roster_storage::StoreError;
use utoipa_axum::routes;

use crate::PeopleState;

/// Every route of people and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("GET", "/api/v1/people/employees", MEMBER),
    rule("POST", "/api/v1/people/employees", ADMIN),
    rule("GET", "/api/v1/people/employees/{id}", MEMBER),
    rule("PATCH", "/api/v1/people/employees/{id}", ADMIN),
    rule("DELETE", "/api/v1/people/employees/{id}", ADMIN),
    rule("GET", "/api/v1/people/me", MEMBER),
    rule("POST", "/internal/v1/people/signups", SERVICE),
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

/// Collects every invalid field of a request, to answer them all in one 422.
#[derive(Debug, Default)]
struct Problems(Vec<Invalid>);

impl Problems {
    /// The value, or `None` with its problem kept.
    fn check<T>(&mut self, result: Result<T, Invalid>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    /// 422 with every problem kept; otherwise the checked values, which `values`
    /// gathers from the options [`Problems::check`] answered.
    fn finish<T>(self, values: impl FnOnce() -> Option<T>) -> ApiResult<T> {
        if !self.0.is_empty() {
            return Err(StoreError::Invalid(self.0).into());
        }
        values().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a checked value is missing")))
    }
}
