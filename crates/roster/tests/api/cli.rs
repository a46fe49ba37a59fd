//! The `roster` binary: its exit codes, its messages, and `roster up` from start to
//! Ctrl-C on every topology.

use std::process::Command;

use roster_testing::{Installation, StatusCode, Topology, topology_tests};

use crate::process::{Server, roster, run, storage_env};

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
    let migrate = |args: &[&str]| {
        let mut command = roster();
        command.arg("migrate").args(args);
        storage_env(&mut command, config);
        run(&mut command)
    };
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

async fn up_is_ready_refuses_without_a_token_and_stops_on_ctrl_c(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let mut command = roster();
    command.args(["up", "--port", "0"]);
    storage_env(&mut command, installation.config());
    let mut server = Server::start(&mut command);

    let get = |path: &str| {
        let url = server.url(path);
        async move { reqwest::get(url).await.unwrap().status() }
    };
    assert_eq!(get("/health/ready").await, StatusCode::OK);
    assert_eq!(get("/api/v1/org/company").await, StatusCode::UNAUTHORIZED);

    // Ctrl-C: the server drains and exits 0.
    assert!(
        Command::new("kill")
            .args(["-INT", &server.pid()])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(server.exit().await.code(), Some(0));
    let last = server.lines.by_ref().map(Result::unwrap).last();
    assert_eq!(last.as_deref(), Some("Roster stopped."));
}

topology_tests!(
    migrate_commands_report_and_exit_0,
    up_is_ready_refuses_without_a_token_and_stops_on_ctrl_c,
);
