//! The org service's routes, under `/api/v1/org/`. Reads need any member of the
//! company; writes need an admin.

mod company;
mod holidays;
mod locations;
mod teams;

use roster_http::{ApiError, Caller};
use roster_service::{OpenApiRouter, ServiceContext};
use roster_tokens::Role;
use utoipa_axum::routes;

pub fn routes(ctx: ServiceContext) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(company::get_company, company::update_company))
        .routes(routes!(company::get_settings, company::update_settings))
        .routes(routes!(teams::create_team, teams::list_teams))
        .routes(routes!(
            teams::get_team,
            teams::update_team,
            teams::delete_team
        ))
        .routes(routes!(
            locations::create_location,
            locations::list_locations
        ))
        .routes(routes!(
            locations::get_location,
            locations::update_location,
            locations::delete_location
        ))
        .routes(routes!(holidays::create_calendar, holidays::list_calendars))
        .routes(routes!(
            holidays::get_calendar,
            holidays::update_calendar,
            holidays::delete_calendar
        ))
        .routes(routes!(holidays::create_holiday, holidays::list_holidays))
        .routes(routes!(holidays::delete_holiday))
        .with_state(ctx)
}

/// Writes to the company's structure are for its administrators.
fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    caller.require_any(&[Role::Admin])
}
