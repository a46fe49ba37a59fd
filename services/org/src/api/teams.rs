use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{Name, OptionalText};
use crate::store::entities::team;
use crate::store::teams::{self, NewTeam, TeamChange};

const NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 2_000;

/// A team: a node of the company's tree of departments and teams.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// The parent team; null for a top-level team.
    pub parent_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<team::Model> for Team {
    fn from(t: team::Model) -> Self {
        Self {
            id: t.id,
            company_id: t.company_id,
            name: t.name,
            description: t.description,
            parent_id: t.parent_id,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    /// Unique in the company, 1 to 100 characters.
    pub name: String,
    pub description: Option<String>,
    /// A team of the same company; absent for a top-level team.
    pub parent_id: Option<Uuid>,
}

/// Creates a team (admin).
#[utoipa::path(post, path = "/api/v1/org/teams", tag = "org", security(("bearer" = [])),
    request_body = CreateTeam,
    responses((status = 201, body = Team), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The name is taken"),
        (status = 422, body = Problem, description = "Invalid values or an unknown parent")))]
pub(super) async fn create_team(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateTeam>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    let new = NewTeam {
        name: Name::parse("name", &body.name, NAME_MAX)?,
        description: OptionalText::parse(
            "description",
            body.description.as_deref(),
            DESCRIPTION_MAX,
        )?,
        parent_id: body.parent_id,
    };
    let team = teams::create(&ctx.db, &caller.tenant(), new, ctx.config.quotas.teams).await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamFilter {
    /// Only the direct children of this team.
    pub parent_id: Option<Uuid>,
}

/// The company's teams, in creation order.
#[utoipa::path(get, path = "/api/v1/org/teams", tag = "org", security(("bearer" = [])),
    params(TeamFilter, PageParams),
    responses((status = 200, body = Page<Team>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
pub(super) async fn list_teams(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(filter): Query<TeamFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<Team>>> {
    let cursor = page.parse()?;
    let rows = teams::list(&ctx.db, &caller.tenant(), filter.parent_id, &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |t| t.id).map(Team::from),
    ))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/org/teams/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Team), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn get_team(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Team>> {
    Ok(Json(
        teams::get(&ctx.db, &caller.tenant(), id).await?.into(),
    ))
}

/// Any of the fields; absent ones keep their value. `parent_id: null` makes the team
/// top-level.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "roster_http::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
}

/// Renames or moves a team (admin). A move under the team's own subtree is refused.
#[utoipa::path(patch, path = "/api/v1/org/teams/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = UpdateTeam,
    responses((status = 200, body = Team), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem, description = "Invalid values, an unknown parent, or a cycle")))]
pub(super) async fn update_team(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<UpdateTeam>,
) -> ApiResult<Json<Team>> {
    let change = TeamChange {
        name: body
            .name
            .as_deref()
            .map(|n| Name::parse("name", n, NAME_MAX))
            .transpose()?,
        description: body
            .description
            .map(|d| OptionalText::parse("description", d.as_deref(), DESCRIPTION_MAX))
            .transpose()?,
        parent_id: body.parent_id,
    };
    Ok(Json(
        teams::update(&ctx.db, &caller.tenant(), id, change)
            .await?
            .into(),
    ))
}

/// Deletes a team without sub-teams (admin).
#[utoipa::path(delete, path = "/api/v1/org/teams/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The team has sub-teams")))]
pub(super) async fn delete_team(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    teams::delete(&ctx.db, &caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
