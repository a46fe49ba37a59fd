//! One company can never read or change another's data: a foreign id answers 404,
//! exactly like a missing one.

use roster_testing::{ADMIN, Method, StatusCode, Topology, topology_tests};
use serde_json::{Value, json};

use crate::{Org, new_company};

async fn companies_cannot_see_each_other(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let other = new_company(app, "Globex").await;
    let intruder = app.token(other, ADMIN);

    let team = app
        .post(
            "/api/v1/org/teams",
            &org.admin,
            &json!({"name": "Secret projects"}),
        )
        .await
        .body;
    let location = app
        .post(
            "/api/v1/org/locations",
            &org.admin,
            &json!({"name": "Vault", "latitude": 1.0, "longitude": 1.0, "radius_m": 5}),
        )
        .await
        .body;
    let calendar = app
        .post(
            "/api/v1/org/holiday-calendars",
            &org.admin,
            &json!({"name": "Private"}),
        )
        .await
        .body;
    let holiday = app
        .post(
            "/api/v1/org/holidays",
            &org.admin,
            &json!({"date": "2026-07-14", "name": "Bastille Day"}),
        )
        .await
        .body;
    let id = |v: &Value| {
        v["id"]
            .as_str()
            .expect("created records have ids")
            .to_owned()
    };
    let (team, location, calendar, holiday) =
        (id(&team), id(&location), id(&calendar), id(&holiday));

    // Every route that names a record, called by the other company's admin.
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/org/teams/{team}"), None),
        (
            Method::PATCH,
            format!("/api/v1/org/teams/{team}"),
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, format!("/api/v1/org/teams/{team}"), None),
        (
            Method::GET,
            format!("/api/v1/org/locations/{location}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/org/locations/{location}"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/org/locations/{location}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/org/holiday-calendars/{calendar}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/org/holiday-calendars/{calendar}"),
            Some(json!({"is_default": true})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/org/holiday-calendars/{calendar}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/org/holidays/{holiday}"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let answer = app
            .request(method.clone(), &path, Some(&intruder), body.as_ref())
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
    }

    // References to another company's records are refused as unknown.
    let adopt = app
        .post(
            "/api/v1/org/teams",
            &intruder,
            &json!({"name": "Spies", "parent_id": team}),
        )
        .await;
    assert_eq!(adopt.status, StatusCode::UNPROCESSABLE_ENTITY);
    let borrow = app
        .post(
            "/api/v1/org/holidays",
            &intruder,
            &json!({"date": "2026-01-01", "name": "New Year", "calendar_id": calendar}),
        )
        .await;
    assert_eq!(borrow.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Lists show only the caller's company.
    for path in [
        "/api/v1/org/teams",
        "/api/v1/org/locations",
        "/api/v1/org/holidays",
    ] {
        let listed = app.get(path, &intruder).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["items"], json!([]), "{path}");
    }
    let calendars = app.get("/api/v1/org/holiday-calendars", &intruder).await;
    assert_eq!(
        calendars.body["items"].as_array().unwrap().len(),
        1,
        "only its own default"
    );

    // And the owner's records are untouched.
    assert_eq!(
        app.get(&format!("/api/v1/org/teams/{team}"), &org.admin)
            .await
            .body["name"],
        "Secret projects"
    );
    let company = app.get("/api/v1/org/company", &intruder).await;
    assert_eq!(company.body["name"], "Globex");
}

topology_tests!(companies_cannot_see_each_other);
