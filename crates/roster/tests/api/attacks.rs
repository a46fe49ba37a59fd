//! The attack suite: what a hostile company administrator, manager or employee
//! tries against the shared process, on every topology, each case named by the
//! attack and what must hold. ARCHITECTURE.md's threat model names, for each kind
//! of attacker, these tests and the others that prove what stops them (tokens,
//! isolation, row security, webhooks' addresses and replies, files).

use std::time::Duration as Wait;

use roster_storage::Scope;
use roster_testing::{Installation, Method, StatusCode, TestApp, Topology, topology_tests};
use roster_tokens::Role;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::accounts::{PASSWORD, SignedUp, log_in, refresh, sign_up};
use crate::leave::{granted, notified};
use crate::notifications::{next_event, open_stream};
use crate::replicas::in_step;
use crate::tasks::{Crew, crew, person};
use crate::within;

/// A company of its own on `topology`, its administrator and the [`Crew`]; none when
/// the topology is not available here.
async fn acme(topology: Topology) -> Option<(TestApp, SignedUp, Crew)> {
    let app = TestApp::spawn(topology, roster::SERVICES).await?;
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let crew = crew(&app, &acme.admin, [json!({}), json!({}), json!({})]).await;
    Some((app, acme, crew))
}

/// Saves `wording` as the company's `kind` template: the answer.
async fn word(
    app: &TestApp,
    admin: &str,
    kind: &str,
    wording: &Value,
) -> roster_testing::TestResponse {
    app.request(
        Method::PUT,
        &format!("/api/v1/notifications/templates/{kind}"),
        Some(admin),
        Some(wording),
    )
    .await
}

async fn a_company_wording_cannot_cost_the_others(topology: Topology) {
    let Some((app, acme, Crew { eve, eve_id, .. })) = acme(topology).await else {
        return;
    };
    let admin = acme.admin.as_str();
    let chain = vec!["{{ task.title|upper }}"; 40].join("");
    for (attack, body, says) in [
        (
            "nested loops that run a million times",
            "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}",
            "a loop",
        ),
        (
            "71 characters that build half a gigabyte",
            "{% set s = 'x' * 99999999 %}{{ s ~ s ~ s ~ s ~ s }}",
            "an assignment",
        ),
        (
            "one instruction that writes 100 MB",
            "{{ 'x' * 100000000 }}",
            "`*`",
        ),
        (
            "heavy only for a task titled boom",
            "{% if task.title == 'boom' %}{% for i in range(100000) %}{{ task.title }}{% endfor %}{% endif %}",
            "a loop",
        ),
        (
            "a wording that writes more than a body may",
            chain.as_str(),
            "can write up to",
        ),
        (
            "a filter that multiplies its input",
            "{{ task.title|replace('', task.title) }}",
            "`replace`",
        ),
        (
            "a function that makes text",
            "{{ lipsum(1000) }}",
            "a function call",
        ),
    ] {
        let saved = word(
            &app,
            admin,
            "task.assigned",
            &json!({"title": "New task", "body": body}),
        )
        .await;
        assert_eq!(
            saved.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{attack}: must be refused when saved, {:?}",
            saved.body
        );
        assert_eq!(saved.error_fields(), ["body"], "{attack}: {:?}", saved.body);
        assert!(
            saved.body.to_string().contains(says),
            "{attack}: the refusal says why ({says}): {:?}",
            saved.body
        );
    }
    // What a wording is for still works: a choice on the values, filtered.
    let kept = word(
        &app,
        admin,
        "task.assigned",
        &json!({"title": "New task: {{ task.title|title }}",
                "body": "{% if task.title == 'boom' %}Boom: {{ task.title|upper }}{% else %}{{ task.title }}{% endif %}"}),
    )
    .await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    let task = json!({"title": "boom", "assignee_id": eve_id});
    let assigned = app.post("/api/v1/tasks", admin, &task).await;
    assert_eq!(assigned.status, StatusCode::CREATED, "{:?}", assigned.body);
    assert_eq!(notified(&app, &eve, "task.assigned").await, "Boom: BOOM");

    // A wording kept before these rules (written here straight into the table)
    // renders in the default wording: the company's loop never runs.
    let txn = app
        .db("notifications")
        .begin_write(Scope::AllCompanies)
        .await
        .unwrap();
    let old = Query::update()
        .table(Alias::new("templates"))
        .value(
            Alias::new("body"),
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ task.title }}{% endfor %}{% endfor %}",
        )
        .and_where(Expr::col(Alias::new("kind")).eq("task.assigned"))
        .to_owned();
    txn.execute(&old).await.unwrap();
    txn.commit().await.unwrap();
    let again = json!({"title": "again", "assignee_id": eve_id});
    let assigned = app.post("/api/v1/tasks", admin, &again).await;
    assert_eq!(assigned.status, StatusCode::CREATED, "{:?}", assigned.body);
    crate::eventually("the old wording falls back to the default", || async {
        let list = app.get("/api/v1/notifications", &eve).await;
        list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["body"] == "You were assigned \"again\".")
    })
    .await;
}

