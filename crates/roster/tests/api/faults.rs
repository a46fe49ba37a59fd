//! Invariant: creating an employee (and signing up) leaves both records or neither, after
//! any failure of a step and after a kill at any point, and the answer says which.
//!
//! Each case runs `roster` with `ROSTER_FAULTS` (the test build's failpoints): `error`
//! fails the call that follows the point as if its service did not answer, `abort` kills
//! the process there, `stall` makes it slower than its lease. A killed process is started again without faults and its resumer
//! carries the saga to its end. A last case stops the auth process for real.

use std::process::Command;
use std::time::Duration;

use roster_config::Config;
use roster_storage::{Scope, ServiceDb};
use roster_testing::{Installation, StatusCode, Topology, topology_tests};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::accounts::PASSWORD;
use crate::process::{Server, free_port, installation_env, roster};

/// What exists for an email once nothing is left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Records {
    Both,
    Neither,
}

/// The services' databases, read by the test beside the processes that write them.
pub struct Stores {
    org: ServiceDb,
    auth: ServiceDb,
    people: ServiceDb,
}

impl Stores {
    async fn open(config: &Config) -> Self {
        let open = |service| async move {
            roster_storage::open(service, config.storage_for(service))
                .await
                .unwrap()
        };
        Self {
            org: open("org").await,
            auth: open("auth").await,
            people: open("people").await,
        }
    }

