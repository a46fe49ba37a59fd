//! Crashes under load: people's writes keep coming while the processes of the
//! producer and of the consumers are killed with SIGKILL at random moments and
//! started again. In the end every replica equals people, and every event people
//! recorded is in every consumer's inbox exactly once (an event applied twice would
//! need a second inbox row; one lost, a missing row).
//!
//! On SQLite the embedded bus needs producer and consumers in one process, so that
//! one process dies; on PostgreSQL over NATS, `roster serve org auth people` and
//! `roster serve presence tasks leave notifications` die apart.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use roster::{SERVICES, replicas};
use roster_config::{BusKind, Config};
use roster_replica::compare;
use roster_service::ServiceDb;
use roster_storage::Scope;
use roster_testing::{Installation, StatusCode, Topology, topology_tests};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::accounts::PASSWORD;
use crate::faults::{admin_token, post};
use crate::process::{Server, free_port, installation_env, nats_server, roster};

/// Employees whose changes make the load.
const EMPLOYEES: usize = 6;
/// Kills before the load stops.
const KILLS: usize = 8;

/// The processes of one installation, restartable on the same ports.
struct Cluster {
    config: Config,
    /// Each process: its services and port, and the running server.
    processes: Vec<(Vec<&'static str>, u16, Option<Server>)>,
}

impl Cluster {
    fn new(config: &Config) -> Self {
        let groups: Vec<Vec<&'static str>> = match config.bus.kind {
            BusKind::Embedded => vec![SERVICES.iter().map(|s| s.name).collect()],
            BusKind::Nats => vec![
                vec!["org", "auth", "people"],
                vec!["presence", "tasks", "leave", "notifications"],
            ],
        };
        let mut cluster = Self {
            config: config.clone(),
            processes: groups
                .into_iter()
                .map(|services| (services, free_port(), None))
                .collect(),
        };
        for n in 0..cluster.processes.len() {
            cluster.start(n);
        }
        cluster
    }

    fn start(&mut self, n: usize) {
        let auth_port = self.processes[0].1;
        let (services, port, server) = &mut self.processes[n];
        let mut command: Command = roster();
        command
            .arg("serve")
            .args(services.iter())
            .args(["--port", &port.to_string()])
            // Deliveries the killed consumer never acknowledged come back soon.
            .env("ROSTER_BUS__ACK_WAIT_SECS", "2")
            .env(
                "ROSTER_SERVICES__AUTH__URL",
                format!("http://127.0.0.1:{auth_port}"),
            );
        installation_env(&mut command, &self.config);
        *server = Some(Server::start(&mut command));
    }

    /// The process that serves people's routes.
    fn front(&self) -> String {
        format!("http://127.0.0.1:{}", self.processes[0].1)
    }

    fn kill(&mut self, n: usize) {
        if let Some(mut server) = self.processes[n].2.take() {
            server.kill();
        }
    }
}

/// A number from the system's randomness, below `below`.
fn random(below: usize) -> usize {
    (Uuid::new_v4().as_u128() % below as u128) as usize
}

pub async fn open(config: &Config, service: &'static str) -> ServiceDb {
    roster_storage::open(service, config.storage_for(service))
        .await
        .unwrap()
}

