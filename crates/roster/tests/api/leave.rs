//! Leave over HTTP on every topology: leave types, balances as the sum of their
//! ledger, adjustments, and an accrual job that credits each (employee, type, period)
//! exactly once, catches up what it missed and logs every run.

use roster_leave::domain::{Accrual, Period};
use roster_storage::Scope;
use roster_testing::{Method, StatusCode, TestApp, Topology, topology_tests};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::accounts::sign_up;
use crate::presence::acme_in;
use crate::replicas::in_step;
use crate::tasks::{Crew, crew};

fn balance_of<'b>(balances: &'b Value, name: &str) -> &'b Value {
    balances
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {balances}"))
}

/// Waits for `token`'s notification of `kind`, failing after 20 s: its body.
pub async fn notified(app: &TestApp, token: &str, kind: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let list = app.get("/api/v1/notifications", token).await;
        let found = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == kind)
            .map(|n| n["body"].as_str().unwrap().to_owned());
        if let Some(body) = found {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {kind} notification: {:?}",
            list.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The accrual runs logged, oldest first: (outcome, credited).
pub async fn runs(app: &TestApp) -> Vec<(String, i64)> {
    let txn = app.db("leave").read(Scope::AllCompanies).await.unwrap();
    let sql = "SELECT outcome, credited FROM accrual_runs ORDER BY id";
    txn.query_all_raw(Statement::from_string(txn.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                row.try_get_by_index(0).unwrap(),
                row.try_get_by_index(1).unwrap(),
            )
        })
        .collect()
}

