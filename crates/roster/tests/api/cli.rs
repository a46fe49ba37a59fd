//! The `roster` binary: its exit codes, its messages, and `roster up` from start to
//! Ctrl-C on every topology.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use roster_config::Config;
use roster_testing::{Installation, StatusCode, Topology, topology_tests};

fn roster() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    // Only what a test sets: no configuration leaks in from the environment.
    for (key, _) in std::env::vars() {
        if key.starts_with("ROSTER_") {
            command.env_remove(key);
        }
    }
    command.env("ROSTER_LOG__LEVEL", "warn");
    command
}

/// The environment that points the binary at an installation's storage.
/// The installation's storage and secrets, as the environment a process reads.
fn storage_env(command: &mut Command, config: &Config) {
    use secrecy::ExposeSecret as _;
    for (var, secret) in [
        ("ROSTER_SECURITY__DATA_KEY", &config.security.data_key),
        (
            "ROSTER_SECURITY__SERVICE_TOKEN",
            &config.security.service_token,
        ),
    ] {
        if let Some(secret) = secret {
            command.env(var, secret.expose_secret());
        }
    }
    command.env(
        "ROSTER_AUTH__ARGON2__MEMORY_KIB",
        config.auth.argon2.memory_kib.to_string(),
    );
    command.env(
        "ROSTER_AUTH__ARGON2__ITERATIONS",
        config.auth.argon2.iterations.to_string(),
    );
    let storage = &config.storage;
    command.env("ROSTER_STORAGE__MODE", storage.mode.as_str());
    command.env("ROSTER_STORAGE__DIR", &storage.dir);
    command.env("ROSTER_STORAGE__PREFIX", storage.prefix.as_str());
    if let Some(url) = &storage.url {
        command.env("ROSTER_STORAGE__URL", url.expose().as_str());
    }
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("cannot run roster");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

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

/// Kills the child on drop, so a failing test leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn up_is_ready_refuses_without_a_token_and_stops_on_ctrl_c(topology: Topology) {
    let Some(installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let mut command = roster();
    command.args(["up", "--port", "0"]);
    storage_env(&mut command, installation.config());
    let mut child = Running(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start roster up"),
    );
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let banner = lines.next().expect("roster up printed nothing").unwrap();
    let address = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_owned();

    let get = |path: &str| {
        let url = format!("http://{address}{path}");
        async move { reqwest::get(url).await.unwrap().status() }
    };
    assert_eq!(get("/health/ready").await, StatusCode::OK);
    assert_eq!(get("/api/v1/org/company").await, StatusCode::UNAUTHORIZED);

    // Ctrl-C: the server drains and exits 0.
    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = child.0.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.expect("roster up did not stop on SIGINT");
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        lines.next().map(Result::unwrap).as_deref(),
        Some("Roster stopped.")
    );
}

topology_tests!(
    migrate_commands_report_and_exit_0,
    up_is_ready_refuses_without_a_token_and_stops_on_ctrl_c,
);
