//! The concurrency suite: every "check, then write" driven by many parallel clients,
//! many times over, on every topology, with its invariant asserted after each trial.
//!
//! Leave: never more days taken (or set aside) than granted, never two requests that
//! hold one day, whether they are made, approved or both at once.

use futures::future::join_all;
use roster_storage::Scope;
use roster_testing::{Installation, StatusCode, TestApp, TestResponse, Topology, topology_tests};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use serde_json::{Value, json};
use time::{Date, Duration, Month, Weekday};
use uuid::Uuid;

use crate::accounts::sign_up;
use crate::replicas::in_step;
use crate::tasks::{Crew, crew};

/// Trials of each race per topology.
const TRIALS: usize = 8;

/// The `n`th working day (Monday to Friday) of trial `trial`: each trial has twelve
/// weeks of its own, years ahead, so no two trials' requests meet.
fn working_day(trial: usize, n: usize) -> Date {
    let monday = Date::from_calendar_date(2031, Month::January, 6).unwrap()
        + Duration::weeks(i64::try_from(trial * 12).unwrap());
    let (week, day) = (n / 5, n % 5);
    let date = monday + Duration::days(i64::try_from(week * 7 + day).unwrap());
    assert!(!matches!(
        date.weekday(),
        Weekday::Saturday | Weekday::Sunday
    ));
    date
}

/// A paid leave type, approved at once or not; answers its id.
async fn leave_type(app: &TestApp, admin: &str, name: &str, requires_approval: bool) -> String {
    let made = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": name, "paid": true, "annual_allowance_days": 0,
                    "accrual": "none", "requires_approval": requires_approval}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    made.body["id"].as_str().unwrap().to_owned()
}

