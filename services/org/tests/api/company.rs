use roster_testing::{EMPLOYEE, Method, StatusCode, Topology, topology_tests};
use serde_json::json;
use uuid::Uuid;

use crate::Org;

async fn the_company_needs_a_valid_token(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;

    let none = app
        .request(Method::GET, "/api/v1/org/company", None, None)
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.header("content-type"), "application/problem+json");
    assert_eq!(none.header("www-authenticate"), "Bearer");

    let garbage = app.get("/api/v1/org/company", "not-a-token").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);

    let company = app.get("/api/v1/org/company", &org.admin).await;
    assert_eq!(company.status, StatusCode::OK, "{:?}", company.body);
    assert_eq!(company.body["id"], org.company.to_string());
    assert_eq!(company.body["name"], "Acme");
    assert_eq!(company.body["settings"]["timezone"], "UTC");
    assert_eq!(
        company.body["settings"]["working_days"],
        json!(["monday", "tuesday", "wednesday", "thursday", "friday"])
    );

    // A valid token for a company org does not know.
    let stranger = app.token(Uuid::now_v7(), EMPLOYEE);
    assert_eq!(
        app.get("/api/v1/org/company", &stranger).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn only_admins_change_the_company(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let employee = app.token(org.company, EMPLOYEE);

    let refused = app
        .patch("/api/v1/org/company", &employee, &json!({"name": "Mine"}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let renamed = app
        .patch(
            "/api/v1/org/company",
            &org.admin,
            &json!({"name": "  Acme Ltd "}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "Acme Ltd");
    assert_eq!(
        app.get("/api/v1/org/company", &employee).await.body["name"],
        "Acme Ltd"
    );
}

async fn settings_are_validated_field_by_field(topology: Topology) {
    let Some(org) = Org::spawn(topology).await else {
        return;
    };
    let app = &org.app;
    let path = "/api/v1/org/company/settings";

    let changed = app
        .patch(
            path,
            &org.admin,
            &json!({"timezone": "Europe/Paris", "working_days": ["sunday", "monday"], "currency": "CHF"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["timezone"], "Europe/Paris");
    assert_eq!(changed.body["working_days"], json!(["monday", "sunday"]));
    assert_eq!(
        changed.body["locale"], "en",
        "untouched fields keep their value"
    );

    for (body, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"working_days": []}), "working_days"),
        (json!({"currency": "euro"}), "currency"),
        (
            json!({"fiscal_year_start_month": 13}),
            "fiscal_year_start_month",
        ),
    ] {
        let refused = app.patch(path, &org.admin, &body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused.error_fields(), [field]);
    }

    let wrong_type = app.patch(path, &org.admin, &json!({"timezone": 5})).await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.error_fields(), ["timezone"]);

    let malformed = app
        .send_raw(
            Method::PATCH,
            path,
            &org.admin,
            "application/json",
            "{\"timezone\": ",
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_fields(), ["body"]);

    let not_json = app
        .send_raw(
            Method::PATCH,
            path,
            &org.admin,
            "text/plain",
            "timezone=UTC",
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Nothing of the refused requests was applied.
    assert_eq!(
        app.get(path, &org.admin).await.body["timezone"],
        "Europe/Paris"
    );
}

topology_tests!(
    the_company_needs_a_valid_token,
    only_admins_change_the_company,
    settings_are_validated_field_by_field,
);
