//! The tasks service's routes, under `/api/v1/tasks`. Any member of a company may
//! create tasks and see those they created or are assigned (a manager also those of
//! their reports, an administrator all); who may change what is decided per task.

mod tasks;

use roster_http::access::{MEMBER, Rule, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of tasks and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("POST", "/api/v1/tasks", MEMBER),
    rule("GET", "/api/v1/tasks", MEMBER),
    rule("GET", "/api/v1/tasks/{id}", MEMBER),
    rule("PATCH", "/api/v1/tasks/{id}", MEMBER),
];

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(tasks::create_task, tasks::list_tasks))
        .routes(routes!(tasks::get_task, tasks::update_task))
        .with_state(ctx)
}