/// The event ids in a table (people's outbox, a consumer's inbox).
async fn event_ids(db: &ServiceDb, sql: &str) -> Vec<Uuid> {
    let txn = db.read(Scope::AllCompanies).await.unwrap();
    txn.query_all_raw(Statement::from_string(txn.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect()
}

async fn killed_at_random_nothing_lost_nothing_twice(topology: Topology) {
    let Some(installation) = Installation::create(topology, SERVICES).await else {
        return;
    };
    let config = installation.config();
    let mut cluster = Cluster::new(config);
    let (front, admin, ids) = company(&cluster).await;
    let load = Load::start(&front, &admin, &ids);
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(200 + random(600) as u64)).await;
        let victims: Vec<usize> = match cluster.processes.len() {
            1 => vec![0],
            // The producer, a consumer, or both at once.
            _ => match random(3) {
                0 => vec![0],
                1 => vec![1],
                _ => vec![0, 1],
            },
        };
        for n in &victims {
            cluster.kill(*n);
        }
        for n in victims {
            cluster.start(n);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    load.stop().await;
    settled(config).await;
    for n in 0..cluster.processes.len() {
        cluster.kill(n);
    }
}

/// A company with its admin's token and employees, made through the front process.
async fn company(cluster: &Cluster) -> (String, String, Vec<String>) {
    let client = reqwest::Client::new();
    let front = cluster.front();
    let admin = admin_token(&client, &front, "Acme", "ada@acme.test").await;
    let mut ids = Vec::new();
    for n in 0..EMPLOYEES {
        let (status, body) = post(
            &client,
            format!("{front}/api/v1/people/employees"),
            Some(&admin),
            &json!({"email": format!("p{n}@acme.test"), "name": format!("P{n}"),
                    "surname": "Doe", "role": "employee", "password": PASSWORD}),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    (front, admin, ids)
}

/// Changes to the employees, as fast as the front answers, until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    changed: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(front: &str, admin: &str, ids: &[String]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let changed = Arc::new(AtomicUsize::new(0));
        let (client, front, admin, ids) = (
            reqwest::Client::new(),
            front.to_owned(),
            admin.to_owned(),
            ids.to_vec(),
        );
        let task = {
            let (stop, changed) = (stop.clone(), changed.clone());
            tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let id = &ids[random(ids.len())];
                    let answer = client
                        .patch(format!("{front}/api/v1/people/employees/{id}"))
                        .bearer_auth(&admin)
                        .json(&json!({"position": format!("Shift {n}")}))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match answer {
                        Ok(answer) if answer.status() == StatusCode::OK => {
                            changed.fetch_add(1, Ordering::Relaxed);
                        }
                        // Down, or dying: the process is killed under it.
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        };
        Self {
            stop,
            changed,
            task,
        }
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        let changed = self.changed.load(Ordering::Relaxed);
        assert!(changed > 20, "the load hardly ran: {changed} changes");
    }
}

/// Waits until every replica equals people and every consumer's inbox holds every
/// event people recorded, once.
async fn settled(config: &Config) {
    let people = open(config, "people").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    for (service, replica) in replicas() {
        let db = open(config, service).await;
        loop {
            let sources = roster_people::store::employees::sources(&people)
                .await
                .unwrap();
            let want = sources
                .iter()
                .map(|(revision, e)| (e.id, replica.project(*revision, e)))
                .collect();
            let drift = compare(&want, &replica.rows(&db).await.unwrap());
            let recorded = event_ids(&people, "SELECT id FROM outbox").await;
            // What people published; a consumer of org's events has those too.
            let applied = event_ids(
                &db,
                "SELECT event_id FROM inbox WHERE \"type\" LIKE 'people.%'",
            )
            .await;
            let (recorded_set, applied_set): (BTreeSet<Uuid>, BTreeSet<Uuid>) = (
                recorded.iter().copied().collect(),
                applied.iter().copied().collect(),
            );
            assert_eq!(
                applied.len(),
                applied_set.len(),
                "{service}: an event twice"
            );
            if drift.is_empty() && recorded_set == applied_set {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{service} never caught up: {drift:?}; {} recorded, {} applied, {} applied but not recorded",
                recorded_set.len(),
                applied_set.len(),
                applied_set.difference(&recorded_set).count()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        db.close().await;
    }
    people.close().await;
}

topology_tests!(killed_at_random_nothing_lost_nothing_twice);

/// A NATS server of the test's own, stopped and started on one port and store.
struct Broker {
    bin: std::path::PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl Broker {
    fn new(bin: std::path::PathBuf) -> Self {
        Self {
            bin,
            port: free_port(),
            store: tempfile::tempdir().unwrap(),
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self) {
        let child = Command::new(&self.bin)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cannot start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn the_broker_stops_mid_load_and_comes_back(topology: Topology) {
    let Some(bin) = nats_server() else {
        return;
    };
    // Declared first, dropped last: the installation removes its streams from it.
    let mut broker = Broker::new(bin);
    let Some(mut installation) = Installation::create(topology, SERVICES).await else {
        return;
    };
    broker.start().await;
    let config = installation.config_mut();
    config.bus.kind = BusKind::Nats;
    config.bus.url = Some(roster_config::NatsUrl::parse(&broker.url()).unwrap());
    config.bus.prefix = config.storage.prefix.as_str().to_owned();
    let config = installation.config().clone();
    let mut cluster = Cluster::new(&config);
    let (front, admin, ids) = company(&cluster).await;
    let load = Load::start(&front, &admin, &ids);
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.start().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    load.stop().await;
    settled(&config).await;
    for (services, _, server) in &mut cluster.processes {
        let server = server.as_mut().unwrap();
        assert!(server.running(), "{services:?} had to be restarted");
    }
}

/// Over NATS only: the embedded bus has no broker to lose.
mod broker {
    use super::*;

    roster_testing::postgres_topology_tests!(the_broker_stops_mid_load_and_comes_back);
}