/// An administrator's allocation (or, negative, adjustment) of `days`.
async fn adjust(app: &TestApp, admin: &str, employee_id: &str, leave_type_id: &str, days: f64) {
    let kind = if days < 0.0 {
        "adjustment"
    } else {
        "allocation"
    };
    let answer = app
        .post(
            "/api/v1/leave/adjustments",
            admin,
            &json!({"employee_id": employee_id, "leave_type_id": leave_type_id,
                    "days": days, "kind": kind, "note": "race"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
}

/// Sends every request in `bodies` at once as `token`: the answers, in order.
async fn all_at_once(app: &TestApp, token: &str, path: &str, bodies: &[Value]) -> Vec<StatusCode> {
    join_all(bodies.iter().map(|body| app.post(path, token, body)))
        .await
        .into_iter()
        .map(|answer| {
            let status = answer.status;
            assert!(
                [
                    StatusCode::CREATED,
                    StatusCode::OK,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    StatusCode::CONFLICT
                ]
                .contains(&status),
                "an answer that is neither a yes nor a refusal: {status} {:?}",
                answer.body
            );
            status
        })
        .collect()
}

fn accepted(statuses: &[StatusCode]) -> usize {
    statuses.iter().filter(|s| s.is_success()).count()
}

/// The sum of `employee_id`'s ledger of `leave_type_id` (of its lines of `kind` only,
/// when given), in thousandths of a day.
pub async fn ledger_sum(
    txn: &impl ConnectionTrait,
    employee_id: Uuid,
    leave_type_id: Uuid,
    kind: Option<&str>,
) -> i64 {
    let mut sum = Query::select();
    sum.expr(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"))
        .from(Alias::new("leave_ledger"))
        .and_where(Expr::col(Alias::new("employee_id")).eq(employee_id))
        .and_where(Expr::col(Alias::new("leave_type_id")).eq(leave_type_id));
    if let Some(kind) = kind {
        sum.and_where(Expr::col(Alias::new("kind")).eq(kind));
    }
    txn.query_one(&sum)
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

fn uuid(id: &str) -> Uuid {
    id.parse().unwrap()
}

/// The invariants of `employee_id`'s leave, read from leave's own tables: no balance
/// below what its pending requests set aside, and no two held requests on one day.
/// Answers (the ledger's sum, the days pending) of `leave_type_id`, in thousandths.
async fn leave_holds(app: &TestApp, employee_id: &str, leave_type_id: &str) -> (i64, i64) {
    let txn = app.db("leave").read(Scope::AllCompanies).await.unwrap();
    let balance = ledger_sum(&txn, uuid(employee_id), uuid(leave_type_id), None).await;
    let held = Query::select()
        .columns(
            [
                "leave_type_id",
                "start_date",
                "end_date",
                "start_afternoon",
                "end_morning",
                "days",
                "status",
            ]
            .map(Alias::new),
        )
        .from(Alias::new("leave_requests"))
        .and_where(Expr::col(Alias::new("employee_id")).eq(uuid(employee_id)))
        .and_where(Expr::col(Alias::new("status")).is_in(["pending", "approved"]))
        .order_by(Alias::new("start_date"), Order::Asc)
        .to_owned();
    let held = txn.query_all(&held).await.unwrap();
    let mut pending = 0;
    let mut last_end: Option<(Date, bool)> = None;
    for row in &held {
        let kind: Uuid = row.try_get_by_index(0).unwrap();
        let start: Date = row.try_get_by_index(1).unwrap();
        let end: Date = row.try_get_by_index(2).unwrap();
        let start_afternoon: bool = row.try_get_by_index(3).unwrap();
        let end_morning: bool = row.try_get_by_index(4).unwrap();
        let days: i64 = row.try_get_by_index(5).unwrap();
        let status: String = row.try_get_by_index(6).unwrap();
        if let Some((previous_end, previous_morning)) = last_end {
            let apart = previous_end < start
                || (previous_end == start && previous_morning && start_afternoon);
            assert!(apart, "two held requests share a day: {held:?}");
        }
        last_end = Some((end, end_morning));
        if status == "pending" && kind == uuid(leave_type_id) {
            pending += days;
        }
    }
    assert!(
        balance - pending >= 0,
        "overdrawn: a balance of {balance} thousandths with {pending} pending"
    );
    (balance, pending)
}

/// `approver` approves every request of `ids` at once.
async fn approve_all(app: &TestApp, approver: &str, ids: &[String]) -> Vec<TestResponse> {
    join_all(ids.iter().map(|id| async move {
        let path = format!("/api/v1/leave/requests/{id}/approve");
        app.post(&path, approver, &json!({})).await
    }))
    .await
}

/// Acme, signed up on `topology`, with its administrator's token and its crew, once
/// every replica knows them.
async fn acme(topology: Topology) -> Option<(TestApp, String, Crew)> {
    let app = TestApp::spawn(topology, roster::SERVICES).await?;
    let admin = sign_up(&app, "Acme", "ada@acme.test").await.admin;
    let crew = crew(&app, &admin, [json!({}), json!({}), json!({})]).await;
    in_step(&app).await;
    Some((app, admin, crew))
}

/// Many requests for one employee's leave at once: twenty one-day requests against
/// five days, six five-day requests against seven, two for the same week. Each race
/// on a new type (so each starts from its own balance), approved at once or set
/// aside as pending by turns.
async fn requests_at_once_never_overdraw(topology: Topology) {
    let Some((app, admin, Crew { eve_id, eve, .. })) = acme(topology).await else {
        return;
    };
    let admin = admin.as_str();
    let path = "/api/v1/leave/requests";
    for trial in 0..TRIALS {
        let approval = trial % 2 == 1;
        let days_of = |from: usize, count: usize| {
            json!({"start_date": working_day(trial, from).to_string(),
                   "end_date": working_day(trial, from + count - 1).to_string()})
        };
        // Twenty single days, five granted.
        let singles: Vec<Value> = (0..20).map(|n| days_of(n, 1)).collect();
        // Six weeks of five days (after the singles' four), seven days granted: one.
        let weeks: Vec<Value> = (0..6).map(|w| days_of(20 + w * 5, 5)).collect();
        // One week asked twice, on a type with days enough for both: one is taken.
        let twice = vec![days_of(50, 5); 2];
        // (race, days granted, requests, how many are taken, thousandths left)
        for (race, granted, bodies, won, left) in [
            ("Singles", 5.0, singles, 5, 0),
            ("Weeks", 7.0, weeks, 1, 2_000),
            ("Twice", 20.0, twice, 1, 15_000),
        ] {
            let kind = leave_type(&app, admin, &format!("{race} {trial}"), approval).await;
            adjust(&app, admin, &eve_id, &kind, granted).await;
            let bodies: Vec<Value> = bodies
                .into_iter()
                .map(|mut body| {
                    body["leave_type_id"] = json!(kind);
                    body
                })
                .collect();
            let answers = all_at_once(&app, &eve, path, &bodies).await;
            let (balance, pending) = leave_holds(&app, &eve_id, &kind).await;
            assert_eq!(accepted(&answers), won, "{race} {trial}: {answers:?}");
            assert_eq!(balance - pending, left, "{race} {trial}");
        }
    }
}

/// Approvals at once after an adjustment lowered the balance below what the pending
/// requests set aside: approval checks again, so the balance never goes below zero.
async fn approvals_at_once_never_overdraw(topology: Topology) {
    let Some((
        app,
        admin,
        Crew {
            eve_id, eve, max, ..
        },
    )) = acme(topology).await
    else {
        return;
    };
    let admin = admin.as_str();
    for trial in 0..TRIALS {
        let kind = leave_type(&app, admin, &format!("Approved {trial}"), true).await;
        adjust(&app, admin, &eve_id, &kind, 10.0).await;
        let mut ids = Vec::new();
        for n in 0..5 {
            let body = json!({"leave_type_id": kind,
                              "start_date": working_day(trial, n * 2).to_string(),
                              "end_date": working_day(trial, n * 2 + 1).to_string()});
            let made = app.post("/api/v1/leave/requests", &eve, &body).await;
            assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
            ids.push(made.body["id"].as_str().unwrap().to_owned());
        }
        // Ten days set aside; the balance drops to five.
        adjust(&app, admin, &eve_id, &kind, -5.0).await;
        let approvals = approve_all(&app, &max, &ids).await;
        let approved = approvals
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count();
        for refused in approvals.iter().filter(|a| a.status != StatusCode::OK) {
            assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
        }
        let txn = app.db("leave").read(Scope::AllCompanies).await.unwrap();
        let balance = ledger_sum(&txn, uuid(&eve_id), uuid(&kind), None).await;
        assert_eq!(
            approved, 2,
            "trial {trial}: two requests of two days fit in five"
        );
        assert_eq!(balance, 1_000, "trial {trial}");
    }
}

/// December's leave approved while the accrual job closes December's year: the close
/// counts every approval that committed before it, and an approval that commits after
/// it settles the year again, so the ledger always holds what the year's turn expires
/// given every line (here everything above nothing: days approved are never also
/// expired).
async fn a_close_of_the_year_misses_no_approval(topology: Topology) {
    use roster_leave::store::accrual;
    let Some((
        app,
        admin,
        Crew {
            eve_id, eve, max, ..
        },
    )) = acme(topology).await
    else {
        return;
    };
    let (admin, db) = (admin.as_str(), app.db("leave"));
    for trial in 0..TRIALS {
        // Each trial closes a year of its own, long ago, on a type of its own.
        let year = 2010 + i32::try_from(trial).unwrap();
        let made = app
            .post(
                "/api/v1/leave/types",
                admin,
                &json!({"name": format!("Closed {trial}"), "paid": true,
                        "annual_allowance_days": 20, "accrual": "yearly"}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
        let kind = made.body["id"].as_str().unwrap().to_owned();
        backdate(
            db,
            &kind,
            Date::from_calendar_date(year, Month::January, 1).unwrap(),
        )
        .await;
        let new_year = Date::from_calendar_date(year + 1, Month::January, 1).unwrap();
        let at = |day: Date| day.midnight().assume_utc();
        accrual::run(db, at(new_year - Duration::days(40)))
            .await
            .unwrap();
        let mut ids = Vec::new();
        let december = Date::from_calendar_date(year, Month::December, 1).unwrap();
        for day in (0..7).map(|n| december + Duration::days(n)) {
            if matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
                continue;
            }
            let body = json!({"leave_type_id": kind, "start_date": day.to_string(),
                              "end_date": day.to_string()});
            let made = app.post("/api/v1/leave/requests", &eve, &body).await;
            assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
            ids.push(made.body["id"].as_str().unwrap().to_owned());
        }
        let approvals = approve_all(&app, &max, &ids);
        let close = accrual::run(db, at(new_year + Duration::days(1)));
        let (approvals, closed) = tokio::join!(approvals, close);
        closed.unwrap();
        for approval in &approvals {
            assert_eq!(approval.status, StatusCode::OK, "{:?}", approval.body);
        }
        // Nothing carries: twenty days less the five taken expire, and no more; what
        // is left is the new year's twenty.
        let txn = db.read(Scope::AllCompanies).await.unwrap();
        assert_eq!(
            ledger_sum(&txn, uuid(&eve_id), uuid(&kind), None).await,
            20_000,
            "trial {trial}"
        );
    }
}

/// Moves the start of type `kind`'s accrual back to `start`: its history is the test's
/// to write.
pub async fn backdate(db: &roster_service::ServiceDb, kind: &str, start: Date) {
    let txn = db.begin_write(Scope::AllCompanies).await.unwrap();
    let backdate = Query::update()
        .table(Alias::new("leave_types"))
        .value(Alias::new("accrual_start"), start)
        .and_where(Expr::col(Alias::new("id")).eq(uuid(kind)))
        .to_owned();
    txn.execute(&backdate).await.unwrap();
    txn.commit().await.unwrap();
}

/// Changes of one employee's account at once (new emails, a new role, a departure),
/// through people: each made whole or refused (409 while another is under way), and
/// auth's account always ends as people's employee, field for field. A change whose
/// last step fails (the employee as their own manager) puts the account back.
async fn account_changes_at_once_leave_auth_and_people_alike(topology: Topology) {
    let Some((app, admin, crew)) = acme(topology).await else {
        return;
    };
    let admin = admin.as_str();
    let path = format!("/api/v1/people/employees/{}", crew.eve_id);
    let account_of = |id: String| {
        let app = &app;
        async move {
            let account = roster_auth::store::accounts::get(app.db("auth"), uuid(&id))
                .await
                .unwrap();
            (account.email, account.role, account.active)
        }
    };
    let employee_of = |id: String| {
        let app = &app;
        async move {
            let txn = app.db("people").read(Scope::AllCompanies).await.unwrap();
            let employee = Query::select()
                .columns(["email", "role", "status"].map(Alias::new))
                .from(Alias::new("employees"))
                .and_where(Expr::col(Alias::new("id")).eq(uuid(&id)))
                .to_owned();
            let row = txn.query_one(&employee).await.unwrap().unwrap();
            let status: String = row.try_get_by_index(2).unwrap();
            (
                row.try_get_by_index::<String>(0).unwrap(),
                row.try_get_by_index::<String>(1).unwrap(),
                status == "active",
            )
        }
    };
    for trial in 0..TRIALS {
        let bodies: Vec<Value> = vec![
            json!({"email": format!("eve.{trial}.a@acme.test")}),
            json!({"email": format!("eve.{trial}.b@acme.test"), "role": "manager"}),
            json!({"role": "employee", "name": format!("Eve {trial}")}),
        ];
        let answers = join_all(bodies.iter().map(|body| app.patch(&path, admin, body))).await;
        for answer in &answers {
            assert!(
                [StatusCode::OK, StatusCode::CONFLICT].contains(&answer.status),
                "trial {trial}: {:?}",
                answer.body
            );
        }
        assert!(
            answers.iter().any(|a| a.status == StatusCode::OK),
            "trial {trial}: none made: {:?}",
            answers.iter().map(|a| &a.body).collect::<Vec<_>>()
        );
        assert_eq!(
            account_of(crew.eve_id.clone()).await,
            employee_of(crew.eve_id.clone()).await,
            "trial {trial}"
        );
    }
    // The last step refuses (Eve would be her own manager): the account is put back
    // as it was.
    let before = account_of(crew.eve_id.clone()).await;
    let refused = app
        .patch(
            &path,
            admin,
            &json!({"email": "eve.cycle@acme.test", "manager_id": crew.eve_id}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    assert_eq!(account_of(crew.eve_id.clone()).await, before);
    assert_eq!(employee_of(crew.eve_id.clone()).await, before);
    // A departure and a change at once: whichever ran, both agree.
    let last = json!({"email": "eve.last@acme.test"});
    let leaving = app.delete(&path, admin);
    let renamed = app.patch(&path, admin, &last);
    let (left, _) = tokio::join!(leaving, renamed);
    assert!(
        [StatusCode::NO_CONTENT, StatusCode::CONFLICT].contains(&left.status),
        "{:?}",
        left.body
    );
    assert_eq!(
        account_of(crew.eve_id.clone()).await,
        employee_of(crew.eve_id.clone()).await
    );
}

/// Two administrators demoting each other at once: one demotion is made, the other
/// refused (409), and the company always keeps an active administrator; the last one
/// can neither be demoted nor leave.
async fn a_company_always_keeps_an_administrator(topology: Topology) {
    let Some((app, admin, crew)) = acme(topology).await else {
        return;
    };
    let people = app.get("/api/v1/people/employees?limit=200", &admin).await;
    // The administrators' own sessions end with their demotion: the changes are
    // made with an administrator's token of the test's own.
    let company_id = people.body["items"][0]["company_id"].as_str().unwrap();
    let admin = app.token(company_id.parse().unwrap(), &[roster_tokens::Role::Admin]);
    let admin = admin.as_str();
    let ada = people.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "admin")
        .and_then(|p| p["id"].as_str())
        .unwrap()
        .to_owned();
    let path = |id: &str| format!("/api/v1/people/employees/{id}");
    let promoted = app
        .patch(&path(&crew.max_id), admin, &json!({"role": "admin"}))
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    let demote = json!({"role": "employee"});
    let (ada_path, max_path) = (path(&ada), path(&crew.max_id));
    for trial in 0..TRIALS {
        let (one, other) = tokio::join!(
            app.patch(&ada_path, admin, &demote),
            app.patch(&max_path, admin, &demote),
        );
        let statuses = [one.status, other.status];
        assert!(
            statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
            "trial {trial}: {:?} {:?}",
            one.body,
            other.body
        );
        let demoted = if one.status == StatusCode::OK {
            &ada
        } else {
            &crew.max_id
        };
        let back = app
            .patch(&path(demoted), admin, &json!({"role": "admin"}))
            .await;
        assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    }
    let demoted = app.patch(&path(&crew.max_id), admin, &demote).await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    for refused in [
        app.patch(&path(&ada), admin, &demote).await,
        app.delete(&path(&ada), admin).await,
    ] {
        assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    }
}

/// Trials of each race between a saga's step and what undoes or takes it over.
const SAGA_TRIALS: usize = 100;

/// `service`'s database on a new installation, migrated, with nothing running on it
/// (no resumer to take the test's sagas over): its store is raced directly.
async fn store_of(
    topology: Topology,
    service: &roster_service::ServiceDef,
) -> Option<(Installation, roster_service::ServiceDb)> {
    let installation = Installation::create(topology, std::slice::from_ref(service)).await?;
    let db = crate::crash::open(installation.config(), service.name).await;
    roster_migrate::Migrator::new(&db, (service.migrations)())
        .up(None)
        .await
        .unwrap();
    Some((installation, db))
}

/// Runs `trial` (given its number) [`SAGA_TRIALS`] times; fails saying in how many
/// `what` happened, which a trial answers true when it did.
async fn never<F, Fut>(what: &str, mut trial: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut broken = 0;
    for n in 0..SAGA_TRIALS {
        if trial(n).await {
            broken += 1;
        }
    }
    assert_eq!(broken, 0, "{what} in {broken} of {SAGA_TRIALS} trials");
}

/// A saga its runner finishes while the resumer takes over the due ones is either
/// finished by its runner or taken over, never both (taken over, it would run its last
/// step again, meet the employee and compensate: an employee without an account).
async fn a_saga_finished_meanwhile_is_never_taken_over(topology: Topology) {
    use roster_people::store::sagas;
    let Some((_installation, db)) = store_of(topology, &roster_people::SERVICE).await else {
        return;
    };
    let db = &db;
    let (expired, lease) = (time::Duration::ZERO, time::Duration::minutes(1));
    never("finished and taken over", |trial| async move {
        let new = sagas::NewSaga {
            kind: "employee",
            company_id: Uuid::now_v7(),
            employee_id: Uuid::now_v7(),
            payload: "{}".to_owned(),
        };
        let saga = sagas::create(db, new, expired, None).await.unwrap();
        assert!(
            sagas::set_state(db, &saga, sagas::ACCOUNT_CREATED, None, expired)
                .await
                .unwrap()
        );
        let employee = roster_people::store::employees::NewEmployee {
            email: format!("e{trial}@acme.test"),
            name: "Pat".to_owned(),
            surname: "Doe".to_owned(),
            role: roster_tokens::Role::Employee,
            position: None,
            phone: None,
            manager_id: None,
            hire_date: None,
            sealed_salary: None,
            team_ids: Vec::new(),
        };
        // The resumer reads the due sagas, and the runner finishes while it claims.
        let (claimed, finished) = tokio::join!(
            sagas::claim_due(db, lease, 10),
            sagas::finish(db, &saga, employee),
        );
        let taken = claimed.unwrap().iter().any(|s| s.id == saga.id);
        finished.unwrap() && taken
    })
    .await;
}

/// An account created and cancelled at once (a saga's step repeated by a slow runner,
/// and the compensation of its successor) ends cancelled: never an account left that
/// no employee will ever have.
async fn a_cancelled_account_is_never_left_behind(topology: Topology) {
    use roster_auth::store::accounts;
    let Some((_installation, db)) = store_of(topology, &roster_auth::SERVICE).await else {
        return;
    };
    let (db, company_id) = (&db, Uuid::now_v7());
    never("an account outlived its cancellation", |trial| async move {
        let id = Uuid::now_v7();
        let new = accounts::NewAccount {
            id,
            company_id,
            email: roster_contracts::Email::parse(&format!("a{trial}@acme.test")).unwrap(),
            password_hash: "not a hash".to_owned(),
            role: roster_tokens::Role::Employee,
        };
        let (_, cancelled) = tokio::join!(accounts::ensure(db, new), accounts::cancel(db, id));
        cancelled.unwrap();
        accounts::get(db, id).await.is_ok()
    })
    .await;
}

/// A company created and removed at once (a signup's step repeated by a slow runner,
/// and the compensation of its successor) ends removed.
async fn a_removed_company_is_never_created_again(topology: Topology) {
    use roster_org::store::companies;
    let Some((_installation, db)) = store_of(topology, &roster_org::SERVICE).await else {
        return;
    };
    let db = &db;
    never("a removed company came back", |_| async move {
        let id = Uuid::now_v7();
        let name = roster_contracts::Name::parse("company_name", "Acme", 100).unwrap();
        let tenant = roster_storage::Tenant::of_company(id);
        let (_, removed) = tokio::join!(
            companies::ensure(db, id, name),
            companies::remove(db, &tenant)
        );
        removed.unwrap();
        companies::get(db, &tenant).await.is_ok()
    })
    .await;
}

topology_tests!(
    requests_at_once_never_overdraw,
    approvals_at_once_never_overdraw,
    a_close_of_the_year_misses_no_approval,
    account_changes_at_once_leave_auth_and_people_alike,
    a_company_always_keeps_an_administrator,
    a_saga_finished_meanwhile_is_never_taken_over,
    a_cancelled_account_is_never_left_behind,
    a_removed_company_is_never_created_again,
);
