#![doc = include_str!("../README.md")]

mod install;

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::header::HeaderMap;
use roster_config::Config;
use roster_http::ServiceToken;
use roster_service::{Host, ServiceDb, ServiceDef, serve_router};
use roster_tokens::{Claims, Role, SigningKey, Verifier};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use install::{Installation, Topology, nats_url, pg_location, postgres_url};
pub use reqwest::{Method, StatusCode};

/// Connections in each service's pool of a test installation: two tests side by side,
/// seven services each, stay well within PostgreSQL's default 100 connections.
pub const POOL: u32 = 4;

/// One test per topology for each listed `async fn name(topology: Topology)`, in modules
/// `sqlite`, `pg_per_service` and `pg_schemas`.
///
/// Each runs on a multi-threaded runtime, as `roster up` does: the services a test
/// starts keep running on the workers while the test itself waits on a child process
/// (`roster replicas check`, say). On the test's own thread they would stop where they
/// stood, and one stopped inside a SQLite write transaction would hold the file's write
/// lock until the child gave up waiting for it.
#[macro_export]
macro_rules! topology_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Topology::Sqlite).await
            })*
        }
        $crate::postgres_topology_tests!($($name),*);
    };
}

/// Like [`topology_tests!`], for tests that concern PostgreSQL alone: modules
/// `pg_per_service` and `pg_schemas`.
#[macro_export]
macro_rules! postgres_topology_tests {
    ($($name:ident),* $(,)?) => {
        mod pg_per_service {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Topology::PgPerService).await
            })*
        }
        mod pg_schemas {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::Topology::PgSchemas).await
            })*
        }
    };
}

/// A server task and the switch that stops it.
struct Server {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("cannot bind a test listener");
    let address = listener
        .local_addr()
        .expect("a bound listener has an address");
    (listener, address)
}

/// Starts a host for `services`, as `roster up` or `roster serve` does.
async fn start_host(
    config: &Config,
    services: &[ServiceDef],
    verifier: Verifier,
    (listener, address): (TcpListener, SocketAddr),
) -> (Vec<ServiceDb>, SocketAddr, Server) {
    let token = config
        .security
        .service_token
        .clone()
        .expect("test installations have a service token");
    let host = Host::start(config, services, verifier, ServiceToken::new(token))
        .await
        .expect("the test host did not start");
    let databases = host.databases().cloned().collect();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        host.serve(listener, shutdown)
            .await
            .expect("the test host failed");
    });
    let server = Server {
        stop: Some(stop),
        task,
    };
    (databases, address, server)
}

/// Starts a gateway in front of the services the configuration gives URLs for.
async fn start_gateway(config: &Config, services: &[ServiceDef]) -> (SocketAddr, Server) {
    let names: Vec<&str> = services.iter().map(|s| s.name).collect();
    let router = roster_gateway::router(config, &names).expect("the gateway did not start");
    let (listener, address) = bind().await;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        serve_router(listener, router, shutdown, Duration::from_secs(5))
            .await
            .expect("the test gateway failed");
    });
    let server = Server {
        stop: Some(stop),
        task,
    };
    (address, server)
}

/// A running Roster and an HTTP client for it.
pub struct TestApp {
    address: SocketAddr,
    client: reqwest::Client,
    key: SigningKey,
    databases: Vec<ServiceDb>,
    // Fields drop in order: servers stop before the installation is removed.
    servers: Vec<Server>,
    installation: Installation,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("address", &self.address)
            .field("installation", &self.installation)
            .finish_non_exhaustive()
    }
}

/// An answer: status, headers, and the body as JSON (`Value::String` when it is not
/// JSON, `Value::Null` when empty).
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `field` of every error of a problem body.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn trusting_verifier(key: &SigningKey) -> Verifier {
    let verifier = Verifier::with_cache(1_000);
    verifier
        .trust(key.public_jwk())
        .expect("a generated key can be trusted");
    verifier
}

impl TestApp {
    /// Roster with `services` on one listener (as `roster up`), on a fresh installation
    /// of `topology`. `None` when the topology is not configured: the test is skipped.
    pub async fn spawn(topology: Topology, services: &[ServiceDef]) -> Option<Self> {
        let installation = Installation::create(topology, services).await?;
        Some(Self::spawn_on(installation, services).await)
    }

