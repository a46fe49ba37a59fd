//! The `roster` binary: its exit codes, its messages, and `roster up` from start to
//! Ctrl-C on every topology.

use std::process::Command;

use roster_storage::Scope;
use roster_testing::{Installation, StatusCode, TestApp, Topology, topology_tests};
use sea_orm::{ActiveModelTrait, Set};

use roster_loadgen::demo;
use serde_json::{Value, json};

use crate::process::{Server, installation_env, roster, roster_on, run};

#[test]
fn an_unknown_service_exits_2_with_the_list() {
    let (code, _, stderr) = run(roster().args(["serve", "payrolll"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("payrolll") && stderr.contains("org"),
        "{stderr}"
    );
    let (code, _, stderr) = run(roster().args(["migrate", "status", "--service", "nope"]));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_wrong_setting_exits_2_naming_the_key_on_one_line() {
    let (code, stdout, stderr) = run(roster()
        .args(["migrate", "status"])
        .env("ROSTER_STORAGE__MODE", "postgre"));
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("storage.mode") && stderr.contains("ROSTER_STORAGE__MODE"),
        "{stderr}"
    );

    let (code, _, stderr) = run(roster()
        .args(["up"])
        .env("ROSTER_SERVICES__ORGG__URL", "http://127.0.0.1:1"));
    assert_eq!(code, 2);
    assert!(stderr.contains("services.orgg"), "{stderr}");
}

async fn migrate_commands_report_and_exit_0(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let config = installation.config();
    let migrate = |args: &[&str]| roster_on(config, &[&["migrate"], args].concat());
    let (code, stdout, stderr) = migrate(&["down", "--service", "org"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("org: nothing applied, nothing to revert"),
        "{stdout}"
    );

    let (code, stdout, _) = migrate(&["up"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("org: applied m20261122_000001_create_org"),
        "{stdout}"
    );
    let (_, stdout, _) = migrate(&["up"]);
    assert!(
        stdout.contains("org: nothing pending, up to date"),
        "{stdout}"
    );
    let (_, stdout, _) = migrate(&["status", "--service", "org"]);
    assert!(
        stdout.contains("m20261122_000001_create_org") && stdout.contains("applied 20"),
        "{stdout}"
    );

    let (code, stdout, _) = migrate(&["down", "--all"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("org: reverted m20261122_000001_create_org"),
        "{stdout}"
    );
    let (_, stdout, _) = migrate(&["status"]);
    assert!(stdout.contains("pending"), "{stdout}");
}

/// Logs `email` in to the Roster at `base`, failing the test if it cannot: its access
/// token.
pub async fn log_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let body = json!({"email": email, "password": password});
    let answer = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{email} cannot log in");
    let body: Value = answer.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Reads the demo company's block from a server's or `roster seed`'s output: the
/// password every account shares.
fn demo_password(mut lines: impl Iterator<Item = String>) -> String {
    let first = lines.next().expect("no demo company printed");
    let password = first
        .strip_prefix(&format!(
            "Demo company \"{}\" seeded. Every account's password: ",
            demo::COMPANY
        ))
        .unwrap_or_else(|| panic!("{first:?} is not the demo block"))
        .to_owned();
    let accounts: Vec<String> = lines.by_ref().take(4).collect();
    let emails = [demo::ADMIN.email, demo::MANAGER.email]
        .into_iter()
        .chain(demo::REPORTS.iter().map(|(p, _)| p.email));
    for (line, email) in accounts.iter().zip(emails) {
        assert!(line.contains(email), "{line:?} should name {email}");
    }
    let office = lines.next().expect("no office printed");
    assert!(
        office.contains(demo::DOOR_TAG),
        "{office:?} should name the tag"
    );
    password
}

/// The demo company as its admin sees it: four people, the two employees reporting to
/// the manager, two teams, a task in each status, the office's tag and a week of
/// check-ins; and each person can log in.
async fn demo_company_is_there(base: &str, password: &str) {
    let client = reqwest::Client::new();
    let login = |email: &'static str| log_in(&client, base, email, password);
    let admin = login(demo::ADMIN.email).await;
    for (person, _) in demo::REPORTS {
        login(person.email).await;
    }
    login(demo::MANAGER.email).await;
    let get = |path: &str| {
        let request = client.get(format!("{base}{path}")).bearer_auth(&admin);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let tasks = get("/api/v1/tasks").await;
    let mut statuses: Vec<&str> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["cancelled", "done", "in_progress", "todo"]);
    let people = get("/api/v1/people/employees").await;
    let people = people["items"].as_array().unwrap();
    assert_eq!(people.len(), 4, "{people:?}");
    let id_of = |email: &str| people.iter().find(|p| p["email"] == email).unwrap()["id"].clone();
    for (person, _) in demo::REPORTS {
        let report = people.iter().find(|p| p["email"] == person.email).unwrap();
        assert_eq!(report["manager_id"], id_of(demo::MANAGER.email));
        assert_eq!(report["team_ids"].as_array().unwrap().len(), 1);
    }
    let teams = get("/api/v1/org/teams").await;
    assert_eq!(teams["items"].as_array().unwrap().len(), 2, "{teams:?}");
    // The office's tag, and a working week of check-ins: Sam's last day still open.
    let tags = get("/api/v1/presence/nfc-tags").await;
    assert_eq!(tags["items"][0]["label"], "Front door", "{tags:?}");
    let checkins = get("/api/v1/presence/checkins?limit=200").await;
    assert_eq!(
        checkins["items"].as_array().unwrap().len(),
        39,
        "{checkins:?}"
    );
    let last = checkins["items"][38]["shift_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let day = get(&format!("/api/v1/presence/attendance?date={last}")).await;
    let days = day["employees"].as_array().unwrap();
    assert_eq!(days.len(), 4, "{day:?}");
    let sam = id_of(demo::REPORTS[1].0.email);
    // Leave: two types, opening balances, Alex's request pending, Sam's approved.
    let types = get("/api/v1/leave/types").await;
    assert_eq!(types.as_array().unwrap().len(), 2, "{types:?}");
    let requests = get("/api/v1/leave/requests").await;
    let mut statuses: Vec<&str> = requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["approved", "pending"], "{requests:?}");
    let balances = get(&format!(
        "/api/v1/leave/balances?employee_id={}",
        sam.as_str().unwrap()
    ))
    .await;
    let annual = balances
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "Annual leave")
        .unwrap();
    assert_eq!(annual["taken"], 2.0, "{balances:?}");
    for person in days {
        let forgotten = person["employee_id"] == sam;
        assert_eq!(person["missing_checkout"], forgotten, "{person:?}");
        assert_eq!(
            person["worked_minutes"].as_i64().unwrap() > 0,
            !forgotten,
            "{person:?}"
        );
    }
}

async fn up_is_ready_refuses_without_a_token_and_stops_on_ctrl_c(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let start = || {
        let mut command = roster();
        // Longer than `exit` waits: the drain must not wait for its grace.
        command
            .args(["up", "--port", "0"])
            .env("ROSTER_SERVER__SHUTDOWN_GRACE_SECS", "60");
        installation_env(&mut command, installation.config());
        Server::start(&mut command)
    };
    let mut server = start();
    let get = |path: &str| {
        let url = server.url(path);
        async move { reqwest::get(url).await.unwrap().status() }
    };
    assert_eq!(get("/health/ready").await, StatusCode::OK);
    assert_eq!(get("/api/v1/org/company").await, StatusCode::UNAUTHORIZED);
    // A new installation gets the demo company.
    let password = demo_password(server.lines.by_ref().map(Result::unwrap));
    demo_company_is_there(&server.url(""), &password).await;
    // A notification stream is open: it ends with the server rather than holding
    // the drain up.
    let login = reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"email": demo::ADMIN.email, "password": password}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let mut stream = reqwest::Client::new()
        .get(server.url("/api/v1/notifications/stream"))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.chunk().await.unwrap().is_some());

    // Ctrl-C: the server drains and exits 0.
    let stop = |server: &Server| {
        let status = Command::new("kill")
            .args(["-INT", &server.pid()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    stop(&server);
    assert_eq!(server.exit().await.code(), Some(0));
    let rest: Vec<String> = server.lines.by_ref().map(Result::unwrap).collect();
    assert_eq!(rest, ["Roster stopped."]);
    while let Ok(Some(_)) = stream.chunk().await {}

    // Started again, it has a company already: nothing is seeded.
    let mut server = start();
    stop(&server);
    assert_eq!(server.exit().await.code(), Some(0));
    let rest: Vec<String> = server.lines.by_ref().map(Result::unwrap).collect();
    assert_eq!(rest, ["Roster stopped."]);
}

async fn seed_makes_the_demo_company_once(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let seed = || roster_on(installation.config(), &["seed"]);
    let (code, stdout, stderr) = seed();
    assert_eq!(code, 0, "{stderr}");
    let password = demo_password(stdout.lines().map(str::to_owned));
    let (code, stdout, stderr) = seed();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("exists already"), "{stdout}");

    let mut command = roster();
    command.args(["up", "--port", "0"]);
    installation_env(&mut command, installation.config());
    let server = Server::start(&mut command);
    demo_company_is_there(&server.url(""), &password).await;
}

/// Waits until leave's accrual job has logged a run that finished.
async fn accrual_ran(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !crate::leave::runs(app)
        .await
        .iter()
        .any(|(outcome, _)| outcome != "running")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the accrual job never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn doctor_says_how_the_installation_stands(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    crate::accounts::sign_up(&app, "Acme", "ada@acme.test").await;
    accrual_ran(&app).await;
    // Every event published.
    for service in roster::SERVICES.iter().filter(|s| s.publishes) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while roster_bus::outbox::backlog(app.db(service.name))
            .await
            .unwrap()
            > 0
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{} never published",
                service.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let doctor = || roster_on(app.config(), &["doctor"]);
    let (code, stdout, stderr) = doctor();
    assert_eq!(code, 0, "{stdout}{stderr}");
    for line in [
        "ok    org            its database answers",
        "ok    people         every event it recorded is published",
        "ok    tasks          no event in dead letters",
        "ok    notifications  every email and webhook delivery is on time",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ok    leave          the accrual run of")
                && l.ends_with("employees")),
        "{stdout}"
    );
    // Each service's tables, with their rows (and sizes where the backend tells).
    let tables = stdout
        .lines()
        .find(|l| l.starts_with("ok    people         its tables hold"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(tables.contains("employees "), "{tables}");
    assert!(tables.contains("sagas "), "{tables}");
    assert!(stdout.ends_with("nothing failed, 0 warnings\n"), "{stdout}");

    // An accrual run fails: the doctor says so, with the error, and exits 1.
    let failed = roster_leave::store::entities::accrual_run::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        started_at: Set(time::OffsetDateTime::now_utc() + time::Duration::seconds(1)),
        finished_at: Set(Some(time::OffsetDateTime::now_utc())),
        outcome: Set("failed".to_owned()),
        credited: Set(0),
        employees: Set(0),
        error: Set(Some("database: connection reset".to_owned())),
    };
    let leave = app.db("leave");
    let txn = leave.begin_write(Scope::AllCompanies).await.unwrap();
    failed.insert(&txn).await.unwrap();
    txn.commit().await.unwrap();
    let (code, stdout, stderr) = doctor();
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("FAIL  leave          the accrual run of")
                && l.contains("failed: database: connection reset; the next run catches up")),
        "{stdout}"
    );
    assert_eq!(
        stderr.trim_end(),
        "roster: doctor: 1 checks failed, 0 warnings"
    );
    let (code, stdout, _) = roster_on(app.config(), &["doctor", "--service", "org"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("leave"), "{stdout}");
}

topology_tests!(
    doctor_says_how_the_installation_stands,
    migrate_commands_report_and_exit_0,
    up_is_ready_refuses_without_a_token_and_stops_on_ctrl_c,
    seed_makes_the_demo_company_once,
);
