//! Routes for Roster's other services (service credential only; not in the public
//! document, not routed by the gateway).

use axum::extract::State;
use axum::routing::post;
use roster_contracts::org::COMPANY_NAME_MAX;
use roster_contracts::people::{SIGNUPS_PATH, SignedUp, Signup};
use roster_contracts::{Email, Name};
use roster_http::{ApiResult, Json};
use roster_service::{OpenApiRouter, ServiceContext};
use roster_tokens::Role;
use uuid::Uuid;

use super::{Problems, state};
use crate::domain::NAME_MAX;
use crate::saga::{self, Plan, SIGNUP};
use crate::store::employees::NewEmployee;

pub(super) fn routes() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new().route(SIGNUPS_PATH, post(signup))
}

/// A new company and its first admin: the signup saga (company in org, account in
/// auth, employee here).
async fn signup(
    State(ctx): State<ServiceContext>,
    Json(body): Json<Signup>,
) -> ApiResult<Json<SignedUp>> {
    let state = state(&ctx)?;
    let mut problems = Problems::default();
    let company_name = problems.check(Name::parse(
        "company_name",
        &body.company_name,
        COMPANY_NAME_MAX,
    ));
    let email = problems.check(Email::parse_field("admin_email", &body.admin_email));
    let name = problems.check(Name::parse("admin_name", &body.admin_name, NAME_MAX));
    let surname = problems.check(Name::parse("admin_surname", &body.admin_surname, NAME_MAX));
    let (company_name, email, name, surname) =
        problems.finish(|| Some((company_name?, email?, name?, surname?)))?;
    let company_id = Uuid::now_v7();
    let plan = Plan {
        employee: NewEmployee {
            email: email.into(),
            name: name.into_inner(),
            surname: surname.into_inner(),
            role: Role::Admin,
            position: None,
            phone: None,
            manager_id: None,
            hire_date: None,
            sealed_salary: None,
            team_ids: Vec::new(),
        },
        company_name: Some(company_name.into_inner()),
    };
    let outcome = saga::begin(
        &ctx,
        &state.steps,
        SIGNUP,
        company_id,
        Uuid::now_v7(),
        plan,
        body.admin_password,
    )
    .await?;
    let employee_id = outcome.into_result("company")?;
    Ok(Json(SignedUp {
        company_id,
        employee_id,
    }))
}
