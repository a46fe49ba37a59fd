//! Routes for Roster's other services (service credential only; not in the public
//! document, not routed by the gateway).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{post, put};
use roster_contracts::org::COMPANY_NAME_MAX;
use roster_contracts::org::{Company, NewCompany, TeamLookup, TeamsFound};
use roster_http::{ApiResult, Json, Path, Tenant};
use roster_service::{OpenApiRouter, ServiceContext};
use uuid::Uuid;

use crate::domain::Name;
use crate::store::{companies, teams};

pub(super) fn routes() -> OpenApiRouter<ServiceContext> {
    OpenApiRouter::new()
        .route(
            "/internal/v1/org/companies/{id}",
            put(ensure_company).delete(remove_company),
        )
        .route(
            "/internal/v1/org/companies/{id}/teams/lookup",
            post(lookup_teams),
        )
}

/// Creates the company with this id, or answers the existing one: a saga may repeat it.
async fn ensure_company(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
    Json(body): Json<NewCompany>,
) -> ApiResult<Json<Company>> {
    let name = Name::parse("name", &body.name, COMPANY_NAME_MAX)?;
    let (company, _) = companies::ensure(&ctx.db, id, name).await?;
    Ok(Json(Company {
        id: company.id,
        name: company.name,
    }))
}

/// Removes a company and everything it has: a signup saga's compensation. Removing a
/// company that does not exist succeeds.
async fn remove_company(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    companies::remove(&ctx.db, &Tenant::of_company(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which of the ids are teams of the company.
async fn lookup_teams(
    State(ctx): State<ServiceContext>,
    Path(id): Path<Uuid>,
    Json(body): Json<TeamLookup>,
) -> ApiResult<Json<TeamsFound>> {
    let found = teams::existing(&ctx.db, &Tenant::of_company(id), &body.ids).await?;
    Ok(Json(TeamsFound { found }))
}
