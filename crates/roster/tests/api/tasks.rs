//! Tasks over HTTP on every topology: who sees which, who may change what, the
//! status workflow, assignees checked against the replica of people's employees, and
//! the open tasks of someone who leaves unassigned.

use roster_bus::outbox;
use roster_events::{Event, Task};
use roster_testing::{StatusCode, TestApp, Topology, topology_tests};
use serde_json::{Value, json};

use crate::accounts::{PASSWORD, hire, log_in, sign_up};
use crate::replicas::in_step;

/// Hires someone and logs them in: their id and access token.
pub async fn person(app: &TestApp, admin: &str, body: Value) -> (String, String) {
    let email = body["email"].as_str().unwrap().to_owned();
    let mut body = body;
    body["password"] = json!(PASSWORD);
    body["surname"] = json!("Doe");
    let hired = hire(app, admin, body).await;
    assert_eq!(hired.status, StatusCode::CREATED, "{:?}", hired.body);
    let login = log_in(app, &email, PASSWORD).await;
    (
        hired.body["id"].as_str().unwrap().to_owned(),
        login.body["access_token"].as_str().unwrap().to_owned(),
    )
}

/// Max, a manager; Eve, who reports to him; Zed, who reports to nobody: ids and
/// access tokens.
#[derive(Debug)]
pub struct Crew {
    pub max_id: String,
    pub max: String,
    pub eve_id: String,
    pub eve: String,
    pub zed_id: String,
    pub zed: String,
}