async fn an_employee_cannot_take_back_leave_they_took(topology: Topology) {
    let Some((
        app,
        acme,
        Crew {
            max,
            eve,
            eve_id,
            max_id,
            ..
        },
    )) = acme(topology).await
    else {
        return;
    };
    let admin = acme.admin.as_str();
    let annual = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": "Annual", "paid": true, "annual_allowance_days": 0, "accrual": "none"}),
        )
        .await;
    let annual = annual.body["id"].as_str().unwrap().to_owned();
    in_step(&app).await;
    granted(&app, admin, &eve_id, &annual, 20.0, "This year's").await;
    let today = OffsetDateTime::now_utc().date();
    let ask = |start: time::Date, end: time::Date| {
        let (app, eve, annual, max) = (&app, eve.clone(), annual.clone(), max.clone());
        async move {
            let body = json!({"leave_type_id": annual, "start_date": start.to_string(),
                              "end_date": end.to_string()});
            let asked = app.post("/api/v1/leave/requests", &eve, &body).await;
            assert_eq!(asked.status, StatusCode::CREATED, "{:?}", asked.body);
            let id = asked.body["id"].as_str().unwrap().to_owned();
            let approved = app
                .post(
                    &format!("/api/v1/leave/requests/{id}/approve"),
                    &max,
                    &json!({}),
                )
                .await;
            assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
            id
        }
    };
    let taken = ask(today - Duration::days(14), today - Duration::days(8)).await;
    let to_come = ask(today + Duration::days(30), today + Duration::days(34)).await;
    let cancel = |id: &str, token: &str| {
        let (app, path, token) = (
            &app,
            format!("/api/v1/leave/requests/{id}/cancel"),
            token.to_owned(),
        );
        async move { app.post(&path, &token, &json!({})).await }
    };
    // The attack: the employee cancels leave they have taken and gets the days back.
    let refused = cancel(&taken, &eve).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "leave that has begun is not the employee's to cancel: {:?}",
        refused.body
    );
    // Leave still to come stays theirs to cancel.
    let own = cancel(&to_come, &eve).await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    // Their manager may: the ledger says who, and the employee is told.
    let by_manager = cancel(&taken, &max).await;
    assert_eq!(by_manager.status, StatusCode::OK, "{:?}", by_manager.body);
    let ledger = app
        .get(
            &format!("/api/v1/leave/balances/{eve_id}/ledger?leave_type_id={annual}"),
            admin,
        )
        .await;
    let lines = ledger.body.as_array().unwrap();
    let returned = lines
        .iter()
        .filter(|l| l["request_id"] == taken.as_str() && l["days"].as_f64() > Some(0.0))
        .collect::<Vec<_>>();
    assert_eq!(returned.len(), 1, "{lines:?}");
    assert_eq!(returned[0]["recorded_by"], max_id.as_str(), "{lines:?}");
    crate::eventually("the employee is told their leave was cancelled", || async {
        let list = app.get("/api/v1/notifications", &eve).await;
        list.body["items"].as_array().unwrap().iter().any(|n| {
            n["kind"] == "leave.decided" && n["body"].as_str().unwrap().ends_with("was cancelled.")
        })
    })
    .await;
}

