use axum::extract::State;
use axum::http::StatusCode;
use roster_contracts::auth::AccountChange;
use roster_contracts::{Password, from_text};
use roster_http::{
    ApiError, ApiResult, CalendarDate, Caller, Json, Page, PageParams, Path, Problem, Query,
};
use roster_secrets::DataKey;
use roster_service::ServiceContext;
use roster_tokens::Role;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Problems, state};
use crate::domain::{Email, NAME_MAX, Name, OptionalText, POSITION_MAX, Phone, Salary, Status};
use crate::saga::{self, ChangePlan, ONBOARDING, Plan, Steps};
use crate::store::employees::{self, EmployeeChange, Filter, NewEmployee};
use crate::store::entities::employee::Model as EmployeeRecord;

/// An employee. `salary` is present for administrators only.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Employee {
    pub id: Uuid,
    pub company_id: Uuid,
    pub email: String,
    pub name: String,
    pub surname: String,
    pub role: Role,
    pub status: Status,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub manager_id: Option<Uuid>,
    pub team_ids: Vec<Uuid>,
    pub hire_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary: Option<Salary>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn salary_context(employee_id: Uuid) -> String {
    format!("people.salary:{employee_id}")
}

fn seal_salary(key: &DataKey, employee_id: Uuid, salary: &Salary) -> ApiResult<Vec<u8>> {
    let json = serde_json::to_vec(salary).map_err(|e| ApiError::Internal(e.into()))?;
    key.seal(&salary_context(employee_id), &json)
        .map_err(|e| ApiError::Internal(e.into()))
}

/// The employee as `caller` may see them: the salary only for an administrator.
fn present(found: employees::Employee, caller: &Caller, key: &DataKey) -> ApiResult<Employee> {
    let r = found.record;
    let salary = match (&r.sealed_salary, caller.has_role(Role::Admin)) {
        (Some(sealed), true) => {
            let json = key
                .open(&salary_context(r.id), sealed)
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("salary of {}: {e}", r.id)))?;
            Some(serde_json::from_slice(&json).map_err(|e| ApiError::Internal(e.into()))?)
        }
        _ => None,
    };
    Ok(Employee {
        id: r.id,
        company_id: r.company_id,
        email: r.email,
        name: r.name,
        surname: r.surname,
        role: from_text(&r.role).map_err(|e| ApiError::Internal(e.into()))?,
        status: r.status,
        position: r.position,
        phone: r.phone,
        manager_id: r.manager_id,
        team_ids: found.team_ids,
        hire_date: r.hire_date,
        salary,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployee {
    pub email: String,
    pub name: String,
    pub surname: String,
    pub role: Role,
    /// Their first password; the account's own policy applies.
    pub password: String,
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
    pub manager_id: Option<Uuid>,
    pub hire_date: Option<CalendarDate>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub salary: Option<Salary>,
}

/// Team ids must name teams of the caller's company (asked of org).
async fn check_teams(steps: &Steps, company_id: Uuid, team_ids: &[Uuid]) -> ApiResult<()> {
    if team_ids.is_empty() {
        return Ok(());
    }
    let found = steps.org.teams_found(company_id, team_ids).await?;
    match team_ids.iter().find(|id| !found.contains(id)) {
        Some(missing) => Err(ApiError::invalid(
            "team_ids",
            format!("{missing} is not a team of this company"),
        )),
        None => Ok(()),
    }
}

/// Creates an employee and their account (admin): both exist afterwards, or neither.
#[utoipa::path(post, path = "/api/v1/people/employees", tag = "people", security(("bearer" = [])),
    request_body = CreateEmployee,
    responses((status = 201, body = Employee), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The email is taken"),
        (status = 422, body = Problem),
        (status = 503, body = Problem, description = "Not created; the detail says what remains")))]
