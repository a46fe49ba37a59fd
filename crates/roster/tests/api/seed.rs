//! `roster seed` at scale: companies with departments, squads and managers, and a
//! history of check-ins, leave and tasks that every service shows through its API.

use roster_testing::{Installation, StatusCode, Topology, topology_tests};
use serde_json::Value;
use time::OffsetDateTime;

use crate::cli::log_in;
use crate::process::{Server, installation_env, roster, roster_on, run};

const PASSWORD: &str = "seeded-password-1234";

#[test]
fn a_scale_that_cannot_be_staffed_exits_1_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(roster()
        .args(["seed", "--companies", "3", "--employees", "2"])
        .env("ROSTER_STORAGE__DIR", dir.path()));
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("2 employees cannot staff 3 companies"),
        "{stderr}"
    );
    let (code, _, stderr) = run(roster().args(["seed", "--days", "400"]));
    assert_eq!(code, 2, "{stderr}");
}

async fn seed_at_scale_makes_companies_and_their_history(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let args = [
        "seed",
        "--companies",
        "2",
        "--employees",
        "25",
        "--days",
        "21",
        "--password",
        PASSWORD,
    ];
    let (code, stdout, stderr) = roster_on(installation.config(), &args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("Seeded 2 companies, 25 employees,"),
        "{stdout}"
    );
    let admins: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("admin  "))
        .collect();
    assert_eq!(admins.len(), 2, "{stdout}");
    // The imports left the planner statistics of what they grew (on PostgreSQL the
    // seed's own ANALYZE, not autovacuum's).
    let presence = crate::crash::open(installation.config(), "presence").await;
    let analyzed = match topology {
        Topology::Sqlite => {
            "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'checkins' AND CAST(stat AS INTEGER) > 0"
        }
        _ => {
            "SELECT count(*) FROM pg_stat_user_tables \
             WHERE relname = 'checkins' AND last_analyze IS NOT NULL"
        }
    };
    assert!(crate::faults::Stores::count(&presence, analyzed.to_owned()).await > 0);
    presence.close().await;

    let mut command = roster();
    command.args(["up", "--port", "0", "--no-demo"]);
    installation_env(&mut command, installation.config());
    let server = Server::start(&mut command);
    let base = server.url("");
    let client = reqwest::Client::new();
    let admin = log_in(&client, &base, admins[0], PASSWORD).await;
    let get = |path: String| {
        let request = client.get(format!("{base}{path}")).bearer_auth(&admin);
        async move {
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
            answer.json::<Value>().await.unwrap()
        }
    };

    // The first company has 13 people: the administrator, and two squads under one
    // department, each led by a manager who reports to the administrator.
    let people = get("/api/v1/people/employees?limit=200".to_owned()).await;
    let people = people["items"].as_array().unwrap();
    assert_eq!(people.len(), 13, "{people:?}");
    let teams = get("/api/v1/org/teams".to_owned()).await;
    let teams = teams["items"].as_array().unwrap();
    assert_eq!(teams.len(), 3, "a department and two squads: {teams:?}");
    let department = teams.iter().find(|t| t["parent_id"].is_null()).unwrap()["id"].clone();
    let boss = people.iter().find(|p| p["role"] == "admin").unwrap();
    let leads: Vec<&Value> = people.iter().filter(|p| p["role"] == "manager").collect();
    assert_eq!(leads.len(), 2);
    for lead in &leads {
        assert_eq!(lead["manager_id"], boss["id"]);
    }
    let report = people.iter().find(|p| p["role"] == "employee").unwrap();
    assert!(leads.iter().any(|l| l["id"] == report["manager_id"]));
    assert!(report["team_ids"].as_array().unwrap().contains(&department));
    // A report can log in with the seeded password.
    log_in(&client, &base, report["email"].as_str().unwrap(), PASSWORD).await;

    // The department's attendance over the last month: everyone was in on most
    // working days, eight to nine hours each, nobody's shift left open.
    let last_month = OffsetDateTime::now_utc().date() - time::Duration::days(15);
    let month = format!("{}-{:02}", last_month.year(), u8::from(last_month.month()));
    let sheet = get(format!(
        "/api/v1/presence/attendance/month?month={month}&team_id={}",
        department.as_str().unwrap()
    ))
    .await;
    let sheet = sheet["employees"].as_array().unwrap();
    assert_eq!(sheet.len(), 13, "the whole department");
    let present: u64 = sheet
        .iter()
        .map(|e| e["days_present"].as_u64().unwrap())
        .sum();
    assert!(present > 13 * 3, "{sheet:?}");
    for employee in sheet {
        assert_eq!(employee["missing_checkouts"], 0);
        for day in employee["days"].as_array().unwrap() {
            let minutes = day["worked_minutes"].as_i64().unwrap();
            assert!((480..540).contains(&minutes), "{day}");
        }
    }

    // Balances: the opening ten days, less what was taken; the leave approved by
    // the manager; a task from the manager.
    let mut taken = 0.0;
    for person in people.iter().filter(|p| p["role"] != "admin") {
        let id = person["id"].as_str().unwrap();
        let balances = get(format!("/api/v1/leave/balances?employee_id={id}")).await;
        let annual = balances
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == "Annual leave")
            .unwrap();
        assert!(annual["entitled"].as_f64().unwrap() >= 10.0, "{annual}");
        taken += annual["taken"].as_f64().unwrap();
        let tasks = get(format!("/api/v1/tasks?assignee_id={id}")).await;
        let tasks = tasks["items"].as_array().unwrap();
        assert!(!tasks.is_empty(), "{person}");
        assert!(
            tasks
                .iter()
                .all(|t| t["creator_id"] == person["manager_id"])
        );
    }
    assert!(taken > 0.0, "someone took leave");
    let requests = get("/api/v1/leave/requests?status=approved".to_owned()).await;
    let requests = requests["items"].as_array().unwrap();
    assert!(!requests.is_empty());
    for request in requests {
        let employee = people
            .iter()
            .find(|p| p["id"] == request["employee_id"])
            .unwrap();
        assert_eq!(request["decided_by"], employee["manager_id"]);
    }

    // Live changes to the seeded history are told at once: an imported task's first
    // change here, and an imported request's, is the first event of each (an import
    // publishes none), which no consumer waits behind.
    let reports: Vec<&Value> = people.iter().filter(|p| p["role"] == "employee").collect();
    let mut open = None;
    for report in &reports {
        let theirs = get(format!(
            "/api/v1/tasks?assignee_id={}",
            report["id"].as_str().unwrap()
        ))
        .await;
        open = theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| ["todo", "in_progress"].contains(&t["status"].as_str().unwrap()))
            .cloned();
        if open.is_some() {
            break;
        }
    }
    let task = open.expect("someone has a task under way");
    let to = reports
        .iter()
        .find(|r| r["id"] != task["assignee_id"])
        .unwrap();
    let notified = |email: &Value, kind: &'static str| {
        let (client, base) = (&client, &base);
        let email = email.as_str().unwrap().to_owned();
        async move {
            let token = log_in(client, base, &email, PASSWORD).await;
            move || {
                let request = client
                    .get(format!("{base}/api/v1/notifications?limit=200"))
                    .bearer_auth(&token);
                async move {
                    let list: Value = request.send().await.unwrap().json().await.unwrap();
                    list["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|n| n["kind"] == kind)
                }
            }
        }
    };
    let assigned = notified(&to["email"], "task.assigned").await;
    let cancelled = &requests[0];
    let manager = people.iter().find(|p| p["id"] == to["manager_id"]).unwrap();
    let awaiting = notified(&manager["email"], "leave.awaiting_approval").await;
    let send = |method: reqwest::Method, path: String, token: &str, body: Value| {
        let request = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body);
        async move {
            let answer = request.send().await.unwrap();
            assert!(answer.status().is_success(), "{path}: {}", answer.status());
        }
    };
    let (task_id, request_id) = (
        task["id"].as_str().unwrap(),
        cancelled["id"].as_str().unwrap(),
    );
    send(
        reqwest::Method::PATCH,
        format!("/api/v1/tasks/{task_id}"),
        &admin,
        serde_json::json!({"assignee_id": to["id"]}),
    )
    .await;
    crate::within(
        std::time::Duration::from_secs(1),
        "the new assignee told",
        assigned,
    )
    .await;
    send(
        reqwest::Method::POST,
        format!("/api/v1/leave/requests/{request_id}/cancel"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    let leave_type = cancelled["leave_type_id"].clone();
    let asker = log_in(&client, &base, to["email"].as_str().unwrap(), PASSWORD).await;
    let in_a_month = OffsetDateTime::now_utc().date() + time::Duration::days(30);
    let monday = in_a_month
        + time::Duration::days(7 - i64::from(in_a_month.weekday().number_days_from_monday()));
    send(
        reqwest::Method::POST,
        "/api/v1/leave/requests".to_owned(),
        &asker,
        serde_json::json!({"leave_type_id": leave_type, "start_date": monday.to_string(),
                           "end_date": monday.to_string()}),
    )
    .await;
    crate::within(
        std::time::Duration::from_secs(1),
        "the manager told",
        awaiting,
    )
    .await;

    // The second company's administrator sees only theirs.
    let other = log_in(&client, &base, admins[1], PASSWORD).await;
    let theirs: Value = client
        .get(format!("{base}/api/v1/people/employees?limit=200"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs = theirs["items"].as_array().unwrap();
    assert_eq!(theirs.len(), 12);
    assert!(
        theirs
            .iter()
            .all(|p| people.iter().all(|q| q["id"] != p["id"]))
    );
}

topology_tests!(seed_at_scale_makes_companies_and_their_history);
