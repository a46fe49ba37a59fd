//! What every host serves beside its services: metrics, the OpenAPI document, and
//! problems for routes and methods that do not exist.

use roster_testing::{ADMIN, Method, StatusCode, TestApp, Topology, topology_tests};
use serde_json::json;

use crate::new_company;

async fn metrics_count_routes_and_pools(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let company = new_company(&app, "Acme").await;
    let admin = app.token(company, ADMIN);
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/v1/org/teams", &admin).await.status,
            StatusCode::OK
        );
    }
    let metrics = app.get("/metrics", "").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.header("content-type").starts_with("text/plain"));
    let text = metrics.body.as_str().expect("metrics are text");
    // Requests per route template (ids never become labels), with their status.
    let count_line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains("route=\"/api/v1/org/teams\"")
                && l.contains("method=\"GET\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request count for the teams route in:\n{text}"));
    let count: f64 = count_line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{count_line}");
    // Latency histograms per route.
    assert!(
        text.lines()
            .any(|l| l.starts_with("http_request_duration_seconds_bucket")
                && l.contains("route=\"/api/v1/org/teams\"")),
        "no latency histogram for the teams route"
    );
    // Pool connections in use and idle, per service.
    for state in ["in_use", "idle"] {
        assert!(
            text.lines().any(|l| l.starts_with("db_pool_connections")
                && l.contains("service=\"org\"")
                && l.contains(&format!("state=\"{state}\""))),
            "no {state} pool gauge for org"
        );
    }
}

async fn the_openapi_document_describes_every_route(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let document = app.get("/api/v1/openapi.json", "").await;
    assert_eq!(document.status, StatusCode::OK);
    let paths = document.body["paths"].as_object().expect("paths");
    // Exactly the routes of the access tables, but the internal ones, are documented.
    let mut expected: Vec<(String, String)> = roster_service::PLATFORM_ACCESS
        .iter()
        .chain(roster::SERVICES.iter().flat_map(|s| s.access))
        .filter(|rule| !rule.path.starts_with("/internal/"))
        .map(|rule| (rule.method.to_lowercase(), rule.path.to_owned()))
        .collect();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    expected.sort();
    documented.sort();
    assert_eq!(documented, expected);
    // Errors are documented as problems, and the bearer scheme is declared.
    let schemas = &document.body["components"]["schemas"];
    assert!(schemas["Problem"].is_object());
    // A stored enum is documented by the texts the server writes.
    assert_eq!(
        schemas["Kind"]["enum"],
        json!(["in", "out"]),
        "{}",
        schemas["Kind"]
    );
    assert_eq!(
        schemas["LedgerKind"]["enum"],
        json!(["allocation", "accrual", "taken", "adjustment", "expiry"])
    );
    assert!(document.body["components"]["securitySchemes"]["bearer"].is_object());
}

async fn unknown_routes_and_methods_are_problems(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let missing = app.get("/api/v1/nowhere", "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    // A request id is made for requests that bring none.
    assert_eq!(missing.header("x-request-id").len(), 36);

    let wrong = app
        .request(Method::DELETE, "/api/v1/org/company", None, None)
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("content-type"), "application/problem+json");

    let live = app.get("/health/live", "").await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body["status"], "ok");
}

/// HEAD is GET without the body, for load balancers and uptime checks: the same
/// answer and access rule, nothing refused for want of a rule of its own.
async fn head_is_get_without_a_body(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let company = new_company(&app, "Acme").await;
    let admin = app.token(company, ADMIN);
    for (path, token, status) in [
        ("/health/live", None, StatusCode::OK),
        ("/health/ready", None, StatusCode::OK),
        ("/metrics", None, StatusCode::OK),
        ("/api/v1/org/teams", Some(admin.as_str()), StatusCode::OK),
        ("/api/v1/org/teams", None, StatusCode::UNAUTHORIZED),
    ] {
        let head = app.request(Method::HEAD, path, token, None).await;
        assert_eq!(head.status, status, "HEAD {path}");
        assert_eq!(
            head.body,
            serde_json::Value::Null,
            "HEAD {path} has no body"
        );
    }
    // What anyone may read of the platform says which service, never where it lives.
    let place = app.db("org").place().to_owned();
    for path in ["/health/ready", "/metrics"] {
        let said = app.get(path, "").await.body.to_string();
        assert!(!said.contains(&place), "{path}: {said}");
        assert!(!said.contains(".db"), "{path}: {said}");
    }
}

topology_tests!(
    head_is_get_without_a_body,
    metrics_count_routes_and_pools,
    the_openapi_document_describes_every_route,
    unknown_routes_and_methods_are_problems,
);