/// An administrator's grant of `days` that must be recorded; answers its ledger line.
pub async fn granted(
    app: &TestApp,
    admin: &str,
    employee_id: &str,
    leave_type_id: &str,
    days: f64,
    note: &str,
) -> Value {
    let answer = app
        .post(
            "/api/v1/leave/adjustments",
            admin,
            &json!({"employee_id": employee_id, "leave_type_id": leave_type_id,
                    "days": days, "kind": "allocation", "note": note}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body
}

async fn accrual_credits_each_period_once(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let Crew {
        max,
        eve_id,
        eve,
        zed,
        ..
    } = crew(
        &app,
        admin,
        [
            json!({"hire_date": "2020-01-01"}),
            json!({"hire_date": "2021-06-01"}),
            json!({}),
        ],
    )
    .await;
    in_step(&app).await;

    // Types: administrators only; names unique; bad values named.
    let annual = json!({"name": "Annual", "paid": true, "annual_allowance_days": 24,
                        "accrual": "monthly", "carry_forward_max_days": 5});
    let refused = app.post("/api/v1/leave/types", &eve, &annual).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let made = app.post("/api/v1/leave/types", admin, &annual).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["annual_allowance_days"], 24.0);
    assert_eq!(made.body["requires_approval"], true);
    let twice = app.post("/api/v1/leave/types", admin, &annual).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    for (bad, field) in [
        (
            json!({"name": "X", "paid": true, "annual_allowance_days": -1, "accrual": "none"}),
            "annual_allowance_days",
        ),
        (
            json!({"name": "", "paid": true, "annual_allowance_days": 1, "accrual": "none"}),
            "name",
        ),
        (
            json!({"name": "X", "paid": true, "annual_allowance_days": 1, "accrual": "none",
                   "carry_forward_expiry_months": 40}),
            "carry_forward_expiry_months",
        ),
    ] {
        let answer = app.post("/api/v1/leave/types", admin, &bad).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(answer.error_fields(), [field], "{:?}", answer.body);
    }
    let unpaid = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": "Unpaid", "paid": false, "annual_allowance_days": 0, "accrual": "none"}),
        )
        .await;
    assert_eq!(unpaid.status, StatusCode::CREATED);
    let types = app.get("/api/v1/leave/types", &eve).await;
    let names: Vec<&str> = types
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Annual", "Unpaid"]);

    // A run credits this month (a twelfth: 2 days) to each of the four, once.
    let db = app.db("leave");
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let report = roster_leave::store::accrual::run(db, now).await.unwrap();
    assert_eq!(report.credited, 4);
    let again = roster_leave::store::accrual::run(db, now).await.unwrap();
    assert_eq!(again.credited, 0, "a period credited twice");
    // Two months later, with the runs in between missed: both are caught up, and
    // two runs at once credit them once.
    let later = now + Duration::days(62);
    let (a, b) = tokio::join!(
        roster_leave::store::accrual::run(db, later),
        roster_leave::store::accrual::run(db, later)
    );
    let months = |d: time::Date| d.year() * 12 + i32::from(u8::from(d.month()));
    let caught_up = u64::try_from(months(later.date()) - months(today)).unwrap();
    // Across a New Year, each of the four also gets the line that closes the year.
    let closed = u64::from(later.year() > today.year());
    assert_eq!(
        a.unwrap().credited + b.unwrap().credited,
        4 * caught_up + 4 * closed
    );
    let logged = runs(&app).await;
    assert!(logged.len() >= 4, "{logged:?}");
    assert!(
        logged.iter().all(|(outcome, _)| outcome == "succeeded"),
        "{logged:?}"
    );

    // Eve's balance is the sum of her ledger: a twelfth of 24 days a month.
    let credited = 2.0 * (caught_up + 1) as f64;
    let balances = app.get("/api/v1/leave/balances", &eve).await;
    assert_eq!(balances.status, StatusCode::OK, "{:?}", balances.body);
    let eves = balance_of(&balances.body, "Annual");
    assert_eq!(eves["entitled"], credited);
    assert_eq!(eves["available"], credited);
    assert_eq!(balance_of(&balances.body, "Unpaid")["entitled"], 0.0);
    let ledger = app
        .get(&format!("/api/v1/leave/balances/{eve_id}/ledger"), &eve)
        .await;
    let lines: Vec<&Value> = ledger
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "accrual")
        .collect();
    assert_eq!(lines.len() as u64, caught_up + 1, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| l["kind"] == "accrual" && l["days"] == 2.0)
    );
    let periods: Vec<&str> = lines
        .iter()
        .map(|l| l["period"].as_str().unwrap())
        .collect();
    let mut sorted = periods.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, periods, "one line per period, in order");

    // An administrator grants days; an employee may not; a manager sees their
    // report's balance, someone else's manager does not.
    let annual_id = made.body["id"].as_str().unwrap();
    let grant = json!({"employee_id": eve_id, "leave_type_id": annual_id, "days": 1.5,
                       "kind": "allocation", "note": "Long service"});
    let by_eve = app.post("/api/v1/leave/adjustments", &eve, &grant).await;
    assert_eq!(by_eve.status, StatusCode::FORBIDDEN);
    let granted = app.post("/api/v1/leave/adjustments", admin, &grant).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{:?}", granted.body);
    let correction = json!({"employee_id": eve_id, "leave_type_id": annual_id, "days": -0.5,
                            "kind": "adjustment", "note": "Counted twice"});
    let corrected = app
        .post("/api/v1/leave/adjustments", admin, &correction)
        .await;
    assert_eq!(
        corrected.status,
        StatusCode::CREATED,
        "{:?}",
        corrected.body
    );
    let negative_grant = json!({"employee_id": eve_id, "leave_type_id": annual_id, "days": -1,
                                "kind": "allocation", "note": "No"});
    let refused = app
        .post("/api/v1/leave/adjustments", admin, &negative_grant)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let seen = app
        .get(
            &format!("/api/v1/leave/balances?employee_id={eve_id}"),
            &max,
        )
        .await;
    assert_eq!(balance_of(&seen.body, "Annual")["entitled"], credited + 1.0);
    let hidden = app
        .get(
            &format!("/api/v1/leave/balances?employee_id={eve_id}"),
            &zed,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let hidden = app
        .get(&format!("/api/v1/leave/balances/{eve_id}/ledger"), &zed)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}

