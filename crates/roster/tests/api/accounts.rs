//! Signup to login to employees, over HTTP, on every topology and with the services
//! apart behind the gateway.

use roster_testing::{Method, StatusCode, TestApp, TestResponse, Topology, topology_tests};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";

/// A company signed up over HTTP, with its admin logged in.
#[derive(Debug)]
pub struct SignedUp {
    pub company_id: String,
    pub admin_id: String,
    pub admin: String,
}

pub async fn sign_up(app: &TestApp, company: &str, email: &str) -> SignedUp {
    let answer = app
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(&json!({
                "company_name": company,
                "admin_email": email,
                "admin_password": PASSWORD,
                "admin_name": "Ada",
                "admin_surname": "Admin",
            })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let login = log_in(app, email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    SignedUp {
        company_id: answer.body["company_id"].as_str().unwrap().to_owned(),
        admin_id: answer.body["employee_id"].as_str().unwrap().to_owned(),
        admin: login.body["access_token"].as_str().unwrap().to_owned(),
    }
}

pub async fn log_in(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(&json!({"email": email, "password": password})),
    )
    .await
}

pub async fn hire(app: &TestApp, admin: &str, body: Value) -> TestResponse {
    app.post("/api/v1/people/employees", admin, &body).await
}

pub async fn refresh(app: &TestApp, token: &str) -> TestResponse {
    app.request(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": token})),
    )
    .await
}

async fn whole_flow(app: &TestApp) {
    let acme = sign_up(app, "Acme", "ada@acme.test").await;
    let company = app.get("/api/v1/org/company", &acme.admin).await;
    assert_eq!(company.body["name"], "Acme");
    assert_eq!(company.body["id"], acme.company_id.as_str());
    let me = app.get("/api/v1/people/me", &acme.admin).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["role"], "admin");
    assert_eq!(me.body["id"], acme.admin_id.as_str());

    let team = app
        .post(
            "/api/v1/org/teams",
            &acme.admin,
            &json!({"name": "Support"}),
        )
        .await;
    let manager = hire(
        app,
        &acme.admin,
        json!({"email": "max@acme.test", "name": "Max", "surname": "Manager", "role": "manager",
               "password": PASSWORD, "team_ids": [team.body["id"]], "hire_date": "2026-01-05",
               "salary": {"amount": "64000", "currency": "eur"}}),
    )
    .await;
    assert_eq!(manager.status, StatusCode::CREATED, "{:?}", manager.body);
    assert_eq!(manager.body["team_ids"], json!([team.body["id"]]));
    assert_eq!(manager.body["salary"]["amount"], "64000.00");
    let employee = hire(
        app,
        &acme.admin,
        json!({"email": "eve@acme.test", "name": "Eve", "surname": "Employee", "role": "employee",
               "password": PASSWORD, "manager_id": manager.body["id"]}),
    )
    .await;
    assert_eq!(employee.status, StatusCode::CREATED, "{:?}", employee.body);
    assert_eq!(employee.body["manager_id"], manager.body["id"]);
    assert_eq!(employee.body["status"], "active");

    // Both log in with their own password and see themselves.
    let max = log_in(app, "max@acme.test", PASSWORD).await;
    assert_eq!(max.status, StatusCode::OK);
    assert_eq!(max.body["token_type"], "Bearer");
    assert_eq!(max.body["expires_in"], 900);
    let eve = log_in(app, "EVE@acme.test", PASSWORD).await;
    assert_eq!(eve.status, StatusCode::OK);
    let eve_token = eve.body["access_token"].as_str().unwrap();
    let eve_me = app.get("/api/v1/people/me", eve_token).await;
    assert_eq!(eve_me.body["email"], "eve@acme.test");
    // Salaries are for administrators only.
    let seen_by_eve = app
        .get(
            &format!(
                "/api/v1/people/employees/{}",
                manager.body["id"].as_str().unwrap()
            ),
            eve_token,
        )
        .await;
    assert_eq!(seen_by_eve.status, StatusCode::OK);
    assert!(seen_by_eve.body.get("salary").is_none());
    // An employee cannot hire.
    let refused = hire(app, eve_token, json!({"email": "x@acme.test", "name": "X", "surname": "Y", "role": "employee", "password": PASSWORD})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Refresh, then refresh again with the spent token: 401, and the session is dead.
    let first = eve.body["refresh_token"].as_str().unwrap();
    let renewed = refresh(app, first).await;
    assert_eq!(renewed.status, StatusCode::OK, "{:?}", renewed.body);
    let second = renewed.body["refresh_token"].as_str().unwrap();
    assert_ne!(first, second);
    let renewed_access = renewed.body["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/people/me", renewed_access).await.status,
        StatusCode::OK
    );
    let replayed = refresh(app, first).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(app, second).await.status,
        StatusCode::UNAUTHORIZED,
        "the whole session is revoked"
    );

    // Logout ends the session of a fresh login; its refresh token no longer works.
    let max_refresh = max.body["refresh_token"].as_str().unwrap();
    let logout = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(&json!({"refresh_token": max_refresh})),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(app, max_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Wrong password and unknown email: the same 401.
    let wrong = log_in(app, "eve@acme.test", "not her password").await;
    let unknown = log_in(app, "nobody@acme.test", "not her password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);

    // A misspelt field is refused by name rather than ignored, and changes nothing.
    let max_path = format!(
        "/api/v1/people/employees/{}",
        manager.body["id"].as_str().unwrap()
    );
    let misspelt = app
        .patch(
            &max_path,
            &acme.admin,
            &json!({"position": "Lead", "postion": "Lead"}),
        )
        .await;
    assert_eq!(misspelt.status, StatusCode::BAD_REQUEST);
    assert_eq!(misspelt.error_fields(), ["postion"]);
    let unchanged = app.get(&max_path, &acme.admin).await;
    assert_eq!(unchanged.body, manager.body);

    // A taken email is 409, and leaves nothing behind.
    let again = hire(app, &acme.admin, json!({"email": "eve@acme.test", "name": "Eve", "surname": "Again", "role": "employee", "password": PASSWORD})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let listed = app.get("/api/v1/people/employees", &acme.admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);

    // Deactivation: the employee can no longer log in, nor use the tokens they hold.
    let eve_id = employee.body["id"].as_str().unwrap();
    let deleted = app
        .delete(&format!("/api/v1/people/employees/{eve_id}"), &acme.admin)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let relog = log_in(app, "eve@acme.test", PASSWORD).await;
    assert_eq!(relog.status, StatusCode::UNAUTHORIZED);
    let inactive = app
        .get(&format!("/api/v1/people/employees/{eve_id}"), &acme.admin)
        .await;
    assert_eq!(inactive.body["status"], "inactive");
}

async fn the_whole_flow_works(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    whole_flow(&app).await;
    // Under one process, a revoked session's token stops at once.
    let acme_second = log_in(&app, "max@acme.test", PASSWORD).await;
    let token = acme_second.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh_token = acme_second.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get("/api/v1/people/me", &token).await.status,
        StatusCode::OK
    );
    app.request(
        Method::POST,
        "/api/v1/auth/logout",
        None,
        Some(&json!({"refresh_token": refresh_token})),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/people/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_whole_flow_works_apart(topology: Topology) {
    let Some(app) = TestApp::spawn_apart(topology, roster::SERVICES).await else {
        return;
    };
    whole_flow(&app).await;
}

topology_tests!(the_whole_flow_works, the_whole_flow_works_apart);