    /// Counts rows across companies.
    pub async fn count(db: &ServiceDb, sql: String) -> i64 {
        let txn = db.read(Scope::AllCompanies).await.unwrap();
        let row = txn
            .query_one_raw(Statement::from_string(txn.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    /// (accounts, employees, unfinished sagas) for an email. The sagas are counted
    /// first: when none is left, nothing changes the records read after.
    async fn state(&self, email: &str) -> (i64, i64, i64) {
        let unfinished = Self::count(
            &self.people,
            "SELECT count(*) FROM sagas WHERE state NOT IN ('done', 'failed')".to_owned(),
        )
        .await;
        let accounts = Self::count(
            &self.auth,
            format!("SELECT count(*) FROM accounts WHERE email = '{email}'"),
        )
        .await;
        let employees = Self::count(
            &self.people,
            format!("SELECT count(*) FROM employees WHERE email = '{email}'"),
        )
        .await;
        (accounts, employees, unfinished)
    }

    /// Waits until no saga is left unfinished, then checks what exists for the email.
    async fn settles_to(&self, email: &str, expected: Records) {
        let mut last = (0, 0, 0);
        for _ in 0..100 {
            last = self.state(email).await;
            if last.2 == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (accounts, employees, unfinished) = last;
        assert_eq!(unfinished, 0, "{email}: sagas still unfinished");
        let want = match expected {
            Records::Both => (1, 1),
            Records::Neither => (0, 0),
        };
        assert_eq!(
            (accounts, employees),
            want,
            "{email}: (accounts, employees)"
        );
    }
}

/// `roster up` on the installation, with short saga leases and the given faults.
fn up(config: &Config, faults: &str) -> Server {
    let mut command = roster();
    command.args(["up", "--port", "0", "--no-demo"]);
    installation_env(&mut command, config);
    saga_env(&mut command, faults);
    Server::start(&mut command)
}

fn saga_env(command: &mut Command, faults: &str) {
    command
        .env("ROSTER_PEOPLE__SAGA_LEASE_SECS", "3")
        .env("ROSTER_PEOPLE__SAGA_RETRY_SECS", "1")
        .env("ROSTER_FAULTS", faults);
}

pub(crate) async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Result<(StatusCode, Value)> {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await?;
    let status = answer.status();
    Ok((status, answer.json().await.unwrap_or(Value::Null)))
}

fn signup_body(company: &str, email: &str) -> Value {
    json!({"company_name": company, "admin_email": email, "admin_password": PASSWORD,
           "admin_name": "Ada", "admin_surname": "Admin"})
}

/// Hires an employee with this email through `server`.
async fn hire(
    client: &reqwest::Client,
    server: &Server,
    admin: &str,
    email: &str,
) -> reqwest::Result<(StatusCode, Value)> {
    let body = json!({"email": email, "name": "Pat", "surname": "Smith", "role": "employee",
                      "password": PASSWORD});
    post(
        client,
        server.url("/api/v1/people/employees"),
        Some(admin),
        &body,
    )
    .await
}

/// Signs a company up and logs its admin in: the admin's access token.
pub(crate) async fn admin_token(
    client: &reqwest::Client,
    base: &str,
    company: &str,
    email: &str,
) -> String {
    let (status, body) = post(
        client,
        format!("{base}/api/v1/auth/signup"),
        None,
        &signup_body(company, email),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(
        client,
        format!("{base}/api/v1/auth/login"),
        None,
        &json!({"email": email, "password": PASSWORD}),
    )
    .await
    .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A 503 problem whose detail says what remains.
fn assert_answer(status: StatusCode, body: &Value, says: &str) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(says), "{detail:?} should say {says:?}");
}

/// A step fails: the saga undoes what was done and the answer says nothing remains.
const FAILED_STEPS: [&str; 3] = [
    "people.saga.account",
    // The account was made, but auth's answer was lost.
    "people.saga.account_created",
    "people.saga.employee",
];

/// The process dies there; after a restart the saga ends as said.
const KILLS: [(&str, Records); 4] = [
    ("people.saga.account=abort", Records::Neither),
    ("people.saga.account_created=abort", Records::Both),
    ("people.saga.employee=abort", Records::Both),
    (
        "people.saga.employee=error,people.saga.compensate=abort",
        Records::Neither,
    ),
];

/// An installation where Acme signed up (through a `roster up` that has stopped since),
/// its stores, a client and the administrator's token.
async fn acme(topology: Topology) -> Option<(Installation, Stores, reqwest::Client, String)> {
    let installation = Installation::create(topology, roster::SERVICES).await?;
    let config = installation.config();
    let stores = Stores::open(config).await;
    let client = reqwest::Client::new();
    let server = up(config, "");
    let admin = admin_token(&client, &server.url(""), "Acme", "ada@acme.test").await;
    drop(server);
    Some((installation, stores, client, admin))
}

async fn every_failure_leaves_both_or_neither(topology: Topology) {
    let Some((installation, stores, client, admin)) = acme(topology).await else {
        return;
    };
    let config = installation.config();

    for (n, point) in FAILED_STEPS.iter().enumerate() {
        let email = format!("failed-{n}@acme.test");
        let server = up(config, &format!("{point}=error"));
        let (status, body) = hire(&client, &server, &admin, &email).await.unwrap();
        assert_answer(status, &body, "neither the account nor the employee exists");
        stores.settles_to(&email, Records::Neither).await;
    }

    // Undoing fails too: the answer says so, and the undoing ends after a restart.
    let email = "undoing@acme.test";
    let mut server = up(
        config,
        "people.saga.employee=error,people.saga.compensate=error",
    );
    let (status, body) = hire(&client, &server, &admin, email).await.unwrap();
    assert_answer(status, &body, "it is being rolled back");
    assert_eq!(
        stores.state(email).await,
        (1, 0, 1),
        "the account awaits undoing"
    );
    server.kill();
    let server = up(config, "");
    stores.settles_to(email, Records::Neither).await;
    // The email is free again.
    let (status, body) = hire(&client, &server, &admin, email).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    drop(server);

    // A runner slower than its lease: another takes the saga over and finishes it, and
    // the slow one, seeing it lost the saga, stops and says so.
    let email = "slow@acme.test";
    let server = up(config, "people.saga.account_created=stall:5000");
    let (status, body) = hire(&client, &server, &admin, email).await.unwrap();
    assert_answer(status, &body, "is being finished in the background");
    stores.settles_to(email, Records::Both).await;
    drop(server);

    for (n, (faults, expected)) in KILLS.iter().enumerate() {
        let email = format!("killed-{n}@acme.test");
        let mut server = up(config, faults);
        assert!(
            hire(&client, &server, &admin, &email).await.is_err(),
            "{faults}: the process should have died before answering"
        );
        assert!(!server.exit().await.success());
        let _restarted = up(config, "");
        stores.settles_to(&email, *expected).await;
    }

    // A signup: its first step makes the company, which is removed on the way back.
    let server = up(config, "people.saga.company=error");
    let (status, body) = post(
        &client,
        server.url("/api/v1/auth/signup"),
        None,
        &signup_body("Initech", "bill@initech.test"),
    )
    .await
    .unwrap();
    assert_answer(status, &body, "neither the account nor the employee exists");
    drop(server);
    let mut server = up(config, "people.saga.account=abort");
    assert!(
        post(
            &client,
            server.url("/api/v1/auth/signup"),
            None,
            &signup_body("Initech", "bill@initech.test"),
        )
        .await
        .is_err()
    );
    server.exit().await;
    let _restarted = up(config, "");
    stores
        .settles_to("bill@initech.test", Records::Neither)
        .await;
    let companies = Stores::count(
        &stores.org,
        "SELECT count(*) FROM companies WHERE name = 'Initech'".to_owned(),
    )
    .await;
    assert_eq!(companies, 0, "the signup's company was removed");
}

/// `roster serve` for the services, each told where the others listen.
pub(crate) fn serve(config: &Config, services: &[&str], port: u16, urls: &[(&str, u16)]) -> Server {
    let mut command = roster();
    command
        .arg("serve")
        .args(services)
        .args(["--port", &port.to_string()]);
    installation_env(&mut command, config);
    saga_env(&mut command, "");
    for (service, port) in urls {
        command.env(
            format!("ROSTER_SERVICES__{}__URL", service.to_uppercase()),
            format!("http://127.0.0.1:{port}"),
        );
    }
    Server::start(&mut command)
}

async fn auth_stopping_rolls_back_and_recovers(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let config = installation.config();
    let stores = Stores::open(config).await;
    let client = reqwest::Client::new();
    let (auth_port, rest_port) = (free_port(), free_port());
    let auth = |port| {
        serve(
            config,
            &["auth"],
            port,
            &[("org", rest_port), ("people", rest_port)],
        )
    };
    let mut auth_server = auth(auth_port);
    // People's consumers run beside it: the embedded bus carries events within one
    // process.
    let rest = serve(
        config,
        &[
            "org",
            "people",
            "presence",
            "tasks",
            "leave",
            "notifications",
        ],
        rest_port,
        &[("auth", auth_port)],
    );
    let admin = admin_token(&client, &auth_server.url(""), "Acme", "ada@acme.test").await;

    auth_server.kill();
    let email = "pat@acme.test";
    let (status, body) = hire(&client, &rest, &admin, email).await.unwrap();
    // Auth is gone: the account step fails, and so does its undoing, for now.
    assert_answer(status, &body, "it is being rolled back");
    assert_eq!(stores.state(email).await, (0, 0, 1));

    let _auth_server = auth(auth_port);
    stores.settles_to(email, Records::Neither).await;
    let (status, body) = hire(&client, &rest, &admin, email).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    stores.settles_to(email, Records::Both).await;
}

/// Pat's email in auth and in people, once no saga is left unfinished.
async fn pat_emails(stores: &Stores, id: &str) -> (String, String) {
    for _ in 0..100 {
        let unfinished = Stores::count(
            &stores.people,
            "SELECT count(*) FROM sagas WHERE state NOT IN ('done', 'failed')".to_owned(),
        )
        .await;
        if unfinished == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let account = roster_auth::store::accounts::get(&stores.auth, id.parse().unwrap())
        .await
        .unwrap();
    let employee = Stores::count(
        &stores.people,
        format!(
            "SELECT count(*) FROM employees WHERE email = '{}'",
            account.email
        ),
    )
    .await;
    let people_email = match employee {
        1 => account.email.clone(),
        _ => "(another)".to_owned(),
    };
    (account.email, people_email)
}

/// A change of Pat's email, killed at each point of its saga and started again (or
/// failing at its last step): the account and the employee end alike, on the new email
/// once the account was asked to change (a change resumed carries on), on the old one
/// when the last step failed (the account is put back).
async fn a_change_killed_midway_ends_alike(topology: Topology) {
    let Some((installation, stores, client, admin)) = acme(topology).await else {
        return;
    };
    let config = installation.config();
    let server = up(config, "");
    let (status, body) = hire(&client, &server, &admin, "pat@acme.test")
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pat = body["id"].as_str().unwrap().to_owned();
    drop(server);
    let change = |server: &Server, email: &str| {
        client
            .patch(server.url(&format!("/api/v1/people/employees/{pat}")))
            .bearer_auth(&admin)
            .json(&json!({"email": email}))
            .send()
    };
    for (n, point) in [
        "people.saga.account",
        "people.saga.account_created",
        "people.saga.employee",
    ]
    .iter()
    .enumerate()
    {
        let email = format!("pat-{n}@acme.test");
        let mut server = up(config, &format!("{point}=abort"));
        assert!(
            change(&server, &email).await.is_err(),
            "{point}: should have died"
        );
        assert!(!server.exit().await.success());
        let _restarted = up(config, "");
        assert_eq!(
            pat_emails(&stores, &pat).await,
            (email.clone(), email),
            "{point}"
        );
    }
    let server = up(config, "people.saga.employee=error");
    let answer = change(&server, "pat-lost@acme.test").await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let before = "pat-2@acme.test".to_owned();
    assert_eq!(pat_emails(&stores, &pat).await, (before.clone(), before));
}

topology_tests!(
    every_failure_leaves_both_or_neither,
    auth_stopping_rolls_back_and_recovers,
    a_change_killed_midway_ends_alike,
);