pub(super) async fn create_employee(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateEmployee>,
) -> ApiResult<(StatusCode, Json<Employee>)> {
    let state = state(&ctx)?;
    let tenant = caller.tenant();
    let mut problems = Problems::default();
    let email = problems.check(Email::parse_field("email", &body.email));
    let name = problems.check(Name::parse("name", &body.name, NAME_MAX));
    let surname = problems.check(Name::parse("surname", &body.surname, NAME_MAX));
    let position = problems.check(OptionalText::parse(
        "position",
        body.position.as_deref(),
        POSITION_MAX,
    ));
    let phone = body
        .phone
        .as_deref()
        .and_then(|p| problems.check(Phone::parse("phone", p)));
    let salary = body
        .salary
        .and_then(|s| problems.check(Salary::parse("salary", s)));
    let (email, name, surname, position) =
        problems.finish(|| Some((email?, name?, surname?, position?)))?;
    if let Some(manager_id) = body.manager_id {
        employees::check_new_manager(&ctx.db, &tenant, manager_id).await?;
    }
    let steps = &state.steps;
    check_teams(steps, tenant.company_id(), &body.team_ids).await?;
    if employees::email_in_use(&ctx.db, &tenant, email.as_str()).await? {
        return Err(ApiError::conflict("email", employees::EMAIL_TAKEN));
    }
    // The employee's id is chosen first: the salary is sealed for it.
    let employee_id = Uuid::now_v7();
    let sealed_salary = salary
        .as_ref()
        .map(|s| seal_salary(&state.data_key, employee_id, s))
        .transpose()?;
    let plan = Plan {
        employee: NewEmployee {
            email: email.into(),
            name: name.into_inner(),
            surname: surname.into_inner(),
            role: body.role,
            position: position.into_inner(),
            phone: phone.map(Phone::into_inner),
            manager_id: body.manager_id,
            hire_date: body.hire_date.map(CalendarDate::get),
            sealed_salary,
            team_ids: body.team_ids,
        },
        company_name: None,
    };
    let outcome = saga::begin(
        &ctx,
        steps,
        ONBOARDING,
        tenant.company_id(),
        employee_id,
        plan,
        Password::new(body.password),
    )
    .await?;
    let id = outcome.into_result("employee")?;
    let found = employees::get(&ctx.db, &tenant, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(present(found, &caller, &state.data_key)?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmployeeFilter {
    /// Only members of this team.
    pub team_id: Option<Uuid>,
    /// `active` or `inactive`.
    pub status: Option<Status>,
    /// Only the direct reports of this employee.
    pub manager_id: Option<Uuid>,
}

/// The company's employees, in creation order.
#[utoipa::path(get, path = "/api/v1/people/employees", tag = "people", security(("bearer" = [])),
    params(EmployeeFilter, PageParams),
    responses((status = 200, body = Page<Employee>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_employees(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(filter): Query<EmployeeFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Employee>>> {
    let state = state(&ctx)?;
    let cursor = page.parse()?;
    let filter = Filter {
        team_id: filter.team_id,
        status: filter.status,
        manager_id: filter.manager_id,
    };
    let rows = employees::list(&ctx.db, &caller.tenant(), filter, &cursor).await?;
    let page = Page::from_rows(rows, &cursor, |e| e.record.id)
        .try_map(|e| present(e, &caller, &state.data_key))?;
    Ok(Json(page))
}

/// One employee.
#[utoipa::path(get, path = "/api/v1/people/employees/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Employee), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn get_employee(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Employee>> {
    let state = state(&ctx)?;
    let found = employees::get(&ctx.db, &caller.tenant(), id).await?;
    Ok(Json(present(found, &caller, &state.data_key)?))
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/people/me", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Employee), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn me(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<Employee>> {
    let state = state(&ctx)?;
    let found = employees::get(&ctx.db, &caller.tenant(), caller.employee_id()).await?;
    Ok(Json(present(found, &caller, &state.data_key)?))
}

/// Any of the create fields but the password; absent ones keep their value, `null`
/// clears a nullable one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEmployee {
    pub email: Option<String>,
    pub name: Option<String>,
    pub surname: Option<String>,
    pub role: Option<Role>,
    pub team_ids: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<Date>)]
    pub hire_date: Option<Option<CalendarDate>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub position: Option<Option<String>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<Salary>)]
    pub salary: Option<Option<Salary>>,
}

