//! In-app notifications over HTTP on every topology, fed by events: a welcome on
//! onboarding, a task to its new assignee, and to its creator a task whose assignee
//! left; each person reads and marks only their own.

use std::time::{Duration, Instant};

use roster_testing::{StatusCode, TestApp, Topology, topology_tests};
use serde_json::{Value, json};

use crate::accounts::sign_up;
use crate::replicas::in_step;
use crate::tasks::{create_task, person};

/// Waits until `token`'s notifications hold `count`, failing after 20 s.
async fn notified(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = app.get("/api/v1/notifications", token).await;
        assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
        let items = list.body["items"].as_array().unwrap().clone();
        if items.len() >= count {
            assert_eq!(items.len(), count, "{items:?}");
            return items;
        }
        assert!(Instant::now() < deadline, "only {items:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn events_become_notifications(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let first = notified(&app, admin, 1).await;
    assert_eq!(first[0]["title"], "Welcome, Ada!");
    let (eve_id, eve) = person(
        &app,
        admin,
        json!({"email": "eve@acme.test", "name": "Eve", "role": "employee"}),
    )
    .await;
    let welcome = notified(&app, &eve, 1).await;
    assert_eq!(welcome[0]["kind"], "welcome");
    assert_eq!(welcome[0]["title"], "Welcome, Eve!");
    assert_eq!(welcome[0]["read"], false);
    in_step(&app).await;

    // A task assigned to Eve reaches her; one she gives herself does not.
    let task = app
        .post(
            "/api/v1/tasks",
            admin,
            &json!({"title": "Fix the door", "assignee_id": eve_id, "due_date": "2026-12-15"}),
        )
        .await;
    assert_eq!(task.status, StatusCode::CREATED, "{:?}", task.body);
    create_task(&app, &eve, json!({"title": "Mine", "assignee_id": eve_id})).await;
    let task_id = task.body["id"].as_str().unwrap();
    let items = notified(&app, &eve, 2).await;
    let assigned = &items[1];
    assert_eq!(assigned["kind"], "task.assigned");
    assert_eq!(assigned["title"], "New task: Fix the door");
    assert_eq!(
        assigned["body"],
        "You were assigned \"Fix the door\", due 2026-12-15."
    );
    assert_eq!(assigned["link"], format!("/api/v1/tasks/{task_id}"));

    // Read and unread, for Eve only.
    let count = app.get("/api/v1/notifications/unread-count", &eve).await;
    assert_eq!(count.body, json!({"unread": 2}));
    let path = format!(
        "/api/v1/notifications/{}/read",
        welcome[0]["id"].as_str().unwrap()
    );
    let by_admin = app.post(&path, admin, &json!({})).await;
    assert_eq!(by_admin.status, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let read = app.post(&path, &eve, &json!({})).await;
        assert_eq!(read.status, StatusCode::NO_CONTENT);
    }
    let unread = app.get("/api/v1/notifications?unread=true", &eve).await;
    let unread = unread.body["items"].as_array().unwrap();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0]["kind"], "task.assigned");
    let count = app.get("/api/v1/notifications/unread-count", &eve).await;
    assert_eq!(count.body, json!({"unread": 1}));
    let all = app.get("/api/v1/notifications", &eve).await;
    assert_eq!(all.body["items"][0]["read"], true);
    assert!(all.body["items"][0]["read_at"].is_string());

    // Eve leaves: the admin (welcomed at signup), who created her open task, learns it
    // has no assignee.
    let gone = app
        .delete(&format!("/api/v1/people/employees/{eve_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let items = notified(&app, admin, 2).await;
    assert_eq!(items[0]["title"], "Welcome, Ada!");
    assert_eq!(items[1]["kind"], "task.unassigned");
    assert_eq!(items[1]["title"], "Unassigned: Fix the door");
    assert_eq!(items[1]["link"], format!("/api/v1/tasks/{task_id}"));
}

topology_tests!(events_become_notifications);
