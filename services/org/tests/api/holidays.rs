use roster_testing::{StatusCode, Topology, topology_tests};
use serde_json::{Value, json};

use crate::Org;

fn items(body: &Value) -> &Vec<Value> {
    body["items"].as_array().expect("a page has items")
}

async fn holidays_live_in_calendars(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;

    // Every company starts with a default calendar, where holidays go by default.
    let calendars = app.get("/api/v1/org/holiday-calendars", &org.admin).await;
    let default = items(&calendars.body)[0].clone();
    assert_eq!(default["is_default"], true);

    let christmas = app
        .post(
            "/api/v1/org/holidays",
            &org.admin,
            &json!({"date": "2026-12-25", "name": "Christmas"}),
        )
        .await;
    assert_eq!(
        christmas.status,
        StatusCode::CREATED,
        "{:?}",
        christmas.body
    );
    assert_eq!(christmas.body["calendar_id"], default["id"]);
    assert_eq!(christmas.body["date"], "2026-12-25");

    let twice = app
        .post(
            "/api/v1/org/holidays",
            &org.admin,
            &json!({"date": "2026-12-25", "name": "Noël"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.error_fields(), ["date"]);

    let bad_date = app
        .post(
            "/api/v1/org/holidays",
            &org.admin,
            &json!({"date": "2026-02-30", "name": "Nope"}),
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_date.error_fields(), ["date"]);

    // A second calendar, for another country.
    let swiss = app
        .post(
            "/api/v1/org/holiday-calendars",
            &org.admin,
            &json!({"name": "Switzerland"}),
        )
        .await;
    assert_eq!(swiss.status, StatusCode::CREATED);
    let swiss_id = swiss.body["id"].as_str().unwrap().to_owned();
    for (date, name) in [
        ("2026-08-01", "Swiss National Day"),
        ("2026-12-25", "Christmas"),
    ] {
        let created = app
            .post(
                "/api/v1/org/holidays",
                &org.admin,
                &json!({"date": date, "name": name, "calendar_id": swiss_id}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    }

    let december = app
        .get(
            "/api/v1/org/holidays?from=2026-12-01&to=2026-12-31",
            &org.admin,
        )
        .await;
    assert_eq!(items(&december.body).len(), 2);
    let swiss_only = app
        .get(
            &format!("/api/v1/org/holidays?calendar_id={swiss_id}"),
            &org.admin,
        )
        .await;
    let dates: Vec<&str> = items(&swiss_only.body)
        .iter()
        .map(|h| h["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2026-08-01", "2026-12-25"], "in date order");
    let bad_query = app
        .get("/api/v1/org/holidays?from=tomorrow", &org.admin)
        .await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.error_fields(), ["from"]);

    // The default moves; it is never left without one, and is never deleted.
    let default_path = format!(
        "/api/v1/org/holiday-calendars/{}",
        default["id"].as_str().unwrap()
    );
    let swiss_path = format!("/api/v1/org/holiday-calendars/{swiss_id}");
    let unset = app
        .patch(&default_path, &org.admin, &json!({"is_default": false}))
        .await;
    assert_eq!(unset.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.delete(&default_path, &org.admin).await.status,
        StatusCode::CONFLICT
    );
    let promoted = app
        .patch(&swiss_path, &org.admin, &json!({"is_default": true}))
        .await;
    assert_eq!(promoted.body["is_default"], true);
    assert_eq!(
        app.get(&default_path, &org.admin).await.body["is_default"],
        false
    );

    // Deleting a calendar takes its holidays with it.
    assert_eq!(
        app.delete(&default_path, &org.admin).await.status,
        StatusCode::NO_CONTENT
    );
    let remaining = app.get("/api/v1/org/holidays", &org.admin).await;
    assert_eq!(items(&remaining.body).len(), 2);
    let holiday_path = format!(
        "/api/v1/org/holidays/{}",
        items(&remaining.body)[0]["id"].as_str().unwrap()
    );
    assert_eq!(
        app.delete(&holiday_path, &org.admin).await.status,
        StatusCode::NO_CONTENT
    );
}

topology_tests!(holidays_live_in_calendars);
