//! The replicas of people's employees in presence, tasks, leave and notifications
//! follow people through its events, on the embedded bus and over NATS: hires,
//! changes made concurrently, a deactivation; the request's trace travels with the
//! event; `roster replicas check` sees drift and `roster replicas rebuild` repairs
//! it while the services run.

use std::time::{Duration, Instant};

use roster::{SERVICES, org_replicas, replicas};
use roster_bus::{dead, outbox};
use roster_events::Envelope;
use roster_replica::{Drift, compare};
use roster_storage::Scope;
use roster_testing::{StatusCode, TestApp, Topology, topology_tests};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};

use crate::accounts::{PASSWORD, hire, sign_up};
use crate::eventually;
use crate::process::{Follower, installation_env, roster, roster_on};

/// Hires Pat Doe under `email`, as an employee; answers their id.
async fn hire_pat(app: &TestApp, admin: &str, email: &str) -> String {
    let hired = hire(
        app,
        admin,
        json!({"email": email, "name": "Pat", "surname": "Doe",
               "role": "employee", "password": PASSWORD}),
    )
    .await;
    assert_eq!(hired.status, StatusCode::CREATED, "{:?}", hired.body);
    hired.body["id"].as_str().unwrap().to_owned()
}

/// Each replica's drift from its source (people's employees, org's parts), by service.
async fn drifts(app: &TestApp) -> Vec<(&'static str, Drift)> {
    let sources = roster_people::store::employees::sources(app.db("people"))
        .await
        .unwrap();
    let mut drifts = Vec::new();
    for (service, replica) in replicas() {
        let want = sources
            .iter()
            .map(|(revision, e)| (e.id, replica.project(*revision, e)))
            .collect();
        let have = replica.rows(app.db(service)).await.unwrap();
        drifts.push((service, compare(&want, &have)));
    }
    let org = roster_org::store::sources(app.db("org")).await.unwrap();
    for (service, replica) in org_replicas() {
        let want = replica.project(&org);
        let have = replica.rows(app.db(service)).await.unwrap();
        for (table, wanted) in &want {
            let held = have.get(table).cloned().unwrap_or_default();
            drifts.push((service, compare(wanted, &held)));
        }
    }
    drifts
}

