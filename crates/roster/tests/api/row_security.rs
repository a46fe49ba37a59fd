//! Invariant: in the PostgreSQL topologies every table of company data is under
//! row-level security that the service's own role obeys. A query that did not say
//! whose rows it wants sees none, a company's scope sees only that company's rows, and
//! no row can be written into another company. A new table must either join the
//! policies or be named here as belonging to no company.

use roster::SERVICES;
use roster_storage::{ALL_COMPANIES_SETTING, COMPANY_SETTING};
use roster_testing::{Method, StatusCode, TestApp, Topology, pg_location, postgres_topology_tests};
use serde_json::json;
use sqlx::{Connection, PgConnection, Row};

use crate::accounts::{PASSWORD, SignedUp, hire, sign_up};

/// Tables that hold no company's data.
const NO_COMPANY: [&str; 7] = [
    "schema_migrations",
    "cancelled_accounts",
    "removed_companies",
    "signing_keys",
    "inbox",
    "event_positions",
    "accrual_runs",
];

/// PostgreSQL's `insufficient_privilege`, which a row-level security check raises.
const INSUFFICIENT_PRIVILEGE: &str = "42501";

/// Gives the company a row in every table: a team, a location, a holiday, a task, an
/// employee in the team (with their account and saga), a tag and a manual check-in, a
/// leave type, days granted and a request, a webhook, a template, preferences and a
/// delivered email.
async fn fill(app: &TestApp, company: &SignedUp, domain: &str) {
    let post = |path: &'static str, body: serde_json::Value| async move {
        let answer = app.post(path, &company.admin, &body).await;
        assert!(answer.status.is_success(), "{path}: {:?}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    };
    let team = post("/api/v1/org/teams", json!({"name": "Ops"})).await;
    post(
        "/api/v1/org/locations",
        json!({"name": "Office", "latitude": 1.0, "longitude": 1.0, "radius_m": 5}),
    )
    .await;
    post(
        "/api/v1/org/holidays",
        json!({"date": "2026-12-25", "name": "Christmas"}),
    )
    .await;
    post("/api/v1/tasks", json!({"title": "Plan the year"})).await;
    let employee = hire(
        app,
        &company.admin,
        json!({"email": format!("pat@{domain}"), "name": "Pat", "surname": "Smith",
               "role": "employee", "password": PASSWORD, "team_ids": [team]}),
    )
    .await;
    assert_eq!(employee.status, StatusCode::CREATED, "{:?}", employee.body);
    // Presence: a tag, and a check-in recorded by hand (with its history row).
    crate::replicas::in_step(app).await;
    crate::presence::org_in_step(app, &company.company_id, "UTC", 1).await;
    post(
        "/api/v1/presence/nfc-tags",
        json!({"uid": "0A0B", "label": "Door"}),
    )
    .await;
    post(
        "/api/v1/presence/checkins",
        json!({"kind": "in", "method": "manual", "employee_id": employee.body["id"],
               "reason": "Badge at home"}),
    )
    .await;
    // Leave: a type, and days granted.
    let annual = post(
        "/api/v1/leave/types",
        json!({"name": "Annual", "paid": true, "annual_allowance_days": 25, "accrual": "none"}),
    )
    .await;
    post(
        "/api/v1/leave/adjustments",
        json!({"employee_id": employee.body["id"], "leave_type_id": annual, "days": 25,
               "kind": "allocation", "note": "This year's"}),
    )
    .await;
    let remote = post(
        "/api/v1/leave/types",
        json!({"name": "Remote", "paid": false, "annual_allowance_days": 0, "accrual": "none"}),
    )
    .await;
    post(
        "/api/v1/leave/requests",
        json!({"leave_type_id": remote, "start_date": "2027-01-04", "end_date": "2027-01-05"}),
    )
    .await;
    // Notifications: a webhook, a template, preferences, and a delivered email (the
    // admin's welcome) with its attempt.
    post(
        "/api/v1/notifications/webhooks",
        json!({"url": "https://hooks.example.com/roster", "kinds": ["leave.decided"]}),
    )
    .await;
    for (path, body) in [
        (
            "/api/v1/notifications/templates/welcome",
            json!({"title": "Hello {{ employee.name }}", "body": "Welcome aboard."}),
        ),
        (
            "/api/v1/notifications/preferences",
            json!({"kinds": {"task.assigned": {"email_enabled": false}}}),
        ),
    ] {
        let answer = app
            .request(Method::PUT, path, Some(&company.admin), Some(&body))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app
        .get(
            "/api/v1/notifications/deliveries?status=delivered",
            &company.admin,
        )
        .await
        .body["items"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no email was delivered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Runs `sql` in a transaction scoped as the services scope theirs, then rolls back.
/// `None` is every company's scope.
async fn in_scope(
    conn: &mut PgConnection,
    company: Option<&str>,
    sql: &str,
) -> Result<i64, sqlx::Error> {
    let mut txn = conn.begin().await?;
    let scope = format!(
        "SELECT set_config('{COMPANY_SETTING}', $1, true), set_config('{ALL_COMPANIES_SETTING}', $2, true)"
    );
    sqlx::query(sqlx::AssertSqlSafe(scope))
        .bind(company.unwrap_or_default())
        .bind(if company.is_some() { "off" } else { "on" })
        .execute(&mut *txn)
        .await?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_optional(&mut *txn)
        .await?;
    txn.rollback().await?;
    Ok(result.map_or(0, |row| row.try_get::<i64, _>(0).unwrap_or(0)))
}

async fn row_security_backs_every_tenant_query(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let a = sign_up(&app, "Acme", "ada@acme.test").await;
    let b = sign_up(&app, "Globex", "hank@globex.test").await;
    fill(&app, &a, "acme.test").await;
    fill(&app, &b, "globex.test").await;
    for service in SERVICES.iter().filter(|s| s.consumes.is_some()) {
        give_dead_letters(&app, service.name, &[&a.company_id, &b.company_id]).await;
    }

    let mut checked = 0;
    for service in SERVICES {
        let pg = pg_location(app.config(), service.name);
        let mut conn = PgConnection::connect_with(&pg.service_options(service.name))
            .await
            .unwrap();
        let tables = sqlx::query(
            "SELECT relname::text, relrowsecurity, relforcerowsecurity, \
                    EXISTS (SELECT 1 FROM pg_attribute \
                            WHERE attrelid = c.oid AND attname = 'company_id') \
             FROM pg_class c \
             WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r' \
             ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for table in tables {
            let name: String = table.get(0);
            if NO_COMPANY.contains(&name.as_str()) {
                continue;
            }
            let (enabled, forced): (bool, bool) = (table.get(1), table.get(2));
            assert!(
                enabled && forced,
                "{}.{name}: row-level security must be enabled and forced",
                service.name
            );
            let count = format!("SELECT count(*) FROM \"{name}\"");
            let unscoped: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            let all = in_scope(&mut conn, None, &count).await.unwrap();
            let of_a = in_scope(&mut conn, Some(&a.company_id), &count)
                .await
                .unwrap();
            let of_b = in_scope(&mut conn, Some(&b.company_id), &count)
                .await
                .unwrap();
            let what = format!(
                "{}.{name}: unscoped {unscoped}, all {all}, A {of_a}, B {of_b}",
                service.name
            );
            assert_eq!(unscoped, 0, "{what}: a query without a scope sees rows");
            assert!(of_a > 0 && of_b > 0, "{what}: each company has rows here");
            assert_eq!(of_a + of_b, all, "{what}: a row is seen by one company");

            // A's scope can neither touch B's rows nor move its own rows to B.
            let column = match name.as_str() {
                "companies" | "org_companies" => "id",
                _ if table.get::<bool, _>(3) => "company_id",
                // Rows under a parent row (a session's refresh tokens): read checks only.
                _ => continue,
            };
            let touch = format!(
                "WITH t AS (UPDATE \"{name}\" SET \"{column}\" = \"{column}\" \
                 WHERE \"{column}\" = '{}' RETURNING 1) SELECT count(*) FROM t",
                b.company_id
            );
            let touched = in_scope(&mut conn, Some(&a.company_id), &touch).await;
            assert_eq!(touched.unwrap(), 0, "{what}: A's scope updated B's rows");
            let moving = format!(
                "WITH t AS (UPDATE \"{name}\" SET \"{column}\" = '{}' \
                 WHERE \"{column}\" = '{}' RETURNING 1) SELECT count(*) FROM t",
                b.company_id, a.company_id
            );
            let error = in_scope(&mut conn, Some(&a.company_id), &moving)
                .await
                .expect_err(&format!("{what}: A's scope moved a row to B"));
            let code = error
                .as_database_error()
                .and_then(|e| e.code().map(|c| c.into_owned()));
            assert_eq!(
                code.as_deref(),
                Some(INSUFFICIENT_PRIVILEGE),
                "{what}: {error}"
            );
            checked += 1;
        }
        conn.close().await.unwrap();
    }
    // Org's companies, company_settings, teams, holiday_calendars, holidays, locations,
    // outbox; people's employees, employee_teams, sagas, outbox; auth's accounts,
    // sessions, outbox; each consumer's employees and dead_letters, and presence's
    // employee_teams, org_companies, org_locations, nfc_tags, checkins,
    // checkin_changes and outbox; tasks' tasks and outbox; leave's org_companies, org_calendars,
    // org_holidays, leave_types, leave_ledger, leave_requests and outbox;
    // notifications' notifications.
    assert_eq!(checked, 44, "tables checked for writes");
}

/// Waits for the consumer's replica to hold both companies' employees, then gives it a
/// dead letter of each company (an event it could not apply).
async fn give_dead_letters(app: &TestApp, service: &'static str, companies: &[&str]) {
    let pg = pg_location(app.config(), service);
    let mut conn = PgConnection::connect_with(&pg.service_options(service))
        .await
        .unwrap();
    let replicated = "SELECT count(*) FROM employees";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while in_scope(&mut conn, None, replicated).await.unwrap() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "{service}: the replica did not receive the employees"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for company in companies {
        let insert = format!(
            "WITH t AS (INSERT INTO dead_letters (event_id, type, aggregate_id, company_id, \
             envelope, error, attempts, first_failed_at, last_failed_at) \
             VALUES (gen_random_uuid(), 'people.employee.updated', gen_random_uuid(), '{company}', \
             '{{}}', 'failed', 5, now(), now()) RETURNING 1) SELECT count(*) FROM t"
        );
        let mut txn = conn.begin().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT set_config('{COMPANY_SETTING}', '', true), set_config('{ALL_COMPANIES_SETTING}', 'on', true)"
        )))
        .execute(&mut *txn)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(insert))
            .execute(&mut *txn)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    conn.close().await.unwrap();
}

postgres_topology_tests!(row_security_backs_every_tenant_query);
