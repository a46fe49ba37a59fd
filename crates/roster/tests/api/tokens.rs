//! Tokens that must not work, and a route table that every route obeys.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use roster_http::Access;
use roster_testing::{EMPLOYEE, Method, StatusCode, TestApp, Topology, topology_tests};
use roster_tokens::{Role, SigningKey};
use uuid::Uuid;

use crate::accounts::{PASSWORD, log_in, sign_up};

async fn bad_tokens_are_refused(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    sign_up(&app, "Acme", "ada@acme.test").await;
    let login = log_in(&app, "ada@acme.test", PASSWORD).await;
    let good = login.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/people/me", &good).await.status,
        StatusCode::OK
    );

    let parts: Vec<&str> = good.split('.').collect();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    // Another company in the claims, the signature kept.
    let mut forged = claims.clone();
    forged["company_id"] = serde_json::json!(Uuid::now_v7());
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    // No signature at all.
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"none","typ":"JWT","kid":{}}}"#,
            header["kid"]
        )),
        parts[1]
    );
    // A key nobody trusts, and a trusted key's expired token.
    let stranger = SigningKey::generate().unwrap();
    let claims_of = |ttl| roster_testing::claims(Uuid::now_v7(), &[Role::Admin], ttl);
    let wrong_key = stranger
        .sign(&claims_of(time::Duration::minutes(5)))
        .unwrap();
    let expired = app.token_with(claims_of(time::Duration::minutes(-10)));
    for (label, token) in [
        ("tampered", tampered.as_str()),
        ("alg none", &none),
        ("wrong key", &wrong_key),
        ("expired", &expired),
        ("garbage", "not-a-token"),
    ] {
        let answer = app.get("/api/v1/people/me", token).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(answer.header("content-type"), "application/problem+json");
    }
}

/// Every route of the access tables, called without a token, with a user's token and
/// with the service credential: each answers as its rule says, before any handler.
async fn every_route_obeys_its_access_rule(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let employee = app.token(Uuid::now_v7(), EMPLOYEE);
    let rules = roster::SERVICES.iter().flat_map(|s| s.access);
    for rule in rules {
        let path = rule.path.replace("{id}", &Uuid::now_v7().to_string());
        let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
        let body = serde_json::json!({});
        let anonymous = app.request(method.clone(), &path, None, Some(&body)).await;
        let as_employee = app
            .request(method.clone(), &path, Some(&employee), Some(&body))
            .await;
        let label = format!("{} {}", rule.method, rule.path);
        match rule.access {
            Access::Public => {
                assert_ne!(anonymous.status, StatusCode::UNAUTHORIZED, "{label}");
                assert_ne!(anonymous.status, StatusCode::FORBIDDEN, "{label}");
            }
            Access::Member => {
                assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{label}");
                assert_ne!(as_employee.status, StatusCode::FORBIDDEN, "{label}");
                assert_ne!(as_employee.status, StatusCode::UNAUTHORIZED, "{label}");
            }
            Access::Roles(roles) => {
                assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{label}");
                let expected = match roles.contains(&Role::Employee) {
                    true => as_employee.status != StatusCode::FORBIDDEN,
                    false => as_employee.status == StatusCode::FORBIDDEN,
                };
                assert!(expected, "{label}: {}", as_employee.status);
            }
            Access::Service => {
                // A user's token is never enough, whatever their role.
                let admin = app.token(Uuid::now_v7(), &[Role::Admin]);
                let as_admin = app
                    .request(method.clone(), &path, Some(&admin), Some(&body))
                    .await;
                assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{label}");
                assert_eq!(as_admin.status, StatusCode::UNAUTHORIZED, "{label}");
            }
        }
        assert_ne!(
            anonymous.status,
            StatusCode::NOT_FOUND,
            "{label}: no such route"
        );
        assert_ne!(anonymous.status, StatusCode::METHOD_NOT_ALLOWED, "{label}");
    }
}

topology_tests!(bad_tokens_are_refused, every_route_obeys_its_access_rule);
