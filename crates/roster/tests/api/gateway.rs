//! `roster serve <service>` behind `roster gateway` answers exactly as `roster up`.

use roster_testing::{ADMIN, EMPLOYEE, Method, TestApp, Topology, topology_tests};
use serde_json::{Value, json};

use crate::new_company;

/// Replaces what differs between two runs (ids, instants, cursors) with placeholders.
fn normalize(value: &Value) -> Value {
    match value {
        Value::String(s) if uuid::Uuid::parse_str(s).is_ok() => json!("<uuid>"),
        Value::String(s)
            if time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .is_ok() =>
        {
            json!("<instant>")
        }
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("next_cursor", Value::String(_)) => (k.clone(), json!("<cursor>")),
                    _ => (k.clone(), normalize(v)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A session of requests of every kind: reads, writes, each kind of error.
async fn session(app: &TestApp) -> Vec<(String, u16, Value)> {
    let company = new_company(app, "Acme").await;
    let admin = app.token(company, ADMIN);
    let employee = app.token(company, EMPLOYEE);
    let mut answers = Vec::new();
    let mut record = |label: &str, answer: roster_testing::TestResponse| {
        answers.push((
            label.to_owned(),
            answer.status.as_u16(),
            normalize(&answer.body),
        ));
        answer.body
    };
    record("company", app.get("/api/v1/org/company", &admin).await);
    record(
        "no token",
        app.request(Method::GET, "/api/v1/org/company", None, None)
            .await,
    );
    let team = record(
        "create team",
        app.post("/api/v1/org/teams", &admin, &json!({"name": "Engineering"}))
            .await,
    );
    let team_path = format!(
        "/api/v1/org/teams/{}",
        team["id"].as_str().unwrap_or_default()
    );
    record(
        "child team",
        app.post(
            "/api/v1/org/teams",
            &admin,
            &json!({"name": "Backend", "parent_id": team["id"]}),
        )
        .await,
    );
    record(
        "taken name",
        app.post("/api/v1/org/teams", &admin, &json!({"name": "Engineering"}))
            .await,
    );
    record(
        "forbidden",
        app.post("/api/v1/org/teams", &employee, &json!({"name": "Mine"}))
            .await,
    );
    record(
        "malformed",
        app.post("/api/v1/org/teams", &admin, &json!({"name": 7}))
            .await,
    );
    record("list", app.get("/api/v1/org/teams?limit=1", &admin).await);
    record(
        "rename",
        app.patch(&team_path, &admin, &json!({"description": "Builds it"}))
            .await,
    );
    record("delete with children", app.delete(&team_path, &admin).await);
    record(
        "unknown team",
        app.get(
            &format!("/api/v1/org/teams/{}", uuid::Uuid::now_v7()),
            &admin,
        )
        .await,
    );
    record(
        "unknown route",
        app.get("/api/v1/org/nothing-here", &admin).await,
    );
    record(
        "wrong method",
        app.request(Method::PUT, "/api/v1/org/company", Some(&admin), None)
            .await,
    );
    answers
}

async fn apart_answers_as_together(topology: Topology) {
    let Some(together) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let Some(apart) = TestApp::spawn_apart(topology, roster::SERVICES).await else {
        return;
    };
    let expected = session(&together).await;
    let actual = session(&apart).await;
    for (want, got) in expected.iter().zip(&actual) {
        assert_eq!(want, got, "roster gateway answered otherwise");
    }
    assert_eq!(expected.len(), actual.len());

    // One request id follows the request through the gateway to the service and back.
    let company = new_company(&apart, "Initech").await;
    let response = reqwest_get(&apart, "/api/v1/org/company", &apart.token(company, ADMIN)).await;
    assert_eq!(response, "trace-me-42");

    // The gateway is ready when the services are, and documents their routes.
    let ready = apart.get("/health/ready", "").await;
    assert_eq!(ready.status.as_u16(), 200, "{:?}", ready.body);
    let openapi = apart.get("/api/v1/openapi.json", "").await;
    assert!(openapi.body["paths"]["/api/v1/org/teams"].is_object());
}

/// Sends a request with a chosen request id; answers the id that came back.
async fn reqwest_get(app: &TestApp, path: &str, token: &str) -> String {
    let response = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

topology_tests!(apart_answers_as_together);