/// Hires the [`Crew`], each with the fields of `extra` (max's, eve's, zed's) beside
/// their own.
pub async fn crew(app: &TestApp, admin: &str, extra: [Value; 3]) -> Crew {
    let [max_extra, eve_extra, zed_extra] = extra;
    let with = |mut body: Value, extra: Value| {
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let (max_id, max) = person(
        app,
        admin,
        with(
            json!({"email": "max@acme.test", "name": "Max", "role": "manager"}),
            max_extra,
        ),
    )
    .await;
    let eve_body = json!({"email": "eve@acme.test", "name": "Eve", "role": "employee",
                          "manager_id": max_id});
    let (eve_id, eve) = person(app, admin, with(eve_body, eve_extra)).await;
    let (zed_id, zed) = person(
        app,
        admin,
        with(
            json!({"email": "zed@acme.test", "name": "Zed", "role": "employee"}),
            zed_extra,
        ),
    )
    .await;
    Crew {
        max_id,
        max,
        eve_id,
        eve,
        zed_id,
        zed,
    }
}

/// Creates a task as `token`, which must succeed: the task.
pub async fn create_task(app: &TestApp, token: &str, body: Value) -> Value {
    let made = app.post("/api/v1/tasks", token, &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{body}: {:?}", made.body);
    made.body
}

fn ids(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect()
}

async fn tasks_follow_their_workflow_and_their_people(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let Crew {
        max,
        eve_id,
        eve,
        zed_id,
        zed,
        ..
    } = crew(&app, admin, [json!({}), json!({}), json!({})]).await;
    in_step(&app).await;

    // An administrator assigns Eve a task.
    let created = app
        .post(
            "/api/v1/tasks",
            admin,
            &json!({"title": "  File the report ", "description": "Q3", "assignee_id": eve_id,
                    "due_date": "2026-12-15"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let task = &created.body;
    assert_eq!(task["title"], "File the report");
    assert_eq!(task["status"], "todo");
    assert_eq!(task["assignee_id"], eve_id.as_str());
    assert_eq!(task["creator_id"], acme.admin_id.as_str());
    assert_eq!(task["due_date"], "2026-12-15");
    assert_eq!(task["company_id"], acme.company_id.as_str());
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}");

    // Eve, her manager and the administrator see it; Zed does not.
    for token in [admin, eve.as_str(), max.as_str()] {
        assert_eq!(app.get(&path, token).await.status, StatusCode::OK);
        assert_eq!(ids(&app.get("/api/v1/tasks", token).await.body), [id]);
    }
    assert_eq!(app.get(&path, &zed).await.status, StatusCode::NOT_FOUND);
    assert!(ids(&app.get("/api/v1/tasks", &zed).await.body).is_empty());
    let zed_edit = app.patch(&path, &zed, &json!({"status": "done"})).await;
    assert_eq!(zed_edit.status, StatusCode::NOT_FOUND);

    // Her manager may change anything; Eve the status only.
    let renamed = app
        .patch(
            &path,
            &max,
            &json!({"title": "File the Q3 report", "description": null}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["title"], "File the Q3 report");
    assert_eq!(renamed.body["description"], Value::Null);
    let eve_rename = app.patch(&path, &eve, &json!({"title": "Nothing"})).await;
    assert_eq!(eve_rename.status, StatusCode::FORBIDDEN);

    // The workflow: todo -> in_progress -> done, nothing after.
    let skip = app.patch(&path, &eve, &json!({"status": "done"})).await;
    assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(skip.error_fields(), ["status"]);
    for status in ["in_progress", "done"] {
        let moved = app.patch(&path, &eve, &json!({"status": status})).await;
        assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
        assert_eq!(moved.body["status"], status);
    }
    let reopen = app
        .patch(&path, admin, &json!({"status": "cancelled"}))
        .await;
    assert_eq!(reopen.status, StatusCode::UNPROCESSABLE_ENTITY);
    let late = app.patch(&path, admin, &json!({"title": "Later"})).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    let done = app.get("/api/v1/tasks?status=done", admin).await;
    assert_eq!(ids(&done.body), [id]);
    assert!(ids(&app.get("/api/v1/tasks?status=todo", admin).await.body).is_empty());

    // An employee assigns only themselves; a cancelled task is final.
    let others = app
        .post(
            "/api/v1/tasks",
            &eve,
            &json!({"title": "Yours", "assignee_id": zed_id}),
        )
        .await;
    assert_eq!(others.status, StatusCode::FORBIDDEN);
    let own = create_task(&app, &eve, json!({"title": "Mine", "assignee_id": eve_id})).await;
    let own_path = format!("/api/v1/tasks/{}", own["id"].as_str().unwrap());
    let cancelled = app
        .patch(&own_path, &eve, &json!({"status": "cancelled"}))
        .await;
    assert_eq!(cancelled.body["status"], "cancelled");
    let by_eve = app
        .get(&format!("/api/v1/tasks?assignee_id={eve_id}"), admin)
        .await;
    assert_eq!(ids(&by_eve.body).len(), 2);

    // Assignees are active employees of the company, as the replica knows them.
    let unknown = app
        .post(
            "/api/v1/tasks",
            admin,
            &json!({"title": "Ghost", "assignee_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error_fields(), ["assignee_id"]);
    // Zed leaves: his open task becomes unassigned, his finished one stays his.
    let mut zeds = Vec::new();
    for title in ["Open", "Finished"] {
        let made = app
            .post(
                "/api/v1/tasks",
                admin,
                &json!({"title": title, "assignee_id": zed_id}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
        zeds.push(format!(
            "/api/v1/tasks/{}",
            made.body["id"].as_str().unwrap()
        ));
    }
    for status in ["in_progress", "done"] {
        let moved = app.patch(&zeds[1], &zed, &json!({"status": status})).await;
        assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    }
    let gone = app
        .delete(&format!("/api/v1/people/employees/{zed_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    in_step(&app).await;
    let open = app.get(&zeds[0], admin).await;
    assert_eq!(open.body["assignee_id"], Value::Null, "{:?}", open.body);
    assert_eq!(open.body["status"], "todo");
    let finished = app.get(&zeds[1], admin).await;
    assert_eq!(finished.body["assignee_id"], zed_id.as_str());
    events_tell_every_change(&app, id, &zeds[0], &zed_id).await;
    let to_gone = app
        .post(
            "/api/v1/tasks",
            admin,
            &json!({"title": "Late", "assignee_id": zed_id}),
        )
        .await;
    assert_eq!(to_gone.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Bad input: named, and nothing is written.
    for (body, status, field) in [
        (
            json!({"title": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            json!({"title": "x", "owner": "me"}),
            StatusCode::BAD_REQUEST,
            "owner",
        ),
        (
            json!({"title": "x", "due_date": "tomorrow"}),
            StatusCode::BAD_REQUEST,
            "due_date",
        ),
    ] {
        let refused = app.post("/api/v1/tasks", admin, &body).await;
        assert_eq!(refused.status, status, "{body}: {:?}", refused.body);
        assert_eq!(refused.error_fields(), [field], "{body}");
    }
    let blocked = app
        .patch(&own_path, &eve, &json!({"status": "blocked"}))
        .await;
    assert_eq!(blocked.status, StatusCode::BAD_REQUEST);
    assert_eq!(ids(&app.get("/api/v1/tasks", admin).await.body).len(), 4);
}

/// Every change of a task is an event numbered in the task's order, carrying the task
/// as it became, whom it was assigned to before and who changed it (nobody, when Roster
/// unassigned the task of someone who left).
async fn events_tell_every_change(app: &TestApp, first: &str, unassigned: &str, zed_id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let published = loop {
        let published = outbox::published_after(app.db("tasks"), None, 1000)
            .await
            .unwrap();
        // Every change so far: 4 for the first task, 2 for Eve's own, 2 + 3 for Zed's.
        if published.len() >= 11 {
            break published;
        }
        assert!(std::time::Instant::now() < deadline, "{published:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let of = |id: &str| -> Vec<(u64, Task)> {
        published
            .iter()
            .filter(|(_, e)| e.aggregate_id.to_string() == id)
            .map(|(_, e)| match Event::decode(e).unwrap() {
                Event::TaskCreated(t) | Event::TaskUpdated(t) => (e.sequence, t),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let first = of(first);
    let sequences: Vec<u64> = first.iter().map(|(s, _)| *s).collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
    let statuses: Vec<&str> = first.iter().map(|(_, t)| t.status.as_str()).collect();
    assert_eq!(statuses, ["todo", "todo", "in_progress", "done"]);
    let id = unassigned.rsplit('/').next().unwrap();
    // The unassignment carries the trace of the request that deactivated Zed.
    let deactivated = outbox::published_after(app.db("people"), None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e)
        .find(|e| e.kind == "people.employee.deactivated" && e.aggregate_id.to_string() == zed_id)
        .unwrap();
    let unassignment = published
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.aggregate_id.to_string() == id)
        .max_by_key(|e| e.sequence)
        .unwrap();
    let trace_id = |e: &roster_events::Envelope| {
        e.trace
            .as_ref()
            .and_then(|t| t.trace_id().map(str::to_owned))
    };
    assert!(trace_id(&deactivated).is_some());
    assert_eq!(trace_id(unassignment), trace_id(&deactivated));
    let (sequence, last) = of(id).pop().unwrap();
    assert_eq!(sequence, 2);
    assert_eq!(last.assignee_id, None);
    assert_eq!(
        last.previous_assignee_id.map(|p| p.to_string()).as_deref(),
        Some(zed_id)
    );
    assert_eq!(last.changed_by, None);
}

/// A status is read back through one mapping, which refuses a stored value it does not
/// know: such a row is an error to look into, never shown as some other status.
async fn a_stored_status_roster_does_not_know_is_an_error_not_a_guess(topology: Topology) {
    use sea_orm::ConnectionTrait as _;
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let made = app
        .post(
            "/api/v1/tasks",
            &acme.admin,
            &json!({"title": "Order chairs"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let path = format!("/api/v1/tasks/{}", made.body["id"].as_str().unwrap());
    let set_status = |status: &'static str| {
        let app = &app;
        async move {
            let db = app.db("tasks");
            let txn = db
                .begin_write(roster_storage::Scope::AllCompanies)
                .await
                .unwrap();
            txn.execute_unprepared(&format!("UPDATE tasks SET status = '{status}'"))
                .await
                .unwrap();
            txn.commit().await.unwrap();
        }
    };
    set_status("archived").await;
    for read in [path.as_str(), "/api/v1/tasks"] {
        let answer = app.get(read, &acme.admin).await;
        assert_eq!(
            answer.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{read}: {:?}",
            answer.body
        );
    }
    set_status("done").await;
    let answer = app.get(&path, &acme.admin).await;
    assert_eq!(answer.body["status"], "done", "{:?}", answer.body);
}

topology_tests!(
    tasks_follow_their_workflow_and_their_people,
    a_stored_status_roster_does_not_know_is_an_error_not_a_guess,
);