/// Waits until every replica equals its source, failing with the drift after 20 s.
pub async fn in_step(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let drifts = drifts(app).await;
        if drifts.iter().all(|(_, d)| d.is_empty()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replicas never caught up: {drifts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `/metrics` shows the events' way: people's publications, backlog and publish lag;
/// each consumer's applied events and lag.
async fn events_are_measured(app: &TestApp) {
    let metrics = app.get("/metrics", "").await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().expect("metrics are text");
    let shown = |name: &str, labels: &[&str]| {
        text.lines()
            .any(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
    };
    let people = "service=\"people\"";
    for name in [
        "roster_events_published_total",
        "roster_events_publish_lag_seconds_bucket",
        "roster_events_outbox_backlog",
    ] {
        assert!(shown(name, &[people]), "no {name} for people in:\n{text}");
    }
    for (service, _) in replicas() {
        let service = format!("service=\"{service}\"");
        assert!(
            shown(
                "roster_events_handled_total",
                &[&service, "outcome=\"applied\""]
            ),
            "no applied events for {service}"
        );
        assert!(
            shown(
                "roster_events_consumer_lag_seconds_bucket",
                &[&service, "producer=\"people\""]
            ),
            "no consumer lag for {service}"
        );
    }
}

async fn replicas_follow_people(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let answer = hire(
            &app,
            &company.admin,
            json!({"email": format!("p{n}@acme.test"), "name": format!("P{n}"),
                   "surname": "Doe", "role": "employee", "password": PASSWORD}),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        ids.push(answer.body["id"].as_str().unwrap().to_owned());
    }
    in_step(&app).await;
    events_are_measured(&app).await;

    // Concurrent changes of the same employees: each replica ends at the last state.
    let client = reqwest::Client::new();
    let changes = (0..24).map(|n| {
        let (client, url) = (
            client.clone(),
            app.url(&format!("/api/v1/people/employees/{}", ids[n % 3])),
        );
        let admin = company.admin.clone();
        async move {
            let answer = client
                .patch(url)
                .bearer_auth(admin)
                .json(&json!({"position": format!("Role {n}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
        }
    });
    futures::future::join_all(changes).await;

    // A deactivation, with the client's trace.
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let answer = client
        .delete(app.url(&format!("/api/v1/people/employees/{}", ids[0])))
        .bearer_auth(&company.admin)
        .header("traceparent", traceparent)
        .header("x-request-id", "deactivate-p0")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    in_step(&app).await;

    for (service, replica) in replicas() {
        let rows = replica.rows(app.db(service)).await.unwrap();
        let p0 = &rows[&ids[0].parse().unwrap()];
        assert_eq!(
            p0.values["status"].as_deref(),
            Some("inactive"),
            "{service}"
        );
    }
    let published = outbox::published_after(app.db("people"), None, 1000)
        .await
        .unwrap();
    let deactivated = published
        .iter()
        .map(|(_, e)| e)
        .find(|e| e.kind == "people.employee.deactivated")
        .expect("the deactivation was published");
    let trace = deactivated
        .trace
        .as_ref()
        .expect("the event carries a trace");
    assert_eq!(trace.trace_id(), Some("0af7651916cd43dd8448eb211c80319c"));
    assert_eq!(trace.request_id.as_deref(), Some("deactivate-p0"));
    // Auth recorded the accounts' lives too: made, then the deactivated one turned off.
    let accounts = outbox::published_after(app.db("auth"), None, 1000)
        .await
        .unwrap();
    let of = |kind: &str| {
        accounts
            .iter()
            .filter(|(_, e)| e.kind == kind)
            .map(|(_, e)| (e.aggregate_id.to_string(), e.sequence))
            .collect::<Vec<_>>()
    };
    // The admin's and the three hires'.
    assert_eq!(of("auth.account.created").len(), 4);
    assert_eq!(of("auth.account.updated"), vec![(ids[0].clone(), 2)]);
    // An older state arriving late (a retried dead letter, a replay) changes nothing.
    let sources = roster_people::store::employees::sources(app.db("people"))
        .await
        .unwrap();
    let (_, mut old) = sources
        .into_iter()
        .find(|(_, e)| e.id.to_string() == ids[1])
        .unwrap();
    old.name = "Stale".into();
    for (service, replica) in replicas() {
        let db = app.db(service);
        let txn = db
            .begin_write(roster_storage::Scope::AllCompanies)
            .await
            .unwrap();
        let applied = replica.apply(&txn, 1, &old).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(applied, roster_replica::Applied::Stale, "{service}");
    }
    in_step(&app).await;
    // Every employee's events are numbered 1, 2, 3... in the order they committed.
    for id in &ids {
        let mut sequences: Vec<u64> = published
            .iter()
            .filter(|(_, e)| e.aggregate_id.to_string() == *id)
            .map(|(_, e)| e.sequence)
            .collect();
        sequences.sort_unstable();
        let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
        assert_eq!(sequences, expected, "{id}");
    }
}

/// A batch of events applied at once leaves each employee at their latest state in
/// it, and passes over an employee the replica holds at a later revision.
async fn a_batch_keeps_each_latest_state(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    let team = app
        .post("/api/v1/org/teams", &company.admin, &json!({"name": "Ops"}))
        .await;
    let team_id: uuid::Uuid = team.body["id"].as_str().unwrap().parse().unwrap();
    hire_pat(&app, &company.admin, "pat@acme.test").await;
    in_step(&app).await;
    let sources = roster_people::store::employees::sources(app.db("people"))
        .await
        .unwrap();
    let admin_id: uuid::Uuid = company.admin_id.parse().unwrap();
    let (admin_rev, admin) = sources.iter().find(|(_, e)| e.id == admin_id).unwrap();
    let (pat_rev, pat) = sources.iter().find(|(_, e)| e.id != admin_id).unwrap();
    let mut stale = admin.clone();
    stale.name = "Stale".into();
    let (mut later, mut latest) = (pat.clone(), pat.clone());
    later.name = "Later".into();
    latest.name = "Latest".into();
    latest.team_ids = vec![team_id];
    let batch = [
        (pat_rev + 2, &latest),
        (*admin_rev, &stale),
        (pat_rev + 1, &later),
    ];
    for (service, replica) in replicas() {
        let db = app.db(service);
        let txn = db.begin_write(Scope::AllCompanies).await.unwrap();
        replica
            .apply_all(&txn, batch.iter().copied())
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let rows = replica.rows(db).await.unwrap();
        assert_eq!(
            rows[&admin.id],
            replica.project(*admin_rev, admin),
            "{service}"
        );
        assert_eq!(
            rows[&pat.id],
            replica.project(pat_rev + 2, &latest),
            "{service}"
        );
    }
}

async fn check_sees_drift_and_rebuild_repairs_it(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    let id = hire_pat(&app, &company.admin, "pat@acme.test").await;
    in_step(&app).await;
    let cli = |args: &[&str]| roster_on(app.config(), args);
    let (code, out, err) = cli(&["replicas", "check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("tasks: 2 employees, in step with people"),
        "{out}"
    );

    for service in ["presence", "leave"] {
        assert!(
            out.contains(&format!("{service}: 1 companies, in step with org")),
            "{out}"
        );
    }

    // Someone edits tasks' copy by hand and deletes one of leave's rows; presence's
    // copy of org loses the company's time zone and an office it never had appears;
    // leave's has the company work on Mondays only.
    let tasks = app.db("tasks");
    let leave = app.db("leave");
    corrupt(tasks, "UPDATE employees SET email = 'wrong@acme.test'").await;
    // And an account's role changed behind people's back.
    corrupt(
        app.db("auth"),
        "UPDATE accounts SET role = 'admin' WHERE email = 'pat@acme.test'",
    )
    .await;
    corrupt(leave, "DELETE FROM employees").await;
    corrupt(leave, "UPDATE org_companies SET working_days = '1'").await;
    let presence = app.db("presence");
    corrupt(presence, "UPDATE org_companies SET timezone = 'Asia/Tokyo'").await;
    let new_id = match topology {
        Topology::Sqlite => "randomblob(16)",
        _ => "gen_random_uuid()",
    };
    corrupt(
        presence,
        &format!(
            "INSERT INTO org_locations (id, company_id, name, latitude, longitude, radius_m, revision, updated_at) \
             SELECT {new_id}, id, 'Ghost', 0, 0, 10, 1, updated_at FROM org_companies"
        ),
    )
    .await;
    let (code, out, err) = cli(&["replicas", "check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("tasks: employees: 0 missing, 0 extra, 0 behind, 2 different"),
        "{out}{err}"
    );
    assert!(out.contains("leave: employees: 2 missing"), "{out}");
    assert!(
        out.contains(&format!(
            "auth: accounts: 0 missing, 0 extra, 0 behind, 1 different (people has 2)\n  different  {id}: role"
        )),
        "{out}"
    );
    assert!(
        out.contains("presence: 2 employees, in step with people"),
        "{out}"
    );
    assert!(
        out.contains("presence: companies: 0 missing, 0 extra, 0 behind, 1 different"),
        "{out}"
    );
    assert!(
        out.contains("presence: locations: 0 missing, 1 extra"),
        "{out}"
    );
    assert!(
        out.contains("leave: companies: 0 missing, 0 extra, 0 behind, 1 different"),
        "{out}"
    );
    assert!(
        err.contains("replicas differ from their source: presence, tasks, leave"),
        "{err}"
    );

    for service in ["tasks", "leave"] {
        let (code, out, err) = cli(&["replicas", "rebuild", service]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("2 employees: 2 written"), "{out}");
        if service == "leave" {
            assert!(out.contains("calendars: 1 written, 0 deleted"), "{out}");
        }
    }
    let (code, out, err) = cli(&["replicas", "rebuild", "presence"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 written, 1 deleted"), "{out}");
    // Accounts are not rebuilt: an operator sets the role again through people.
    corrupt(
        app.db("auth"),
        "UPDATE accounts SET role = 'employee' WHERE email = 'pat@acme.test'",
    )
    .await;
    let (code, out, err) = cli(&["replicas", "check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("auth: 2 accounts, in step with people"),
        "{out}"
    );
    // The services kept running: a change after the rebuild still reaches every copy.
    let changed = app
        .patch(
            &format!("/api/v1/people/employees/{id}"),
            &company.admin,
            &json!({"name": "Patricia"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    in_step(&app).await;
}

/// Changes a replica behind its service's back, in every company's scope.
async fn corrupt(db: &roster_service::ServiceDb, sql: &str) {
    use sea_orm::ConnectionTrait as _;
    let txn = db
        .begin_write(roster_storage::Scope::AllCompanies)
        .await
        .unwrap();
    txn.execute_unprepared(sql).await.unwrap();
    txn.commit().await.unwrap();
}

/// `roster events dead list | retry | discard`, through the binary, against a running
/// installation: an event of a type no consumer knows (as a
/// newer people would publish) is dead-lettered by each consumer, listed with the
/// reason, refused again on retry by every one of them, and discarded from one, then
/// from the others at once.
async fn dead_letters_through_the_binary(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    in_step(&app).await;
    let envelope = Envelope {
        id: uuid::Uuid::now_v7(),
        kind: "people.employee.promoted".into(),
        version: 1,
        aggregate_id: company.admin_id.parse().unwrap(),
        // The admin's next event: an event of a newer Roster is still its aggregate's.
        sequence: 2,
        company_id: company.company_id.parse().unwrap(),
        occurred_at: time::OffsetDateTime::now_utc(),
        trace: None,
        payload: roster_events::Payload::of(&json!({})),
    };
    let people = app.db("people");
    let txn = people.begin_write(Scope::AllCompanies).await.unwrap();
    outbox::record_envelopes(&txn, std::slice::from_ref(&envelope))
        .await
        .unwrap();
    outbox::commit(people, txn).await.unwrap();
    let id = envelope.id.to_string();
    let cli = |args: &[&str]| roster_on(app.config(), args);

    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let (code, out, err) = cli(&["events", "dead", "list"]);
        assert_eq!(code, 0, "{out}{err}");
        if out.contains("4 dead letters") {
            break out;
        }
        assert!(Instant::now() < deadline, "never dead-lettered: {out}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for (service, _) in replicas() {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(&format!("{service}  {id}"))
                    && l.contains("people.employee.promoted")),
            "{listed}"
        );
    }
    assert!(listed.contains("unknown event type"), "{listed}");

    let (code, out, err) = cli(&["events", "dead", "retry", &id]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("still cannot be decoded"), "{err}");
    for (service, _) in replicas() {
        assert!(
            err.contains(&format!("{service}: dead letter {id}")),
            "{err}"
        );
    }
    // One consumer's, then every other consumer's at once.
    let (code, out, err) = cli(&["events", "dead", "discard", &id, "--service", "tasks"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, format!("tasks: discarded {id} without applying it\n"));
    let (code, out, err) = cli(&["events", "dead", "discard", &id]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.lines().count(), replicas().count() - 1, "{out}");
    for (service, _) in replicas().filter(|(s, _)| *s != "tasks") {
        assert!(out.contains(&format!("{service}: discarded {id}")), "{out}");
    }
    let (code, out, err) = cli(&["events", "dead", "discard", &id]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no consumer has a dead letter"), "{err}");
    let (code, out, err) = cli(&["events", "dead", "list"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 dead letters"), "{out}");

    // The running installation was not disturbed: its events still flow.
    hire_pat(&app, &company.admin, "pat@acme.test").await;
    in_step(&app).await;
}

/// Makes `table` of `db` refuse `what` (`INSERT` or `UPDATE`) with SQLSTATE `code` on
/// PostgreSQL (SQLite refuses with a constraint error whatever the code).
async fn refuse(db: &roster_service::ServiceDb, table: &str, what: &str, code: &str) {
    let sql = match db.backend() {
        roster_storage::Backend::Sqlite => format!(
            "CREATE TRIGGER refuse_{table} BEFORE {what} ON {table} \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ),
        roster_storage::Backend::Postgres => format!(
            "CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{code}'; END $$; \
             CREATE TRIGGER refuse_{table} BEFORE {what} ON {table} \
             FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
        ),
    };
    corrupt(db, &sql).await;
}

/// Takes back what [`refuse`] did.
async fn accept(db: &roster_service::ServiceDb, table: &str) {
    let sql = match db.backend() {
        roster_storage::Backend::Sqlite => format!("DROP TRIGGER refuse_{table}"),
        roster_storage::Backend::Postgres => {
            format!("DROP TRIGGER refuse_{table} ON {table}; DROP FUNCTION refuse_{table}()")
        }
    };
    corrupt(db, &sql).await;
}

/// How many welcomes notifications gave `employee_id`.
async fn welcomes(notifications: &roster_service::ServiceDb, employee_id: &str) -> i64 {
    let txn = notifications.read(Scope::AllCompanies).await.unwrap();
    let welcome = Query::select()
        .expr(Expr::col(Alias::new("id")).count())
        .from(Alias::new("notifications"))
        .and_where(
            Expr::col(Alias::new("employee_id")).eq(employee_id.parse::<uuid::Uuid>().unwrap()),
        )
        .and_where(Expr::col(Alias::new("kind")).eq("welcome"))
        .to_owned();
    txn.query_one(&welcome)
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

/// Roster with consumers that give an event two attempts before its dead letter.
async fn spawn_impatient(topology: Topology) -> Option<TestApp> {
    let mut installation = roster_testing::Installation::create(topology, SERVICES).await?;
    let events = &mut installation.config_mut().events;
    events.max_attempts = 2;
    events.retry_backoff_ms = 20;
    Some(TestApp::spawn_on(installation, SERVICES).await)
}

/// A task for `assignee_id` from the administrator; answers its id.
async fn task_for(app: &TestApp, admin: &str, assignee_id: &str) -> String {
    let task = app
        .post(
            "/api/v1/tasks",
            admin,
            &json!({"title": "Inventory", "assignee_id": assignee_id}),
        )
        .await;
    assert_eq!(task.status, StatusCode::CREATED, "{:?}", task.body);
    task.body["id"].as_str().unwrap().to_owned()
}

/// Repairs lose no effect: events that reached dead letters (a welcome that could not
/// be written, a departure whose tasks could not be unassigned), then a rebuild of the
/// copies (which now hold those events' states), then `roster events dead retry`: the
/// welcome is given and the tasks unassigned, as if nothing had gone wrong.
async fn a_rebuild_then_a_retry_loses_no_effect(topology: Topology) {
    let Some(app) = spawn_impatient(topology).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    in_step(&app).await;
    let (notifications, tasks) = (app.db("notifications"), app.db("tasks"));
    refuse(notifications, "notifications", "INSERT", "P0001").await;
    refuse(tasks, "tasks", "UPDATE", "P0001").await;
    let pat = hire_pat(&app, &company.admin, "pat@acme.test").await;
    eventually("tasks knows Pat", || async {
        let txn = tasks.read(Scope::AllCompanies).await.unwrap();
        roster_replica::is_active(
            &txn,
            company.company_id.parse().unwrap(),
            pat.parse().unwrap(),
        )
        .await
        .unwrap()
    })
    .await;
    let task = task_for(&app, &company.admin, &pat).await;
    let gone = app
        .delete(&format!("/api/v1/people/employees/{pat}"), &company.admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    eventually("the welcome and the departure in dead letters", || async {
        let welcome = dead::list(notifications).await.unwrap();
        let departure = dead::list(tasks).await.unwrap();
        welcome.iter().any(|l| l.kind == "people.employee.created")
            && departure
                .iter()
                .any(|l| l.kind == "people.employee.deactivated")
    })
    .await;
    accept(notifications, "notifications").await;
    accept(tasks, "tasks").await;

    let cli = |args: &[&str]| roster_on(app.config(), args);
    // Tasks' copy still has Pat at work; notifications' has them (their departure
    // came through there).
    for service in ["notifications", "tasks"] {
        let (code, out, err) = cli(&["replicas", "rebuild", service]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let mut letters: Vec<(String, String)> = Vec::new();
    for service in ["notifications", "tasks"] {
        for letter in dead::list(app.db(service)).await.unwrap() {
            letters.push((service.to_owned(), letter.event_id.to_string()));
        }
    }
    for (service, id) in &letters {
        let (code, out, err) = cli(&["events", "dead", "retry", id, "--service", service]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.starts_with(&format!("{service}: applied {id}")),
            "{out}"
        );
    }
    let task = app
        .get(&format!("/api/v1/tasks/{task}"), &company.admin)
        .await;
    assert_eq!(task.body["assignee_id"], Value::Null, "{:?}", task.body);
    let welcomes = welcomes(notifications, &pat).await;
    assert_eq!(welcomes, 1, "Pat was welcomed once");
}

/// An event still on its way when a rebuild makes the copy hold its state (the
/// database interrupted its transaction, so the consumer keeps trying) is applied
/// when it comes, with its effect: the rebuild moves no event's position.
async fn an_event_on_its_way_during_a_rebuild_keeps_its_effect(topology: Topology) {
    let Some(app) = spawn_impatient(topology).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    let pat = hire_pat(&app, &company.admin, "pat@acme.test").await;
    in_step(&app).await;
    let task = task_for(&app, &company.admin, &pat).await;
    let tasks = app.db("tasks");
    // A serialization failure, again and again: retried without counting.
    refuse(tasks, "tasks", "UPDATE", "40001").await;
    let gone = app
        .delete(&format!("/api/v1/people/employees/{pat}"), &company.admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let (code, out, err) = roster_on(app.config(), &["replicas", "rebuild", "tasks"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 written"), "{out}");
    accept(tasks, "tasks").await;
    eventually("the departed's task unassigned", || async {
        let task = app
            .get(&format!("/api/v1/tasks/{task}"), &company.admin)
            .await;
        task.body["assignee_id"] == Value::Null
    })
    .await;
    assert_eq!(dead::count(tasks).await.unwrap(), 0);
}

/// One consumer that cannot apply an event for a while (its database refuses, and it
/// retries) holds up no other consumer of the same producer: tasks learns of a change
/// to Pat at once while notifications is still retrying the welcome of the person hired
/// before, which it gives once its database takes it.
async fn one_consumer_holds_up_no_other(topology: Topology) {
    let mut installation = match roster_testing::Installation::create(topology, SERVICES).await {
        Some(installation) => installation,
        None => return,
    };
    let events = &mut installation.config_mut().events;
    events.max_attempts = 100;
    events.retry_backoff_ms = 200;
    let app = TestApp::spawn_on(installation, SERVICES).await;
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    let pat = hire_pat(&app, &company.admin, "pat@acme.test").await;
    in_step(&app).await;
    let notifications = app.db("notifications");
    refuse(notifications, "notifications", "INSERT", "P0001").await;
    let quinn = hire_pat(&app, &company.admin, "quinn@acme.test").await;
    let renamed = app
        .patch(
            &format!("/api/v1/people/employees/{pat}"),
            &company.admin,
            &json!({"name": "Patricia"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let tasks = app.db("tasks");
    crate::within(
        Duration::from_secs(1),
        "tasks learns of Pat's new name",
        || async {
            let txn = tasks.read(Scope::AllCompanies).await.unwrap();
            let people = roster_replica::people(
                &txn,
                company.company_id.parse().unwrap(),
                roster_replica::PeopleFilter::default(),
            )
            .await
            .unwrap();
            people.iter().any(|p| p.name == "Patricia")
        },
    )
    .await;
    assert_eq!(
        dead::count(notifications).await.unwrap(),
        0,
        "still retrying"
    );
    accept(notifications, "notifications").await;
    in_step(&app).await;
    eventually("Quinn welcomed", || async {
        welcomes(notifications, &quinn).await == 1
    })
    .await;
}

/// A unique violation that comes back on every attempt is the handler's fault, not a
/// race with another process: it is counted, and the event goes to dead letters.
async fn a_lasting_unique_violation_is_dead_lettered(topology: Topology) {
    let Some(app) = spawn_impatient(topology).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    in_step(&app).await;
    // The administrator's welcome is there: a second notification of the company is
    // refused.
    let notifications = app.db("notifications");
    corrupt(
        notifications,
        "CREATE UNIQUE INDEX one_per_company ON notifications (company_id)",
    )
    .await;
    hire_pat(&app, &company.admin, "pat@acme.test").await;
    eventually("the welcome in dead letters", || async {
        dead::list(notifications)
            .await
            .unwrap()
            .iter()
            .any(|l| l.kind == "people.employee.created" && l.error.contains("unique"))
    })
    .await;
}

/// `roster events tail` beside a running installation shows each event as it is
/// published, and the installation keeps publishing while it follows.
async fn tail_follows_events_live(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    in_step(&app).await;
    let mut command = roster();
    command.args(["events", "tail"]);
    installation_env(&mut command, app.config());
    let mut tail = Follower::start(&mut command);
    let first = tail.next_line(Duration::from_secs(20)).await;
    assert!(first.starts_with("following the events of"), "{first}");

    for (n, email) in ["pat@acme.test", "sam@acme.test"].iter().enumerate() {
        hire_pat(&app, &company.admin, email).await;
        let shown = loop {
            let line = tail.next_line(Duration::from_secs(20)).await;
            if line.contains(email) && line.contains("people.employee.created") {
                break line;
            }
        };
        assert!(shown.contains("people.employee.created v1"), "{n}: {shown}");
        assert!(shown.contains("Pat Doe"), "{n}: {shown}");
        assert!(shown.contains(&company.company_id), "{n}: {shown}");
        in_step(&app).await;
    }
    assert!(tail.running(), "tail stopped");
}

topology_tests!(
    a_rebuild_then_a_retry_loses_no_effect,
    one_consumer_holds_up_no_other,
    a_lasting_unique_violation_is_dead_lettered,
    a_batch_keeps_each_latest_state,
    tail_follows_events_live,
    dead_letters_through_the_binary,
    replicas_follow_people,
    check_sees_drift_and_rebuild_repairs_it
);
/// PostgreSQL is where a transaction is interrupted for a reason of the moment, which
/// keeps an event on its way as long as the test needs.
mod on_its_way {
    use super::*;

    roster_testing::postgres_topology_tests!(an_event_on_its_way_during_a_rebuild_keeps_its_effect);
}
