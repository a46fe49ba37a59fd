//! With two companies, every route of org, people, tasks, presence and notifications
//! that names a record is called with
//! company A's admin token and company B's ids: each answers 404, lists never show B's
//! records, and B's data is unchanged afterwards. A route the matrix does not know
//! fails the test, so new routes join it.

use std::collections::BTreeMap;

use roster_http::Access;
use roster_testing::{Method, StatusCode, TestApp, Topology, topology_tests};
use serde_json::{Value, json};

use crate::accounts::{PASSWORD, hire, log_in, sign_up};
use crate::presence::org_in_step;
use crate::replicas::in_step;

async fn one_company_never_reaches_another(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let a = sign_up(&app, "Acme", "ada@acme.test").await;
    let b = sign_up(&app, "Globex", "hank@globex.test").await;

    // B's records, one of each kind.
    let post = |path: &'static str, body: Value| {
        let (app, token) = (&app, b.admin.clone());
        async move {
            let answer = app.post(path, &token, &body).await;
            assert!(answer.status.is_success(), "{path}: {:?}", answer.body);
            answer.body["id"].as_str().unwrap().to_owned()
        }
    };
    let team = post("/api/v1/org/teams", json!({"name": "Secret"})).await;
    let location = post(
        "/api/v1/org/locations",
        json!({"name": "Vault", "latitude": 1.0, "longitude": 1.0, "radius_m": 5}),
    )
    .await;
    let calendar = post("/api/v1/org/holiday-calendars", json!({"name": "Private"})).await;
    let holiday = post(
        "/api/v1/org/holidays",
        json!({"date": "2026-07-14", "name": "Bastille Day"}),
    )
    .await;
    let employee = hire(
        &app,
        &b.admin,
        json!({"email": "pat@globex.test", "name": "Pat", "surname": "Smith", "role": "employee",
               "password": PASSWORD, "team_ids": [team], "manager_id": b.admin_id}),
    )
    .await;
    assert_eq!(employee.status, StatusCode::CREATED, "{:?}", employee.body);
    let employee = employee.body["id"].as_str().unwrap().to_owned();
    // The tasks service knows B's employee once its replica caught up.
    in_step(&app).await;
    let task = post(
        "/api/v1/tasks",
        json!({"title": "Secret plan", "assignee_id": employee}),
    )
    .await;
    // Pat checks in at B's office with B's tag once presence knows them.
    org_in_step(&app, &b.company_id, "UTC", 1).await;
    let tag = post(
        "/api/v1/presence/nfc-tags",
        json!({"uid": "B0B0B0B0", "label": "Vault door", "location_id": location}),
    )
    .await;
    let pat = log_in(&app, "pat@globex.test", PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let checkin = app
        .post(
            "/api/v1/presence/checkins",
            &pat,
            &json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "B0B0B0B0"}),
        )
        .await;
    assert_eq!(checkin.status, StatusCode::CREATED, "{:?}", checkin.body);
    let checkin = checkin.body["id"].as_str().unwrap().to_owned();
    // B's leave type, and days granted to Pat.
    let annual = post(
        "/api/v1/leave/types",
        json!({"name": "Annual", "paid": true, "annual_allowance_days": 25, "accrual": "monthly"}),
    )
    .await;
    post(
        "/api/v1/leave/adjustments",
        json!({"employee_id": employee, "leave_type_id": annual, "days": 3, "kind": "allocation", "note": "Welcome"}),
    )
    .await;
    let leave_request = app
        .post(
            "/api/v1/leave/requests",
            &pat,
            &json!({"leave_type_id": annual, "start_date": "2027-01-04", "end_date": "2027-01-05"}),
        )
        .await;
    assert_eq!(
        leave_request.status,
        StatusCode::CREATED,
        "{:?}",
        leave_request.body
    );
    let leave_request = leave_request.body["id"].as_str().unwrap().to_owned();
    // B's admin was welcomed at signup.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let notification = loop {
        let list = app.get("/api/v1/notifications", &b.admin).await;
        if let Some(id) = list.body["items"][0]["id"].as_str() {
            break id.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B's admin was never welcomed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };

    // B's webhook (for decisions, which none of this makes) and one of its
    // deliveries (its admin's welcome email); its own wording of welcomes.
    let webhook = post(
        "/api/v1/notifications/webhooks",
        json!({"url": "https://hooks.globex.test/roster", "kinds": ["leave.decided"]}),
    )
    .await;
    let wording = json!({"title": "Globex welcomes {{ employee.name }}", "body": "Hi."});
    let set = app
        .request(
            Method::PUT,
            "/api/v1/notifications/templates/welcome",
            Some(&b.admin),
            Some(&wording),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let delivery = loop {
        let list = app.get("/api/v1/notifications/deliveries", &b.admin).await;
        if let Some(id) = list.body["items"][0]["id"].as_str() {
            break id.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "B's admin was never emailed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };

    let ids: BTreeMap<&str, &str> = BTreeMap::from([
        ("/api/v1/org/teams/{id}", team.as_str()),
        ("/api/v1/org/locations/{id}", location.as_str()),
        ("/api/v1/org/holiday-calendars/{id}", calendar.as_str()),
        ("/api/v1/org/holidays/{id}", holiday.as_str()),
        ("/api/v1/people/employees/{id}", employee.as_str()),
        ("/api/v1/tasks/{id}", task.as_str()),
        ("/api/v1/notifications/{id}/read", notification.as_str()),
        ("/api/v1/notifications/webhooks/{id}", webhook.as_str()),
        ("/api/v1/notifications/deliveries/{id}", delivery.as_str()),
        ("/api/v1/presence/checkins/{id}", checkin.as_str()),
        ("/api/v1/presence/checkins/{id}/history", checkin.as_str()),
        ("/api/v1/presence/nfc-tags/{id}", tag.as_str()),
        (
            "/api/v1/leave/balances/{employee_id}/ledger",
            employee.as_str(),
        ),
        (
            "/api/v1/leave/requests/{id}/approve",
            leave_request.as_str(),
        ),
        ("/api/v1/leave/requests/{id}/reject", leave_request.as_str()),
        ("/api/v1/leave/requests/{id}/cancel", leave_request.as_str()),
    ]);
    let snapshot = |token: String| {
        let app = &app;
        let reads: Vec<String> = ids
            .iter()
            .filter(|(path, _)| {
                !path.contains("holidays")
                    && !path.ends_with("/read")
                    && !path.starts_with("/api/v1/notifications/")
                    && !path.contains("nfc-tags")
                    && !path.starts_with("/api/v1/leave/requests/")
            })
            .map(|(path, id)| path.replace("{id}", id).replace("{employee_id}", id))
            .chain([
                "/api/v1/org/company".to_owned(),
                "/api/v1/org/holidays".to_owned(),
                "/api/v1/notifications".to_owned(),
                "/api/v1/notifications/templates".to_owned(),
                "/api/v1/notifications/webhooks".to_owned(),
                "/api/v1/notifications/preferences".to_owned(),
                "/api/v1/presence/nfc-tags".to_owned(),
                "/api/v1/presence/checkins".to_owned(),
                "/api/v1/presence/attendance".to_owned(),
                "/api/v1/leave/types".to_owned(),
                format!("/api/v1/leave/balances?employee_id={employee}"),
                "/api/v1/leave/requests".to_owned(),
            ])
            .collect();
        async move {
            let mut seen = Vec::new();
            for path in reads {
                seen.push(app.get(&path, &token).await.body);
            }
            seen
        }
    };
    let before = snapshot(b.admin.clone()).await;

    let rules = roster::SERVICES
        .iter()
        .filter(|s| {
            [
                "org",
                "people",
                "tasks",
                "presence",
                "leave",
                "notifications",
            ]
            .contains(&s.name)
        })
        .flat_map(|s| s.access)
        .filter(|r| !matches!(r.access, Access::Service | Access::Public));
    for rule in rules {
        let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
        let label = format!("{} {}", rule.method, rule.path);
        if rule.path.ends_with("{kind}") {
            // A kind is no company's: A words its own welcomes (and resets them),
            // which B's snapshot shows left B's alone.
            let answer = app
                .request(
                    method,
                    &rule.path.replace("{kind}", "welcome"),
                    Some(&a.admin),
                    Some(&json!({"title": "Acme says hi", "body": "Hi."})),
                )
                .await;
            assert!(answer.status.is_success(), "{label}: {:?}", answer.body);
        } else if rule.path.contains('{') {
            let id = ids
                .get(rule.path)
                .unwrap_or_else(|| panic!("{label} is missing from the isolation matrix"));
            // A body each route takes, so that only the id can make it refuse.
            let body = match rule.path {
                "/api/v1/people/employees/{id}" => json!({"email": "mine@acme.test"}),
                "/api/v1/tasks/{id}" => json!({"title": "Mine"}),
                "/api/v1/presence/checkins/{id}" => {
                    json!({"at": "2026-11-20T08:00:00Z", "reason": "Mine"})
                }
                path if path.starts_with("/api/v1/leave/requests/") => json!({}),
                "/api/v1/org/holiday-calendars/{id}" => {
                    json!({"name": "Mine", "is_default": true})
                }
                _ => json!({"name": "Mine"}),
            };
            let answer = app
                .request(
                    method,
                    &rule.path.replace("{id}", id).replace("{employee_id}", id),
                    Some(&a.admin),
                    Some(&body),
                )
                .await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{label}");
        } else if rule.path == "/api/v1/notifications/stream" {
            // It never ends and takes no filter: it serves the caller's own, as its
            // own test shows.
            continue;
        } else if rule.method == "GET" {
            // Lists and reads, filtered by B's ids where they filter.
            let path = format!(
                "{}?team_id={team}&manager_id={}&parent_id={team}&calendar_id={calendar}&assignee_id={employee}&employee_id={employee}&month=2026-12",
                rule.path, b.admin_id
            );
            let answer = app.get(&path, &a.admin).await;
            let text = answer.body.to_string();
            for id in ids
                .values()
                .chain([&b.company_id.as_str(), &b.admin_id.as_str()])
            {
                assert!(!text.contains(id), "{label} shows B's {id}: {text}");
            }
        }
    }
    // Writes that reference B's records are refused as unknown.
    let adopt = app
        .post(
            "/api/v1/org/teams",
            &a.admin,
            &json!({"name": "Spies", "parent_id": team}),
        )
        .await;
    assert_eq!(adopt.status, StatusCode::UNPROCESSABLE_ENTITY);
    for body in [
        json!({"email": "x@acme.test", "name": "X", "surname": "Y", "role": "employee", "password": PASSWORD, "team_ids": [team]}),
        json!({"email": "x@acme.test", "name": "X", "surname": "Y", "role": "employee", "password": PASSWORD, "manager_id": employee}),
    ] {
        let answer = hire(&app, &a.admin, body).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:?}",
            answer.body
        );
    }

    let assign = app
        .post(
            "/api/v1/tasks",
            &a.admin,
            &json!({"title": "Spy", "assignee_id": employee}),
        )
        .await;
    assert_eq!(assign.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(assign.error_fields(), ["assignee_id"]);

    // Leave: B's employee and leave type are unknown to A.
    let b_type = app.get("/api/v1/leave/types", &b.admin).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_type = app
        .post(
            "/api/v1/leave/types",
            &a.admin,
            &json!({"name": "Annual", "paid": true, "annual_allowance_days": 20, "accrual": "none"}),
        )
        .await;
    assert_eq!(a_type.status, StatusCode::CREATED);
    for (who, kind) in [
        (employee.as_str(), a_type.body["id"].as_str().unwrap()),
        (a.admin_id.as_str(), b_type.as_str()),
    ] {
        let answer = app
            .post(
                "/api/v1/leave/adjustments",
                &a.admin,
                &json!({"employee_id": who, "leave_type_id": kind, "days": 1, "kind": "allocation", "note": "Spy"}),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:?}",
            answer.body
        );
    }

    // Presence: B's tag, location and employee are unknown to A.
    org_in_step(&app, &a.company_id, "UTC", 0).await;
    let presence_writes = [
        (
            "/api/v1/presence/checkins",
            json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "B0B0B0B0"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/presence/checkins",
            json!({"kind": "in", "method": "geo", "latitude": 1.0, "longitude": 1.0}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/presence/checkins",
            json!({"kind": "in", "method": "manual", "employee_id": employee, "reason": "Spy"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/presence/nfc-tags",
            json!({"uid": "A0A0", "label": "Spy", "location_id": location}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (path, body, status) in presence_writes {
        let answer = app.post(path, &a.admin, &body).await;
        assert_eq!(answer.status, status, "{path} {body}: {:?}", answer.body);
    }

    assert_eq!(snapshot(b.admin.clone()).await, before, "B's data changed");
}

topology_tests!(one_company_never_reaches_another);