    /// Roster with `services` on one listener, on an installation the test prepared
    /// (to change its configuration, say).
    pub async fn spawn_on(installation: Installation, services: &[ServiceDef]) -> Self {
        let key = SigningKey::generate().expect("cannot generate a signing key");
        let (databases, address, server) = start_host(
            installation.config(),
            services,
            trusting_verifier(&key),
            bind().await,
        )
        .await;
        Self::new(address, key, databases, vec![server], installation)
    }

    /// Each service on its own listener (as `roster serve <service>`), behind a gateway
    /// (as `roster gateway`); requests go to the gateway.
    pub async fn spawn_apart(topology: Topology, services: &[ServiceDef]) -> Option<Self> {
        let mut installation = Installation::create(topology, services).await?;
        let key = SigningKey::generate().expect("cannot generate a signing key");
        let mut databases = Vec::new();
        let mut servers = Vec::new();
        // Every address is known before any service starts: they call each other.
        let mut listeners = Vec::new();
        for service in services {
            let (listener, address) = bind().await;
            let url = url::Url::parse(&format!("http://{address}"))
                .expect("a socket address makes a URL");
            installation.config_mut().set_service_url(service.name, url);
            listeners.push((listener, address));
        }
        for (service, listener) in services.iter().zip(listeners) {
            let (dbs, _, server) = start_host(
                installation.config(),
                std::slice::from_ref(service),
                trusting_verifier(&key),
                listener,
            )
            .await;
            databases.extend(dbs);
            servers.push(server);
        }
        let (address, gateway) = start_gateway(installation.config(), services).await;
        servers.push(gateway);
        Some(Self::new(address, key, databases, servers, installation))
    }

    fn new(
        address: SocketAddr,
        key: SigningKey,
        databases: Vec<ServiceDb>,
        servers: Vec<Server>,
        installation: Installation,
    ) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("cannot build an HTTP client");
        Self {
            address,
            client,
            key,
            databases,
            servers,
            installation,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The configuration the app runs with.
    pub fn config(&self) -> &Config {
        self.installation.config()
    }

    /// The topology this app runs on.
    pub fn topology(&self) -> Topology {
        self.installation.topology()
    }

    /// A service's database, for arranging data the API cannot create yet.
    pub fn db(&self, service: &str) -> &ServiceDb {
        self.databases
            .iter()
            .find(|db| db.service() == service)
            .unwrap_or_else(|| panic!("the app does not run {service}"))
    }

    /// An access token for an employee of `company_id` with `roles`, valid 15 minutes.
    pub fn token(&self, company_id: Uuid, roles: &[Role]) -> String {
        self.token_with(claims(company_id, roles, time::Duration::minutes(15)))
    }

    /// An access token with exactly these claims.
    pub fn token_with(&self, claims: Claims) -> String {
        self.key.sign(&claims).expect("cannot sign a token")
    }

    /// Sends a request; `token` as a bearer token, `body` as JSON.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::read(request.send().await.expect("the request failed")).await
    }

    /// Sends a raw body with a content type, for malformed-input tests.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: &'static str,
    ) -> TestResponse {
        let request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        Self::read(request.send().await.expect("the request failed")).await
    }

    /// The answer with its body, except a stream of server-sent events, which never
    /// ends: its body is left unread (null).
    async fn read(response: reqwest::Response) -> TestResponse {
        let status = response.status();
        let headers = response.headers().clone();
        let streams = headers
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        let text = match streams {
            true => String::new(),
            false => response.text().await.expect("cannot read the body"),
        };
        let body = match text.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// Stops the servers, waiting for them to drain.
    pub async fn stop(&mut self) {
        for mut server in self.servers.drain(..) {
            if let Some(stop) = server.stop.take() {
                let _ = stop.send(());
            }
            let _ = (&mut server.task).await;
        }
    }
}

/// A company administrator.
pub const ADMIN: &[Role] = &[Role::Admin];
/// A plain employee.
pub const EMPLOYEE: &[Role] = &[Role::Employee];

/// The claims of a new employee's session in `company_id` with `roles`, living `ttl`
/// (negative: already expired).
pub fn claims(company_id: Uuid, roles: &[Role], ttl: time::Duration) -> Claims {
    Claims::new(
        Uuid::now_v7(),
        company_id,
        roles.to_vec(),
        Uuid::now_v7(),
        ttl,
    )
}
