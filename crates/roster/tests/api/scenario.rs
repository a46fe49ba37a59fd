//! A working day end to end over HTTP, with every service in one process (as
//! `roster up`) and with each service on its own listener behind the gateway (as
//! `roster serve` and `roster gateway`): a manager assigns a task and the employee's
//! notification stream shows it; the employee checks in with an NFC tag and the
//! day's attendance shows it; the employee asks for three days of leave and the
//! manager is told; the manager approves, the balance and its ledger show the three
//! days and the employee is told; the employee leaves, their open tasks become
//! unassigned and their pending leave is cancelled. Each hop's time is printed
//! (`--nocapture`), never asserted.

use std::time::{Duration, Instant};

use roster_testing::{StatusCode, TestApp, Topology, topology_tests};
use serde_json::{Value, json};
use time::{OffsetDateTime, Weekday};

use crate::accounts::sign_up;
use crate::notifications::{next_event, open_stream};
use crate::presence::org_in_step;
use crate::replicas::in_step;
use crate::tasks::{Crew, create_task, crew};

/// Asks `path` until `done` holds of its answer, failing after 20 s: the answer.
async fn until(app: &TestApp, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = app.get(path, token).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
        if done(&answer.body) {
            return answer.body;
        }
        assert!(Instant::now() < deadline, "{path}: {:?}", answer.body);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The Monday at least a week ahead.
fn monday_ahead() -> time::Date {
    let mut day = OffsetDateTime::now_utc().date() + time::Duration::days(7);
    while day.weekday() != Weekday::Monday {
        day = day.next_day().unwrap();
    }
    day
}

async fn working_day(app: TestApp, how: &str) {
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let Crew {
        max, eve_id, eve, ..
    } = crew(&app, admin, [json!({}), json!({}), json!({})]).await;
    let office = create(
        &app,
        admin,
        "/api/v1/org/locations",
        json!({"name": "Office", "latitude": 38.7223, "longitude": -9.1393, "radius_m": 150}),
    )
    .await;
    org_in_step(&app, &acme.company_id, "UTC", 1).await;
    create(
        &app,
        admin,
        "/api/v1/presence/nfc-tags",
        json!({"uid": "04:A2:2B:1C", "label": "Front door", "location_id": office}),
    )
    .await;
    let annual = create(
        &app,
        admin,
        "/api/v1/leave/types",
        json!({"name": "Annual", "paid": true, "annual_allowance_days": 25, "accrual": "none"}),
    )
    .await;
    create(
        &app,
        admin,
        "/api/v1/leave/adjustments",
        json!({"employee_id": eve_id, "leave_type_id": annual, "days": 10, "kind": "allocation",
               "note": "This year's"}),
    )
    .await;
    in_step(&app).await;
    let mut hops = Vec::new();

    // Max assigns Eve a task: her stream shows it.
    let mut eves = open_stream(&app, &eve).await;
    next_event(&mut eves, "unread").await;
    let mut maxs = open_stream(&app, &max).await;
    next_event(&mut maxs, "unread").await;
    let started = Instant::now();
    let task = create_task(
        &app,
        &max,
        json!({"title": "Fix the door", "assignee_id": eve_id}),
    )
    .await;
    let shown = next_event(&mut eves, "notification").await;
    hops.push(("task assigned -> employee's stream", started.elapsed()));
    assert_eq!(shown["kind"], "task.assigned");
    assert_eq!(shown["title"], "New task: Fix the door");

    // Eve taps the door's tag: today's attendance has her in.
    let started = Instant::now();
    let tap = app
        .post(
            "/api/v1/presence/checkins",
            &eve,
            &json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "04a22b1c"}),
        )
        .await;
    assert_eq!(tap.status, StatusCode::CREATED, "{:?}", tap.body);
    let day = app
        .get(
            &format!("/api/v1/presence/attendance?employee_id={eve_id}"),
            &max,
        )
        .await;
    hops.push(("NFC check-in -> day's attendance", started.elapsed()));
    let row = &day.body["employees"][0];
    assert_eq!(row["checked_in"], true, "{:?}", day.body);
    assert_eq!(row["first_in"], tap.body["at"]);

    // Eve asks for Monday to Wednesday: Max is told at once.
    let monday = monday_ahead();
    let started = Instant::now();
    let asked = app
        .post(
            "/api/v1/leave/requests",
            &eve,
            &json!({"leave_type_id": annual, "start_date": monday.to_string(),
                      "end_date": (monday + time::Duration::days(2)).to_string()}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{:?}", asked.body);
    assert_eq!(asked.body["days"], 3.0);
    let told = next_event(&mut maxs, "notification").await;
    hops.push(("leave requested -> manager's stream", started.elapsed()));
    assert_eq!(told["kind"], "leave.awaiting_approval");
    let request = asked.body["id"].as_str().unwrap();

    // Max approves: the balance and its ledger show the three days, and Eve is told.
    let started = Instant::now();
    let approved = app
        .post(
            &format!("/api/v1/leave/requests/{request}/approve"),
            &max,
            &json!({}),
        )
        .await;
    assert_eq!(approved.body["status"], "approved", "{:?}", approved.body);
    let balances = app
        .get(
            &format!("/api/v1/leave/balances?employee_id={eve_id}"),
            &max,
        )
        .await;
    let ledger = app
        .get(&format!("/api/v1/leave/balances/{eve_id}/ledger"), &max)
        .await;
    hops.push(("approval -> balance and ledger", started.elapsed()));
    let told = next_event(&mut eves, "notification").await;
    hops.push(("approval -> employee's stream", started.elapsed()));
    assert_eq!(told["kind"], "leave.decided");
    let annual_balance = balances
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "Annual")
        .unwrap();
    assert_eq!(annual_balance["available"], 7.0, "{:?}", balances.body);
    let taken = ledger.body.as_array().unwrap().last().unwrap();
    assert_eq!(
        (&taken["kind"], &taken["days"]),
        (&json!("taken"), &json!(-3.0))
    );

    // Eve asks for the week after too, then leaves: her open task loses its assignee
    // and the pending request is cancelled.
    let later = monday + time::Duration::days(7);
    let pending = app
        .post(
            "/api/v1/leave/requests",
            &eve,
            &json!({"leave_type_id": annual, "start_date": later.to_string(),
                      "end_date": later.to_string()}),
        )
        .await;
    assert_eq!(pending.status, StatusCode::CREATED, "{:?}", pending.body);
    let pending = pending.body["id"].as_str().unwrap().to_owned();
    next_event(&mut maxs, "notification").await;
    let started = Instant::now();
    let gone = app
        .delete(&format!("/api/v1/people/employees/{eve_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    until(&app, admin, &task_path, |t| t["assignee_id"].is_null()).await;
    hops.push(("deactivation -> task unassigned", started.elapsed()));
    until(&app, admin, "/api/v1/leave/requests", |list| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == pending.as_str() && r["status"] == "cancelled")
    })
    .await;
    hops.push(("deactivation -> pending leave cancelled", started.elapsed()));
    let told = next_event(&mut maxs, "notification").await;
    assert_eq!(told["kind"], "task.unassigned");

    for (hop, took) in hops {
        eprintln!("{how}: {hop}: {:.1} ms", took.as_secs_f64() * 1000.0);
    }
}

async fn create(app: &TestApp, admin: &str, path: &str, body: Value) -> String {
    let made = app.post(path, admin, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{path}: {:?}", made.body);
    made.body["id"].as_str().unwrap().to_owned()
}

async fn together(topology: Topology) {
    if let Some(app) = TestApp::spawn(topology, roster::SERVICES).await {
        working_day(app, &format!("{topology:?}, one process")).await;
    }
}

topology_tests!(together);

/// Services run apart only over NATS (the embedded bus carries events within one
/// process): on PostgreSQL.
mod apart {
    use roster_testing::{TestApp, Topology};

    async fn apart(topology: Topology) {
        if let Some(app) = TestApp::spawn_apart(topology, roster::SERVICES).await {
            super::working_day(app, &format!("{topology:?}, apart behind the gateway")).await;
        }
    }

    roster_testing::postgres_topology_tests!(apart);
}