async fn requests_are_counted_checked_and_decided(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let Crew {
        max_id,
        max,
        eve_id,
        eve,
        zed,
        ..
    } = crew(&app, admin, [json!({}), json!({}), json!({})]).await;
    let holiday = app
        .post(
            "/api/v1/org/holidays",
            admin,
            &json!({"date": "2027-01-06", "name": "Epiphany"}),
        )
        .await;
    assert_eq!(holiday.status, StatusCode::CREATED, "{:?}", holiday.body);
    let annual = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": "Annual", "paid": true, "annual_allowance_days": 10, "accrual": "none"}),
        )
        .await;
    let annual = annual.body["id"].as_str().unwrap().to_owned();
    let remote = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": "Remote", "paid": false, "annual_allowance_days": 0,
                    "accrual": "none", "requires_approval": false}),
        )
        .await;
    let remote = remote.body["id"].as_str().unwrap().to_owned();
    in_step(&app).await;
    granted(&app, admin, &eve_id, &annual, 10.0, "This year's").await;
    let request = |token: &str, body: Value| {
        let (app, token) = (&app, token.to_owned());
        async move { app.post("/api/v1/leave/requests", &token, &body).await }
    };

    // Monday to Friday with a holiday on the Wednesday: four days, pending.
    let week = request(
        &eve,
        json!({"leave_type_id": annual, "start_date": "2027-01-04",
                                     "end_date": "2027-01-08", "reason": "Skiing"}),
    )
    .await;
    assert_eq!(week.status, StatusCode::CREATED, "{:?}", week.body);
    assert_eq!(week.body["days"], 4.0);
    assert_eq!(week.body["status"], "pending");
    let week_id = week.body["id"].as_str().unwrap().to_owned();
    // Overlapping it, more than is left, a weekend only: refused, each named.
    for (body, field) in [
        (
            json!({"leave_type_id": annual, "start_date": "2027-01-08", "end_date": "2027-01-11"}),
            "start_date",
        ),
        (
            json!({"leave_type_id": annual, "start_date": "2027-02-01", "end_date": "2027-02-12"}),
            "end_date",
        ),
        (
            json!({"leave_type_id": annual, "start_date": "2027-01-16", "end_date": "2027-01-17"}),
            "start_date",
        ),
        (
            json!({"leave_type_id": annual, "start_date": "2027-01-20", "end_date": "2027-01-19"}),
            "end_date",
        ),
    ] {
        let refused = request(&eve, body.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            refused.body
        );
        assert_eq!(
            refused.error_fields(),
            [field],
            "{body}: {:?}",
            refused.body
        );
    }
    // A morning: half a day. The afternoon of the same Friday the week ends on is free.
    let morning = request(
        &eve,
        json!({"leave_type_id": annual, "start_date": "2027-01-12",
                                        "end_date": "2027-01-12", "end_half": true}),
    )
    .await;
    assert_eq!(morning.body["days"], 0.5, "{:?}", morning.body);
    let morning_id = morning.body["id"].as_str().unwrap().to_owned();
    // Max is told at once that Eve's week awaits him.
    let awaiting = notified(&app, &max, "leave.awaiting_approval").await;
    assert!(
        awaiting.contains("Eve Doe asks for 4 days of Annual, 2027-01-04 to 2027-01-08"),
        "{awaiting}"
    );
    let balances = app.get("/api/v1/leave/balances", &eve).await;
    let annual_balance = balance_of(&balances.body, "Annual");
    assert_eq!(annual_balance["pending"], 4.5);
    assert_eq!(annual_balance["available"], 5.5);

    // Decisions: not by the employee, nor by someone else's manager; by Max.
    let path = |id: &str, what: &str| format!("/api/v1/leave/requests/{id}/{what}");
    let own = app.post(&path(&week_id, "approve"), &eve, &json!({})).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let stranger = app.post(&path(&week_id, "approve"), &zed, &json!({})).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let approved = app
        .post(
            &path(&week_id, "approve"),
            &max,
            &json!({"comment": "Enjoy"}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    assert_eq!(approved.body["status"], "approved");
    assert_eq!(approved.body["decided_by"], max_id.as_str());
    let decided = notified(&app, &eve, "leave.decided").await;
    assert!(decided.contains("(4 days) was approved"), "{decided}");
    let twice = app.post(&path(&week_id, "approve"), &max, &json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    // A decision needs no body.
    let rejected = app
        .request(Method::POST, &path(&morning_id, "reject"), Some(&max), None)
        .await;
    assert_eq!(rejected.body["status"], "rejected");
    let late = app
        .post(&path(&morning_id, "cancel"), &eve, &json!({}))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    let balances = app.get("/api/v1/leave/balances", &eve).await;
    let annual_balance = balance_of(&balances.body, "Annual");
    assert_eq!(annual_balance["taken"], 4.0);
    assert_eq!(annual_balance["pending"], 0.0);
    assert_eq!(annual_balance["available"], 6.0);

    // Cancelling the approved week gives its days back, a line of its own.
    let cancelled = app.post(&path(&week_id, "cancel"), &eve, &json!({})).await;
    assert_eq!(
        cancelled.body["status"], "cancelled",
        "{:?}",
        cancelled.body
    );
    let ledger = app
        .get(
            &format!("/api/v1/leave/balances/{eve_id}/ledger?leave_type_id={annual}"),
            &max,
        )
        .await;
    let lines: Vec<(String, f64)> = ledger
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["days"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("allocation".to_owned(), 10.0),
            ("taken".to_owned(), -4.0),
            ("taken".to_owned(), 4.0)
        ]
    );
    let balances = app.get("/api/v1/leave/balances", &eve).await;
    assert_eq!(balance_of(&balances.body, "Annual")["available"], 10.0);

    // A type without approval is approved at once, and unpaid needs no balance.
    let home = request(
        &eve,
        json!({"leave_type_id": remote, "start_date": "2027-03-01",
                                     "end_date": "2027-03-02"}),
    )
    .await;
    assert_eq!(home.body["status"], "approved", "{:?}", home.body);

    // Lists: Eve sees hers, Zed none of hers, Max his report's.
    let mine = app
        .get("/api/v1/leave/requests?status=approved", &eve)
        .await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    let none = app.get("/api/v1/leave/requests", &zed).await;
    assert_eq!(none.body["items"].as_array().unwrap().len(), 0);
    let reports = app
        .get(
            &format!("/api/v1/leave/requests?employee_id={eve_id}"),
            &max,
        )
        .await;
    assert_eq!(reports.body["items"].as_array().unwrap().len(), 3);

    // Eve leaves: her pending request is cancelled.
    let pending = request(
        &eve,
        json!({"leave_type_id": annual, "start_date": "2027-04-05",
                                        "end_date": "2027-04-06"}),
    )
    .await;
    assert_eq!(pending.body["status"], "pending");

    // The report of every balance: each one's as their own list says; the
    // administrator sees everyone, Max himself and Eve, Eve herself.
    let report = app.get("/api/v1/leave/balances/report", admin).await;
    assert_eq!(report.status, StatusCode::OK, "{:?}", report.body);
    let everyone = report.body["employees"].as_array().unwrap();
    assert_eq!(everyone.len(), 4, "{everyone:?}");
    let hers = everyone
        .iter()
        .find(|e| e["employee_id"] == eve_id)
        .unwrap();
    let listed = app
        .get(
            &format!("/api/v1/leave/balances?employee_id={eve_id}"),
            admin,
        )
        .await;
    assert_eq!(hers["balances"], listed.body);
    assert!(
        balance_of(&hers["balances"], "Annual")["pending"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let seen = |token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move {
            let report = app.get("/api/v1/leave/balances/report", &token).await;
            let mut ids: Vec<String> = report.body["employees"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["employee_id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut max_and_eve = vec![max_id.clone(), eve_id.clone()];
    max_and_eve.sort();
    assert_eq!(seen(&max).await, max_and_eve);
    assert_eq!(seen(&eve).await, vec![eve_id.clone()]);

    let gone = app
        .delete(&format!("/api/v1/people/employees/{eve_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let list = app
            .get(
                &format!("/api/v1/leave/requests?employee_id={eve_id}&status=pending"),
                admin,
            )
            .await;
        if list.body["items"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "pending leave never cancelled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The turn of the year: what exceeds the carry-forward cap expires on New Year's Day,
/// and carried days not taken within the policy's months expire then, each once.
async fn the_year_turns_once(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let Crew {
        eve_id, eve, max, ..
    } = crew(
        &app,
        admin,
        [json!({}), json!({"hire_date": "2021-06-01"}), json!({})],
    )
    .await;
    let annual = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": "Annual", "paid": true, "annual_allowance_days": 24,
                    "accrual": "monthly", "carry_forward_max_days": 5,
                    "carry_forward_expiry_months": 2}),
        )
        .await;
    let annual = annual.body["id"].as_str().unwrap().to_owned();
    in_step(&app).await;
    granted(&app, admin, &eve_id, &annual, 10.0, "Opening balance").await;
    let db = app.db("leave");
    let now = OffsetDateTime::now_utc();
    roster_leave::store::accrual::run(db, now).await.unwrap();
    let year = now.year();
    let day = |y: i32, m: time::Month, d: u8| time::Date::from_calendar_date(y, m, d).unwrap();
    let noon = |d: time::Date| d.with_time(time::macros::time!(12:00)).assume_utc();
    let available = || async {
        let balances = app
            .get(
                &format!("/api/v1/leave/balances?employee_id={eve_id}"),
                admin,
            )
            .await;
        balance_of(&balances.body, "Annual")["available"]
            .as_f64()
            .unwrap()
    };

    // Early January: the months left of this year and January are credited; of the
    // year's closing balance, 5 days carry and the rest expires. Twice over, once.
    let january = day(year + 1, time::Month::January, 10);
    roster_leave::store::accrual::run(db, noon(january))
        .await
        .unwrap();
    let again = roster_leave::store::accrual::run(db, noon(january))
        .await
        .unwrap();
    assert_eq!(again.credited, 0);
    assert_eq!(available().await, 5.0 + 2.0);
    let ledger = app
        .get(&format!("/api/v1/leave/balances/{eve_id}/ledger"), &eve)
        .await;
    let close = ledger
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "expiry")
        .unwrap_or_else(|| panic!("no year-end line: {:?}", ledger.body));
    assert_eq!(close["period"], year.to_string());
    assert!(
        close["note"]
            .as_str()
            .unwrap()
            .contains("5 carried forward"),
        "{close:?}"
    );

    // Eve takes two January days; at the start of March the carried days she did
    // not take (3 of 5) expire, and February and March are credited.
    let monday = std::iter::successors(Some(day(year + 1, time::Month::January, 11)), |d| {
        d.next_day()
    })
    .find(|d| d.weekday() == time::Weekday::Monday)
    .unwrap();
    let asked = app
        .post(
            "/api/v1/leave/requests",
            &eve,
            &json!({"leave_type_id": annual, "start_date": monday.to_string(),
                    "end_date": monday.next_day().unwrap().to_string()}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{:?}", asked.body);
    let id = asked.body["id"].as_str().unwrap();
    let approved = app
        .post(
            &format!("/api/v1/leave/requests/{id}/approve"),
            &max,
            &json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK);
    assert_eq!(available().await, 5.0);
    let march = day(year + 1, time::Month::March, 5);
    roster_leave::store::accrual::run(db, noon(march))
        .await
        .unwrap();
    roster_leave::store::accrual::run(db, noon(march))
        .await
        .unwrap();
    assert_eq!(available().await, 5.0 + 4.0 - 3.0);
}

/// A month is due from midnight where the company is: in Auckland, the first of a
/// month comes half a day before it does in UTC. Types, grants and accruals are all
/// dated by the company's calendar.
async fn accrual_follows_the_company_calendar(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = acme_in(&app, "Pacific/Auckland").await;
    let admin = acme.admin.as_str();
    let hired = || json!({"hire_date": "2020-01-01"});
    let Crew { eve_id, .. } = crew(&app, admin, [hired(), hired(), hired()]).await;
    // Leave's copy of org holds the zone too.
    in_step(&app).await;
    let made = app
        .post(
            "/api/v1/leave/types",
            admin,
            &json!({"name": "Annual", "paid": true, "annual_allowance_days": 24,
                    "accrual": "monthly"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let db = app.db("leave");
    let auckland = roster_replica::Zone::named("Pacific/Auckland");
    let now = OffsetDateTime::now_utc();
    let report = roster_leave::store::accrual::run(db, now).await.unwrap();
    assert_eq!(report.credited, 4, "this month, Auckland's, for the four");

    // Next month begins at midnight in Auckland: 11:00 or 12:00 UTC the day before.
    let month = |day| Period::of(Accrual::Monthly, day).unwrap();
    let this = month(auckland.date_of(now));
    let next = month(this.end().next_day().unwrap());
    let midnight_utc = next.start().midnight().assume_utc();
    let eve_of = midnight_utc - Duration::hours(14);
    let early_morning = midnight_utc - Duration::hours(10);
    assert_eq!(early_morning.date(), this.end(), "still last month in UTC");
    let before = roster_leave::store::accrual::run(db, eve_of).await.unwrap();
    assert_eq!(before.credited, 0, "next month is not yet due in Auckland");
    let after = roster_leave::store::accrual::run(db, early_morning)
        .await
        .unwrap();
    // In January, each of the four also gets the line that closes Auckland's year.
    let closed = if next.start().month() == time::Month::January {
        4
    } else {
        0
    };
    assert_eq!(after.credited, 4 + closed, "next month is due in Auckland");
    let ledger = app
        .get(&format!("/api/v1/leave/balances/{eve_id}/ledger"), admin)
        .await;
    let key = next.key();
    let credit = ledger
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["period"] == key.as_str())
        .unwrap_or_else(|| panic!("no credit of {key}: {:?}", ledger.body));
    assert_eq!(credit["effective_date"], next.start().to_string());

    // A grant recorded now is dated Auckland's today.
    let annual = made.body["id"].as_str().unwrap();
    let grant = granted(&app, admin, &eve_id, annual, 1.0, "Welcome").await;
    let today = auckland.date_of(OffsetDateTime::now_utc());
    assert_eq!(grant["effective_date"], today.to_string());
}

topology_tests!(
    accrual_follows_the_company_calendar,
    accrual_credits_each_period_once,
    requests_are_counted_checked_and_decided,
    the_year_turns_once
);
