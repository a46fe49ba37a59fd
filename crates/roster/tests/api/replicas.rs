//! The replicas of people's employees in presence, tasks, leave and notifications
//! follow people through its events, on the embedded bus and over NATS: hires,
//! changes made concurrently, a deactivation; the request's trace travels with the
//! event; `roster replicas check` sees drift and `roster replicas rebuild` repairs
//! it while the services run.

use std::time::{Duration, Instant};

use roster::{ORG_REPLICAS, REPLICAS, SERVICES};
use roster_bus::outbox;
use roster_events::Envelope;
use roster_replica::{Drift, compare};
use roster_storage::Scope;
use roster_testing::{StatusCode, TestApp, Topology, topology_tests};
use serde_json::json;

use crate::accounts::{PASSWORD, hire, sign_up};
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
    for (service, replica) in REPLICAS {
        let want = sources
            .iter()
            .map(|(revision, e)| (e.id, replica.project(*revision, e)))
            .collect();
        let have = replica.rows(app.db(service)).await.unwrap();
        drifts.push((*service, compare(&want, &have)));
    }
    let org = roster_org::store::sources(app.db("org")).await.unwrap();
    for (service, replica) in ORG_REPLICAS {
        let want = replica.project(&org);
        let have = replica.rows(app.db(service)).await.unwrap();
        for (table, wanted) in &want {
            let held = have.get(table).cloned().unwrap_or_default();
            drifts.push((*service, compare(wanted, &held)));
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
    for (service, _) in REPLICAS {
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

    for (service, replica) in REPLICAS {
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
    for (service, replica) in REPLICAS {
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
    for (service, replica) in REPLICAS {
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
    let (code, out, err) = cli(&["replicas", "check"]);
    assert_eq!(code, 0, "{out}{err}");
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
        sequence: 99,
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
    for (service, _) in REPLICAS {
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
    for (service, _) in REPLICAS {
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
    assert_eq!(out.lines().count(), REPLICAS.len() - 1, "{out}");
    for (service, _) in REPLICAS.iter().filter(|(s, _)| *s != "tasks") {
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
    a_batch_keeps_each_latest_state,
    tail_follows_events_live,
    dead_letters_through_the_binary,
    replicas_follow_people,
    check_sees_drift_and_rebuild_repairs_it
);
