use roster_testing::{Method, StatusCode, Topology, topology_tests};
use serde_json::json;

use crate::Org;

async fn locations_carry_a_valid_geofence(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let created = app
        .post(
            "/api/v1/org/locations",
            &org.admin,
            &json!({"name": "Paris HQ", "address": "1 rue de Rivoli", "latitude": 48.8606, "longitude": 2.3376, "radius_m": 150}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["radius_m"], 150);
    assert_eq!(created.body["latitude"], 48.8606);
    let path = format!(
        "/api/v1/org/locations/{}",
        created.body["id"].as_str().unwrap()
    );

    let outside = app
        .post(
            "/api/v1/org/locations",
            &org.admin,
            &json!({"name": "Nowhere", "latitude": 91.0, "longitude": 200.0, "radius_m": 0}),
        )
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        outside.error_fields(),
        ["latitude", "longitude", "radius_m"]
    );

    let missing = app
        .post(
            "/api/v1/org/locations",
            &org.admin,
            &json!({"name": "Lyon", "latitude": 45.76, "longitude": 4.83}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error_fields(), ["radius_m"]);

    let wrong_type = app
        .post(
            "/api/v1/org/locations",
            &org.admin,
            &json!({"name": "Lyon", "latitude": "north", "longitude": 4.83, "radius_m": 10}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.error_fields(), ["latitude"]);

    let taken = app
        .post(
            "/api/v1/org/locations",
            &org.admin,
            &json!({"name": "Paris HQ", "latitude": 0.0, "longitude": 0.0, "radius_m": 10}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);

    let unknown_calendar = app
        .patch(
            &path,
            &org.admin,
            &json!({"holiday_calendar_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(unknown_calendar.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown_calendar.error_fields(), ["holiday_calendar_id"]);

    let half_a_geofence = app
        .patch(&path, &org.admin, &json!({"latitude": 10.0}))
        .await;
    assert_eq!(half_a_geofence.status, StatusCode::UNPROCESSABLE_ENTITY);

    let moved = app
        .patch(
            &path,
            &org.admin,
            &json!({"latitude": 48.87, "longitude": 2.35, "radius_m": 300, "address": null}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["radius_m"], 300);
    assert_eq!(moved.body["address"], serde_json::Value::Null);
    assert_eq!(moved.body["name"], "Paris HQ");

    let listed = app.get("/api/v1/org/locations", &org.admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    assert_eq!(
        app.delete(&path, &org.admin).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, &org.admin).await.status,
        StatusCode::NOT_FOUND
    );
    let gone = app
        .request(Method::GET, &path, Some(&org.admin), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

topology_tests!(locations_carry_a_valid_geofence);