async fn a_manager_assigns_only_within_their_reports(topology: Topology) {
    let Some((
        app,
        acme,
        Crew {
            max,
            max_id,
            eve,
            eve_id,
            zed,
            zed_id,
        },
    )) = acme(topology).await
    else {
        return;
    };
    let admin = acme.admin.as_str();
    // Ivy reports to Eve, who reports to Max.
    let (ivy_id, _) = person(
        &app,
        admin,
        json!({"email": "ivy@acme.test", "name": "Ivy", "role": "employee", "manager_id": eve_id}),
    )
    .await;
    in_step(&app).await;
    let assign = |token: &str, assignee: &str| {
        let (app, token) = (&app, token.to_owned());
        let body = json!({"title": "Do it", "assignee_id": assignee});
        async move { app.post("/api/v1/tasks", &token, &body).await.status }
    };
    for (attack, token, assignee, status) in [
        (
            "a manager assigns their direct report",
            &max,
            &eve_id,
            StatusCode::CREATED,
        ),
        (
            "a manager assigns an indirect report",
            &max,
            &ivy_id,
            StatusCode::CREATED,
        ),
        (
            "a manager assigns someone else's people",
            &max,
            &zed_id,
            StatusCode::FORBIDDEN,
        ),
        (
            "a manager assigns the administrator",
            &max,
            &acme.admin_id,
            StatusCode::FORBIDDEN,
        ),
        (
            "an employee assigns their own report",
            &eve,
            &ivy_id,
            StatusCode::CREATED,
        ),
        (
            "an employee assigns their manager",
            &eve,
            &max_id,
            StatusCode::FORBIDDEN,
        ),
        (
            "an employee assigns a colleague",
            &zed,
            &eve_id,
            StatusCode::FORBIDDEN,
        ),
        (
            "an employee assigns themselves",
            &zed,
            &zed_id,
            StatusCode::CREATED,
        ),
        (
            "an administrator assigns anyone",
            &acme.admin,
            &zed_id,
            StatusCode::CREATED,
        ),
    ] {
        assert_eq!(assign(token, assignee).await, status, "{attack}");
    }
    // Nor by creating a task for themselves, then handing it over as its creator.
    let own = app
        .post(
            "/api/v1/tasks",
            &max,
            &json!({"title": "Mine", "assignee_id": max_id}),
        )
        .await;
    let path = format!("/api/v1/tasks/{}", own.body["id"].as_str().unwrap());
    let handed = app
        .patch(&path, &max, &json!({"assignee_id": zed_id}))
        .await;
    assert_eq!(handed.status, StatusCode::FORBIDDEN, "{:?}", handed.body);
    let handed = app
        .patch(&path, &max, &json!({"assignee_id": ivy_id}))
        .await;
    assert_eq!(handed.status, StatusCode::OK, "{:?}", handed.body);
}

async fn dates_outside_years_one_to_9999_are_refused(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    for date in ["0000-06-01", "-0001-06-01", "+2027-06-01", "2027-6-1"] {
        for (what, method, path, body, field) in [
            (
                "a task due",
                Method::POST,
                "/api/v1/tasks".to_owned(),
                Some(json!({"title": "Old", "due_date": date})),
                "due_date",
            ),
            (
                "a hire",
                Method::POST,
                "/api/v1/people/employees".to_owned(),
                Some(
                    json!({"email": "old@acme.test", "name": "Old", "surname": "Doe",
                            "role": "employee", "password": crate::accounts::PASSWORD,
                            "hire_date": date}),
                ),
                "hire_date",
            ),
            (
                "a holiday",
                Method::POST,
                "/api/v1/org/holidays".to_owned(),
                Some(json!({"date": date, "name": "Old"})),
                "date",
            ),
            (
                "leave",
                Method::POST,
                "/api/v1/leave/requests".to_owned(),
                Some(
                    json!({"leave_type_id": uuid::Uuid::now_v7(), "start_date": date,
                            "end_date": "2027-06-04"}),
                ),
                "start_date",
            ),
            (
                "check-ins from",
                Method::GET,
                format!("/api/v1/presence/checkins?from={date}"),
                None,
                "from",
            ),
            (
                "attendance of a day",
                Method::GET,
                format!("/api/v1/presence/attendance?date={date}"),
                None,
                "date",
            ),
        ] {
            let answer = app.request(method, &path, Some(admin), body.as_ref()).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{what} on {date}: {:?}",
                answer.body
            );
            assert_eq!(
                answer.error_fields(),
                [field],
                "{what} on {date}: {:?}",
                answer.body
            );
        }
    }
}