/// Changes an employee (admin). A new email or role reaches their account first.
#[utoipa::path(patch, path = "/api/v1/people/employees/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateEmployee,
    responses((status = 200, body = Employee), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(super) async fn update_employee(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateEmployee>,
) -> ApiResult<Json<Employee>> {
    let state = state(&ctx)?;
    let tenant = caller.tenant();
    employees::get(&ctx.db, &tenant, id).await?;
    let mut problems = Problems::default();
    let email = body
        .email
        .as_deref()
        .and_then(|e| problems.check(Email::parse_field("email", e)));
    let name = body
        .name
        .as_deref()
        .and_then(|n| problems.check(Name::parse("name", n, NAME_MAX)));
    let surname = body
        .surname
        .as_deref()
        .and_then(|n| problems.check(Name::parse("surname", n, NAME_MAX)));
    let position = body.position.map(|p| {
        problems
            .check(OptionalText::parse("position", p.as_deref(), POSITION_MAX))
            .and_then(OptionalText::into_inner)
    });
    let phone = body.phone.map(|p| {
        p.and_then(|p| {
            problems
                .check(Phone::parse("phone", &p))
                .map(Phone::into_inner)
        })
    });
    let salary = match body.salary {
        Some(Some(s)) => problems.check(Salary::parse("salary", s)).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    problems.finish(|| Some(()))?;
    let steps = &state.steps;
    if let Some(team_ids) = &body.team_ids {
        check_teams(steps, tenant.company_id(), team_ids).await?;
    }
    let sealed_salary = salary
        .map(|s| s.map(|s| seal_salary(&state.data_key, id, &s)).transpose())
        .transpose()?;
    // The account takes the values asked, as the employee does, whatever a read before
    // the saga saw: a change that has finished since must not make them differ.
    let account_change = AccountChange {
        email: email.clone().map(String::from),
        role: body.role,
        active: None,
    };
    let touches_account = account_change.email.is_some() || account_change.role.is_some();
    let change = EmployeeChange {
        email: email.map(String::from),
        name: name.map(Name::into_inner),
        surname: surname.map(Name::into_inner),
        role: body.role,
        position,
        phone,
        manager_id: body.manager_id,
        hire_date: body.hire_date.map(|d| d.map(CalendarDate::get)),
        sealed_salary,
        team_ids: body.team_ids,
        status: None,
    };
    let updated = match touches_account {
        false => employees::update(&ctx.db, &tenant, id, change).await?,
        // Auth and people change together, or neither does: a saga.
        true => {
            let plan = |now: &EmployeeRecord| ChangePlan {
                employee: change,
                account: account_change,
                before: AccountChange {
                    email: Some(now.email.clone()),
                    role: Role::parse(&now.role),
                    active: None,
                },
            };
            saga::begin_change(&ctx, steps, tenant.company_id(), id, plan)
                .await?
                .into_change_result()?;
            employees::get(&ctx.db, &tenant, id).await?
        }
    };
    Ok(Json(present(updated, &caller, &state.data_key)?))
}

/// Deactivates an employee (admin): the record stays, marked `inactive`, and their
/// account is deactivated, which ends their sessions.
#[utoipa::path(delete, path = "/api/v1/people/employees/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem)))]
pub(super) async fn delete_employee(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let state = state(&ctx)?;
    let tenant = caller.tenant();
    employees::get(&ctx.db, &tenant, id).await?;
    // The account first, through the saga: once it is off, nobody logs in as the
    // employee, whatever happens next.
    let plan = |now: &EmployeeRecord| ChangePlan {
        employee: EmployeeChange {
            status: Some(Status::Inactive),
            ..EmployeeChange::default()
        },
        account: AccountChange {
            active: Some(false),
            ..AccountChange::default()
        },
        before: AccountChange {
            active: Some(now.status == Status::Active),
            ..AccountChange::default()
        },
    };
    saga::begin_change(&ctx, &state.steps, tenant.company_id(), id, plan)
        .await?
        .into_change_result()?;
    Ok(StatusCode::NO_CONTENT)
}
