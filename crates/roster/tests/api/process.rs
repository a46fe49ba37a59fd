//! The `roster` binary as a child process: started with an installation's settings,
//! read for its banner, stopped or killed.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

use roster_config::Config;

/// The binary, with no `ROSTER_` variable from the environment: only what a test sets.
pub fn roster() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ROSTER_") {
            command.env_remove(key);
        }
    }
    command.env("ROSTER_LOG__LEVEL", "warn");
    command
}

/// The installation's storage, bus and secrets, as the environment a process reads.
pub fn installation_env(command: &mut Command, config: &Config) {
    command.envs(config.shared_environment());
}

/// Runs `roster <args>` on the installation `config` describes, to its end: its exit
/// code, stdout and stderr.
pub fn roster_on(config: &Config, args: &[&str]) -> (i32, String, String) {
    let mut command = roster();
    command.args(args);
    installation_env(&mut command, config);
    run(&mut command)
}

/// The nats-server binary for tests that run one of their own:
/// `ROSTER_TEST_NATS_SERVER`, or `None` (and a skip notice) when it is not set. Panics
/// when the environment requires NATS and names none.
pub fn nats_server() -> Option<std::path::PathBuf> {
    match std::env::var("ROSTER_TEST_NATS_SERVER") {
        Ok(path) => Some(path.into()),
        Err(_) => {
            let required = std::env::var("ROSTER_TEST_REQUIRE")
                .is_ok_and(|v| v.split(',').any(|b| b.trim() == "nats"));
            assert!(
                !required,
                "ROSTER_TEST_REQUIRE requires nats but ROSTER_TEST_NATS_SERVER is not set"
            );
            eprintln!("skipped: ROSTER_TEST_NATS_SERVER is not set");
            None
        }
    }
}

/// Runs a command to its end: its exit code, stdout and stderr.
pub fn run(command: &mut Command) -> (i32, String, String) {
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

/// Starts the command with its stdout piped to the test.
fn spawn(command: &mut Command) -> (Child, ChildStdout) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start roster");
    let stdout = child.stdout.take().expect("piped stdout");
    (child, stdout)
}

/// A running `roster up`, `serve` or `gateway`; killed on drop, so a failing test leaves
/// no server behind.
pub struct Server {
    child: Child,
    /// `host:port` from the banner.
    pub address: String,
    /// What it prints after the banner.
    pub lines: Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Starts the command and waits for its banner (printed once it serves).
    pub fn start(command: &mut Command) -> Self {
        let (child, stdout) = spawn(command);
        let mut lines = BufReader::new(stdout).lines();
        let banner = lines
            .next()
            .expect("roster printed nothing")
            .expect("roster's output is not text");
        let address = banner
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {banner:?}"))
            .to_owned();
        Self {
            child,
            address,
            lines,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// Waits up to ten seconds for the process to end.
    pub async fn exit(&mut self) -> ExitStatus {
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("roster did not stop");
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Ends the process at once, as SIGKILL does.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A command that runs until stopped and prints as it goes (`roster events tail`),
/// read line by line with a deadline; killed on drop.
pub struct Follower {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Follower {
    pub fn start(command: &mut Command) -> Self {
        let (child, stdout) = spawn(command);
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line printed, failing the test if none comes within `wait`. Waits
    /// without blocking the runtime, which may be serving the installation followed.
    pub async fn next_line(&self, wait: Duration) -> String {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match self.lines.try_recv() {
                Ok(line) => return line,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    panic!("the process ended its output")
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no line within {wait:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free at the time of asking, for processes that must know each other's
/// address before they start, or start again on the same one.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