/// A role, an email or a logout everywhere ends every session of the account at
/// once, in every process: the tokens issued before are refused within moments
/// (not at their expiry), their refresh tokens never work again, and a stream
/// opened with one ends saying so.
async fn sessions_end_with_the_rights_they_carried(app: &TestApp) {
    let acme = sign_up(app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let (bea_id, bea) = person(
        app,
        admin,
        json!({"email": "bea@acme.test", "name": "Bea", "role": "admin"}),
    )
    .await;
    let bea_refresh = log_in(app, "bea@acme.test", PASSWORD).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stream = open_stream(app, &bea).await;
    next_event(&mut stream, "unread").await;
    let refused = |token: String| async move {
        within(Wait::from_secs(2), "the old token refused", || async {
            app.get("/api/v1/tasks", &token).await.status == StatusCode::UNAUTHORIZED
        })
        .await;
    };
    // The attack: demoted, Bea promotes herself again with the token she holds.
    let bea_path = format!("/api/v1/people/employees/{bea_id}");
    let demoted = app
        .patch(&bea_path, admin, &json!({"role": "employee"}))
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    refused(bea.clone()).await;
    let again = app.patch(&bea_path, &bea, &json!({"role": "admin"})).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{:?}", again.body);
    let refreshed = refresh(app, &bea_refresh).await;
    assert_eq!(
        refreshed.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        refreshed.body
    );
    assert_eq!(
        next_event(&mut stream, "end").await,
        json!({"reason": "revoked"})
    );
    let closed = tokio::time::timeout(Wait::from_secs(5), stream.chunk()).await;
    assert!(
        matches!(closed, Ok(Ok(None))),
        "the stream goes on: {closed:?}"
    );

    // A new email ends the sessions of the old one.
    let bea = log_in(app, "bea@acme.test", PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = app
        .patch(&bea_path, admin, &json!({"email": "bea@elsewhere.test"}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    refused(bea).await;

    // Logging out everywhere ends every session, the one it was asked from too.
    let one = log_in(app, "bea@elsewhere.test", PASSWORD).await.body;
    let two = log_in(app, "bea@elsewhere.test", PASSWORD).await.body;
    let token = |body: &Value| body["access_token"].as_str().unwrap().to_owned();
    let everywhere = app
        .request(
            Method::POST,
            "/api/v1/auth/logout-all",
            Some(&token(&one)),
            None,
        )
        .await;
    assert_eq!(
        everywhere.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        everywhere.body
    );
    refused(token(&one)).await;
    refused(token(&two)).await;
    let refreshed = refresh(app, two["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        refreshed.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        refreshed.body
    );

    // A new password ends every other session; asked with the wrong current
    // password, it changes nothing (and counts as a failed login).
    let one = log_in(app, "bea@elsewhere.test", PASSWORD).await.body;
    let two = log_in(app, "bea@elsewhere.test", PASSWORD).await.body;
    let new_password = "a brand new passphrase";
    let change_password = |current: &str| {
        let body = json!({"current_password": current, "new_password": new_password});
        let token = token(&one);
        async move {
            app.request(
                Method::POST,
                "/api/v1/auth/password",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let wrong = change_password("not the password").await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        wrong.body
    );
    assert_eq!(wrong.body["errors"][0]["field"], "current_password");
    assert_eq!(
        app.get("/api/v1/tasks", &token(&two)).await.status,
        StatusCode::OK
    );
    let changed = change_password(PASSWORD).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{:?}", changed.body);
    refused(token(&two)).await;
    let refreshed = refresh(app, two["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/tasks", &token(&one)).await.status,
        StatusCode::OK,
        "the session that changed it goes on"
    );
    assert_eq!(
        log_in(app, "bea@elsewhere.test", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(app, "bea@elsewhere.test", new_password).await.status,
        StatusCode::OK
    );

    // A stream also ends when its token expires.
    let company_id = acme.company_id.parse().unwrap();
    let brief = app.token_with(roster_testing::claims(
        company_id,
        &[Role::Employee],
        time::Duration::seconds(2),
    ));
    let mut stream = open_stream(app, &brief).await;
    assert_eq!(
        next_event(&mut stream, "end").await,
        json!({"reason": "expired"})
    );
}

async fn sessions_end_in_one_process(topology: Topology) {
    if let Some(app) = TestApp::spawn(topology, roster::SERVICES).await {
        sessions_end_with_the_rights_they_carried(&app).await;
    }
}

async fn sessions_end_in_every_process_apart(topology: Topology) {
    if let Some(app) = TestApp::spawn_apart(topology, roster::SERVICES).await {
        sessions_end_with_the_rights_they_carried(&app).await;
    }
}

/// A login from `address` (as a trusted proxy names it): the status.
async fn log_in_from(app: &TestApp, address: &str, email: &str, password: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn guessing_passwords_never_locks_out_the_real_user(topology: Topology) {
    let Some(mut installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    // Behind a proxy on this host, as `security.trusted_proxies` documents.
    installation.config_mut().security.trusted_proxies = vec![[127, 0, 0, 1].into()];
    let app = TestApp::spawn_on(installation, roster::SERVICES).await;
    sign_up(&app, "Acme", "ada@acme.test").await;
    let ada = "ada@acme.test";
    for (attacker, fresh, twin) in [
        ("203.0.113.7", "198.51.100.9", "203.0.113.7"),
        // One IPv6 host picks any address of its /64.
        ("2001:db8::1", "2001:db8:0:1::1", "2001:db8::beef"),
    ] {
        for guess in 0..5 {
            let status = log_in_from(&app, attacker, ada, &format!("guess {guess}")).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{attacker}: guess {guess}"
            );
        }
        assert_eq!(
            log_in_from(&app, twin, ada, "guess 5").await,
            StatusCode::TOO_MANY_REQUESTS,
            "{attacker}: the sixth guess from the same client waits"
        );
        assert_eq!(
            log_in_from(&app, fresh, ada, PASSWORD).await,
            StatusCode::OK,
            "{attacker}: the real user, from another client, gets in"
        );
    }
    // Spraying one guess at many accounts from one client: the client waits.
    for n in 0..30 {
        let email = format!("user{n}@acme.test");
        let status = log_in_from(&app, "192.0.2.50", &email, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "spray {n}");
    }
    assert_eq!(
        log_in_from(&app, "192.0.2.50", ada, "guess").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a client that failed for thirty accounts waits"
    );
    assert_eq!(
        log_in_from(&app, "192.0.2.51", ada, PASSWORD).await,
        StatusCode::OK
    );
}

/// Signs a company up as `email` with `password` from `address` (as a trusted proxy
/// names it): the answer.
async fn sign_up_from(app: &TestApp, address: &str, company: &str, email: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url("/api/v1/auth/signup"))
        .header("x-forwarded-for", address)
        .json(&json!({"company_name": company, "admin_email": email,
                      "admin_password": PASSWORD, "admin_name": "Ada", "admin_surname": "Admin"}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn an_email_is_an_account_of_its_company_alone(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let globex = sign_up(&app, "Globex", "gus@globex.test").await;
    // Globex hires someone at Ada's address: nothing tells it Acme has her, and
    // Acme's account stays hers.
    let squat = json!({"email": "ada@acme.test", "name": "Ada", "surname": "Other",
                       "role": "employee", "password": "another horse battery"});
    let hired = app
        .post("/api/v1/people/employees", &globex.admin, &squat)
        .await;
    assert_eq!(hired.status, StatusCode::CREATED, "{:?}", hired.body);
    let app = &app;
    let company_of = |answer: &roster_testing::TestResponse| {
        let token = answer.body["access_token"].as_str().unwrap().to_owned();
        async move {
            let me = app.get("/api/v1/org/company", &token).await;
            me.body["id"].as_str().unwrap().to_owned()
        }
    };
    let hers = log_in(app, "ada@acme.test", PASSWORD).await;
    assert_eq!(hers.status, StatusCode::OK, "{:?}", hers.body);
    assert_eq!(company_of(&hers).await, acme.company_id);
    let other = log_in(app, "ada@acme.test", "another horse battery").await;
    assert_eq!(company_of(&other).await, globex.company_id);
    // Signing up with an address in use says nothing of it either; then one email
    // and password open two companies: the login asks which, and takes either.
    let side = app
        .request(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(&json!({"company_name": "Ada's side", "admin_email": "ada@acme.test",
                         "admin_password": PASSWORD, "admin_name": "Ada", "admin_surname": "Admin"})),
        )
        .await;
    assert_eq!(side.status, StatusCode::CREATED, "{:?}", side.body);
    let side_id = side.body["company_id"].as_str().unwrap().to_owned();
    let ask = log_in(app, "ada@acme.test", PASSWORD).await;
    assert_eq!(ask.status, StatusCode::CONFLICT, "{:?}", ask.body);
    assert_eq!(ask.error_fields(), ["company_id"], "{:?}", ask.body);
    for company_id in [&acme.company_id, &side_id] {
        assert!(
            ask.body.to_string().contains(company_id.as_str()),
            "{:?}",
            ask.body
        );
        let chosen = app
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&json!({"email": "ada@acme.test", "password": PASSWORD,
                             "company_id": company_id})),
            )
            .await;
        assert_eq!(chosen.status, StatusCode::OK, "{:?}", chosen.body);
        assert_eq!(&company_of(&chosen).await, company_id);
    }
    // A wrong password says nothing of how many companies hold the email.
    let wrong = log_in(app, "ada@acme.test", "wrong horse battery").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{:?}", wrong.body);
}

async fn signups_are_bounded_and_can_be_closed(topology: Topology) {
    let Some(mut installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    installation.config_mut().security.trusted_proxies = vec![[127, 0, 0, 1].into()];
    let app = TestApp::spawn_on(installation, roster::SERVICES).await;
    for n in 0..5 {
        let status = sign_up_from(&app, "203.0.113.7", &format!("Shell {n}"), "x@shell.test").await;
        assert_eq!(status, StatusCode::CREATED, "signup {n}");
    }
    assert_eq!(
        sign_up_from(&app, "203.0.113.7", "Shell 5", "x@shell.test").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a client signing up company after company waits"
    );
    assert_eq!(
        sign_up_from(&app, "198.51.100.9", "Real", "ada@real.test").await,
        StatusCode::CREATED,
        "another client signs up"
    );
    // An installation that closed signup.
    let Some(mut installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    installation.config_mut().auth.signup = roster_config::SignupPolicy::Closed;
    let closed = TestApp::spawn_on(installation, roster::SERVICES).await;
    assert_eq!(
        sign_up_from(&closed, "198.51.100.10", "Late", "late@real.test").await,
        StatusCode::FORBIDDEN,
        "signup is closed"
    );
}

/// What each quota counts: where a company creates one, and a body that makes one
/// (numbered `n`, so each is new).
fn quota_bodies(n: usize) -> [(&'static str, &'static str, Value); 5] {
    [
        (
            "teams",
            "/api/v1/org/teams",
            json!({"name": format!("Team {n}")}),
        ),
        (
            "locations",
            "/api/v1/org/locations",
            json!({"name": format!("Site {n}"), "latitude": 38.7, "longitude": -9.1, "radius_m": 100}),
        ),
        (
            "nfc_tags",
            "/api/v1/presence/nfc-tags",
            json!({"uid": format!("04:a2:2b:{n:02x}"), "label": format!("Door {n}")}),
        ),
        (
            "leave_types",
            "/api/v1/leave/types",
            json!({"name": format!("Type {n}"), "paid": false, "annual_allowance_days": 0, "accrual": "none"}),
        ),
        (
            "webhooks",
            "/api/v1/notifications/webhooks",
            json!({"url": format!("http://127.0.0.1:9/hook/{n}"), "kinds": ["welcome"]}),
        ),
    ]
}

async fn a_company_holds_and_asks_within_its_quotas(topology: Topology) {
    let Some(mut installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    const LIMIT: usize = 3;
    const TRIALS: usize = 4;
    let config = installation.config_mut();
    let quotas = &mut config.quotas;
    (quotas.teams, quotas.locations, quotas.nfc_tags) = (3, 3, 3);
    (quotas.leave_types, quotas.webhooks, quotas.employees) = (3, 3, 3);
    // Twenty requests a second (a burst of 200), ten writes (a burst of 100).
    (quotas.requests_per_minute, quotas.writes_per_minute) = (1_200, 600);
    config.auth.signups_per_address = 100;
    let app = &TestApp::spawn_on(installation, roster::SERVICES).await;
    // The race: ten creations of each at once, on a company of its own per trial;
    // never more than the quota, and the rest refused with the quota named.
    for trial in 0..TRIALS {
        let company = sign_up(
            app,
            &format!("Race {trial}"),
            &format!("ada@race{trial}.test"),
        )
        .await;
        let admin = company.admin.as_str();
        for (what, path, _) in quota_bodies(0) {
            let tries = (0..10).map(|n| {
                let body = quota_bodies(n)
                    .into_iter()
                    .find(|(w, ..)| *w == what)
                    .unwrap()
                    .2;
                async move { app.post(path, admin, &body).await }
            });
            let answers = futures::future::join_all(tries).await;
            let made = answers
                .iter()
                .filter(|a| a.status == StatusCode::CREATED)
                .count();
            let statuses: Vec<_> = answers.iter().map(|a| a.status).collect();
            assert_eq!(made, LIMIT, "trial {trial}, {what}: {statuses:?}");
            for refused in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
                assert_eq!(
                    refused.status,
                    StatusCode::CONFLICT,
                    "{what}: {:?}",
                    refused.body
                );
                let detail = refused.body["detail"].as_str().unwrap();
                assert!(detail.contains(&format!("quotas.{what}")), "{detail}");
            }
        }
        // Employees: the administrator and two hires fill three.
        let hires = (0..10).map(|n| {
            let body = json!({"email": format!("p{n}@race{trial}.test"), "name": "P", "surname": "Q",
                              "role": "employee", "password": PASSWORD});
            async move { app.post("/api/v1/people/employees", admin, &body).await.status }
        });
        let statuses = futures::future::join_all(hires).await;
        let hired = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        assert_eq!(hired, LIMIT - 1, "trial {trial}: {statuses:?}");
    }
    // Requests: a company that asks one at a time past its burst is slowed to its
    // rate, each answered; asking many at once, those past a second's wait are
    // refused, naming the quota; another company goes on.
    let busy = sign_up(app, "Busy", "ada@busy.test").await;
    let calm = sign_up(app, "Calm", "ada@calm.test").await;
    for n in 0..240 {
        let answer = app.get("/api/v1/org/teams", &busy.admin).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "request {n}: {:?}",
            answer.body
        );
    }
    let at_once = (0..80).map(|_| app.get("/api/v1/org/teams", &busy.admin));
    let answers = futures::future::join_all(at_once).await;
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.status != StatusCode::OK)
        .collect();
    assert!(refused.len() >= 40, "{} refused of 80", refused.len());
    for answer in refused {
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        let detail = answer.body["detail"].as_str().unwrap();
        assert!(detail.contains("quotas.requests_per_minute"), "{detail}");
        assert!(answer.header("retry-after").parse::<u64>().unwrap() >= 1);
    }
    assert_eq!(
        app.get("/api/v1/org/teams", &calm.admin).await.status,
        StatusCode::OK
    );
    // Writes have a bucket of their own: past it, the company still reads.
    let writer = sign_up(app, "Writer", "ada@writer.test").await;
    let tasks = (0..150).map(|n| {
        let body = json!({"title": format!("Task {n}")});
        let admin = writer.admin.as_str();
        async move { app.post("/api/v1/tasks", admin, &body).await }
    });
    let answers = futures::future::join_all(tasks).await;
    let made = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert!((100..=125).contains(&made), "{made} made of 150");
    for answer in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        let detail = answer.body["detail"].as_str().unwrap();
        assert!(detail.contains("quotas.writes_per_minute"), "{detail}");
    }
    assert_eq!(
        app.get("/api/v1/tasks", &writer.admin).await.status,
        StatusCode::OK
    );
}

topology_tests!(
    a_company_wording_cannot_cost_the_others,
    an_employee_cannot_take_back_leave_they_took,
    a_manager_assigns_only_within_their_reports,
    dates_outside_years_one_to_9999_are_refused,
    sessions_end_in_one_process,
    sessions_end_in_every_process_apart,
    guessing_passwords_never_locks_out_the_real_user,
    an_email_is_an_account_of_its_company_alone,
    signups_are_bounded_and_can_be_closed,
    a_company_holds_and_asks_within_its_quotas,
);
