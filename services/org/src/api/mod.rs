//! The org service's routes, under `/api/v1/org/`, and its internal routes for other
//! services, under `/internal/v1/org/`. Who may call what is [`ACCESS`]: reads are for
//! any member of the company, writes for its administrators.

mod company;
mod holidays;
mod internal;
mod locations;
mod teams;

use roster_http::access::{ADMIN, MEMBER, Rule, SERVICE, rule};
use roster_service::{OpenApiRouter, ServiceContext};
use utoipa_axum::routes;

/// Every route of org and who may call it.
pub const ACCESS: &[Rule] = &[
    rule("GET", "/api/v1/org/company", MEMBER),
    rule("PATCH", "/api/v1/org/company", ADMIN),
    rule("GET", "/api/v1/org/company/settings", MEMBER),
    rule("PATCH", "/api/v1/org/company/settings", ADMIN),
    rule("GET", "/api/v1/org/teams", MEMBER),
    rule("POST", "/api/v1/org/teams", ADMIN),
    rule("GET", "/api/v1/org/teams/{id}", MEMBER),
    rule("PATCH", "/api/v1/org/teams/{id}", ADMIN),
    rule("DELETE", "/api/v1/org/teams/{id}", ADMIN),
    rule("GET", "/api/v1/org/locations", MEMBER),
    rule("POST", "/api/v1/org/locations", ADMIN),
    rule("GET", "/api/v1/org/locations/{id}", MEMBER),
    rule("PATCH", "/api/v1/org/locations/{id}", ADMIN),
    rule("DELETE", "/api/v1/org/locations/{id}", ADMIN),
    rule("GET", "/api/v1/org/holiday-calendars", MEMBER),
    rule("POST", "/api/v1/org/holiday-calendars", ADMIN),
    rule("GET", "/api/v1/org/holiday-calendars/{id}", MEMBER),
    rule("PATCH", "/api/v1/org/holiday-calendars/{id}", ADMIN),
    rule("DELETE", "/api/v1/org/holiday-calendars/{id}", ADMIN),
    rule("GET", "/api/v1/org/holidays", MEMBER),
    rule("POST", "/api/v1/org/holidays", ADMIN),
    rule("DELETE", "/api/v1/org/holidays/{id}", ADMIN),
    rule("PUT", "/internal/v1/org/companies/{id}", SERVICE),
    rule("DELETE", "/internal/v1/org/companies/{id}", SERVICE),
    rule(
        "POST",
        "/internal/v1/org/companies/{id}/teams/lookup",
        SERVICE,
    ),
];

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
        .merge(internal::routes())
        .with_state(ctx)
}
