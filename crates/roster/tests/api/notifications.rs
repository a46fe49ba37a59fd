//! Notifications over HTTP on every topology, fed by events: in-app (a welcome on
//! onboarding, a task to its new assignee, and to its creator a task whose assignee
//! left; each person reads and marks only their own), as a stream of server-sent
//! events, by email (written as files) and by signed webhooks with retries and a log
//! of attempts, worded by the company's templates and sent by the channels each
//! person keeps on.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use roster_config::{EmailTransport, SmtpUrl};
use roster_testing::{Installation, Method, StatusCode, TestApp, Topology, topology_tests};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::accounts::{SignedUp, sign_up};
use crate::replicas::in_step;
use crate::tasks::{create_task, person};

/// Waits until the list at `path` holds `count` items, failing after 20 s.
async fn listed(app: &TestApp, token: &str, path: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = app.get(path, token).await;
        assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
        let items = list.body["items"].as_array().unwrap().clone();
        if items.len() >= count {
            assert_eq!(items.len(), count, "{items:?}");
            return items;
        }
        assert!(Instant::now() < deadline, "{path}: only {items:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `token`'s notifications hold `count`, failing after 20 s.
async fn notified(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    listed(app, token, "/api/v1/notifications", count).await
}

async fn events_become_notifications(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    let first = notified(&app, admin, 1).await;
    assert_eq!(first[0]["title"], "Welcome, Ada!");
    let (eve_id, eve) = person(
        &app,
        admin,
        json!({"email": "eve@acme.test", "name": "Eve", "role": "employee"}),
    )
    .await;
    let welcome = notified(&app, &eve, 1).await;
    assert_eq!(welcome[0]["kind"], "welcome");
    assert_eq!(welcome[0]["title"], "Welcome, Eve!");
    assert_eq!(welcome[0]["read"], false);
    in_step(&app).await;

    // A task assigned to Eve reaches her; one she gives herself does not.
    let task = app
        .post(
            "/api/v1/tasks",
            admin,
            &json!({"title": "Fix the door", "assignee_id": eve_id, "due_date": "2026-12-15"}),
        )
        .await;
    assert_eq!(task.status, StatusCode::CREATED, "{:?}", task.body);
    create_task(&app, &eve, json!({"title": "Mine", "assignee_id": eve_id})).await;
    let task_id = task.body["id"].as_str().unwrap();
    let items = notified(&app, &eve, 2).await;
    let assigned = &items[1];
    assert_eq!(assigned["kind"], "task.assigned");
    assert_eq!(assigned["title"], "New task: Fix the door");
    assert_eq!(
        assigned["body"],
        "You were assigned \"Fix the door\", due 2026-12-15."
    );
    assert_eq!(assigned["link"], format!("/api/v1/tasks/{task_id}"));

    // Read and unread, for Eve only.
    let count = app.get("/api/v1/notifications/unread-count", &eve).await;
    assert_eq!(count.body, json!({"unread": 2}));
    let path = format!(
        "/api/v1/notifications/{}/read",
        welcome[0]["id"].as_str().unwrap()
    );
    let by_admin = app.post(&path, admin, &json!({})).await;
    assert_eq!(by_admin.status, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let read = app.post(&path, &eve, &json!({})).await;
        assert_eq!(read.status, StatusCode::NO_CONTENT);
    }
    let unread = app.get("/api/v1/notifications?unread=true", &eve).await;
    let unread = unread.body["items"].as_array().unwrap();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0]["kind"], "task.assigned");
    let count = app.get("/api/v1/notifications/unread-count", &eve).await;
    assert_eq!(count.body, json!({"unread": 1}));
    let all = app.get("/api/v1/notifications", &eve).await;
    assert_eq!(all.body["items"][0]["read"], true);
    assert!(all.body["items"][0]["read_at"].is_string());

    // Eve leaves: the admin (welcomed at signup), who created her open task, learns it
    // has no assignee.
    let gone = app
        .delete(&format!("/api/v1/people/employees/{eve_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let items = notified(&app, admin, 2).await;
    assert_eq!(items[0]["title"], "Welcome, Ada!");
    assert_eq!(items[1]["kind"], "task.unassigned");
    assert_eq!(items[1]["title"], "Unassigned: Fix the door");
    assert_eq!(items[1]["link"], format!("/api/v1/tasks/{task_id}"));
}

/// What a test webhook receiver was sent.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    signature: String,
    delivery: String,
    kind: String,
    body: String,
}

/// A webhook receiver on this machine: `/flaky` fails its first post then takes the
/// rest, `/gone` answers 410 Gone, `/down` always 503, `/endless` takes the post and
/// answers with a body that never ends.
async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let path = uri.path().to_owned();
                let mut log = log.lock().unwrap();
                let earlier = log.iter().filter(|r| r.path == path).count();
                log.push(Received {
                    path: path.clone(),
                    signature: header("roster-signature"),
                    delivery: header("roster-delivery"),
                    kind: header("roster-kind"),
                    body,
                });
                let status = match path.as_str() {
                    "/flaky" if earlier == 0 => StatusCode::INTERNAL_SERVER_ERROR,
                    "/gone" => StatusCode::GONE,
                    "/down" => StatusCode::SERVICE_UNAVAILABLE,
                    "/endless" => StatusCode::OK,
                    _ => StatusCode::NO_CONTENT,
                };
                let body = match path.as_str() {
                    "/endless" => {
                        axum::body::Body::from_stream(futures::stream::repeat_with(|| {
                            Ok::<_, std::convert::Infallible>(vec![b'x'; 65_536])
                        }))
                    }
                    _ => axum::body::Body::empty(),
                };
                (status, body)
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

/// Checks `received`'s signature as a receiver would: HMAC-SHA256 of "<t>.<body>".
fn signed_with(received: &Received, secret: &str) -> bool {
    let Some((t, v1)) = received
        .signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

/// Waits until the company's deliveries matching `query` (such as
/// `channel=webhook&status=delivered`) number `count`, failing after 20 s.
async fn deliveries(app: &TestApp, admin: &str, query: &str, count: usize) -> Vec<Value> {
    let path = format!("/api/v1/notifications/deliveries?{query}&limit=200");
    listed(app, admin, &path, count).await
}

/// Acme (Ada, its admin) and Eve, an employee: her id and token.
async fn acme_with_eve(app: &TestApp) -> (SignedUp, String, String) {
    let acme = sign_up(app, "Acme", "ada@acme.test").await;
    let (eve_id, eve) = person(
        app,
        &acme.admin,
        json!({"email": "eve@acme.test", "name": "Eve", "role": "employee"}),
    )
    .await;
    (acme, eve_id, eve)
}

async fn register(app: &TestApp, admin: &str, url: String, kinds: Value) -> (String, String) {
    let hook = app
        .post(
            "/api/v1/notifications/webhooks",
            admin,
            &json!({"url": url, "kinds": kinds}),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{:?}", hook.body);
    let secret = hook.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (hook.body["id"].as_str().unwrap().to_owned(), secret)
}

async fn email_and_webhooks(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let (base, received) = receiver().await;
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();
    notified(&app, admin, 1).await;

    // Registering: admins only, a URL Roster can post to, kinds that exist.
    let bad = app
        .post(
            "/api/v1/notifications/webhooks",
            admin,
            &json!({"url": "ftp://x.test/h"}),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    assert_eq!(bad.error_fields(), ["url"]);
    let bad = app
        .post(
            "/api/v1/notifications/webhooks",
            admin,
            &json!({"url": format!("{base}/x"), "kinds": ["task.eaten"]}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["kinds"]);
    let (_, flaky_secret) = register(&app, admin, format!("{base}/flaky"), json!([])).await;
    register(&app, admin, format!("{base}/gone"), json!(["welcome"])).await;
    register(&app, admin, format!("{base}/down"), json!(["welcome"])).await;
    let listed = app.get("/api/v1/notifications/webhooks", admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 3);
    assert!(listed.body["items"][0].get("secret").is_none());

    // Eve joins: her welcome is emailed to her and posted to every webhook.
    let (eve_id, eve) = person(
        &app,
        admin,
        json!({"email": "eve@acme.test", "name": "Eve", "role": "employee"}),
    )
    .await;
    let email = deliveries(
        &app,
        admin,
        &format!("channel=email&status=delivered&employee_id={eve_id}"),
        1,
    )
    .await;
    assert_eq!(email[0]["target"], "eve@acme.test");
    assert_eq!(email[0]["subject"], "Welcome, Eve!");
    assert_eq!(email[0]["employee_id"], eve_id);
    let mail_dir = app.config().storage.dir.join("mail");
    // Ada's welcome, and Eve's.
    let files: Vec<String> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let eml = files
        .iter()
        .find(|f| f.contains("To: eve@acme.test"))
        .unwrap();
    assert!(eml.contains("To: eve@acme.test"), "{eml}");
    assert!(eml.contains("Subject: Welcome, Eve!"), "{eml}");
    assert!(eml.contains("Your Roster account is ready, Eve"), "{eml}");

    // The flaky webhook failed once, then took it: two attempts in its log, the same
    // delivery id and a valid signature on each.
    let posted = deliveries(&app, admin, "channel=webhook&status=delivered", 1).await;
    assert!(posted[0]["target"].as_str().unwrap().ends_with("/flaky"));
    assert_eq!(posted[0]["attempts"], 2);
    let log = app
        .get(
            &format!(
                "/api/v1/notifications/deliveries/{}",
                posted[0]["id"].as_str().unwrap()
            ),
            admin,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK);
    let outcomes: Vec<&str> = log.body["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["retry", "delivered"]);
    assert!(
        log.body["log"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 500")
    );
    let flaky: Vec<Received> = received
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path == "/flaky")
        .cloned()
        .collect();
    assert_eq!(flaky.len(), 2);
    assert_eq!(flaky[0].delivery, flaky[1].delivery);
    assert_eq!(flaky[0].delivery, posted[0]["id"].as_str().unwrap());
    assert_eq!(flaky[1].kind, "welcome");
    assert!(flaky.iter().all(|r| signed_with(r, &flaky_secret)));
    assert!(!signed_with(&flaky[1], "whsec_forged"));
    let payload: Value = serde_json::from_str(&flaky[1].body).unwrap();
    assert_eq!(payload["title"], "Welcome, Eve!");
    assert_eq!(payload["employee_id"], eve_id);

    // Gone bounces at once; down fails once its three tries are spent.
    let bounced = deliveries(&app, admin, "status=bounced", 1).await;
    assert!(bounced[0]["target"].as_str().unwrap().ends_with("/gone"));
    assert_eq!(bounced[0]["attempts"], 1);
    let failed = deliveries(&app, admin, "status=failed", 1).await;
    assert!(failed[0]["target"].as_str().unwrap().ends_with("/down"));
    assert_eq!(failed[0]["attempts"], 3);
    assert!(
        failed[0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 503")
    );
    let bad = app
        .get("/api/v1/notifications/deliveries?status=lost", admin)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Delivery is the administrators' business.
    let denied = app.get("/api/v1/notifications/deliveries", &eve).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let denied = app.get("/api/v1/notifications/webhooks", &eve).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

async fn preferences_and_templates(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let (base, received) = receiver().await;
    let (acme, eve_id, eve) = acme_with_eve(&app).await;
    let admin = acme.admin.as_str();
    deliveries(&app, admin, "channel=email&status=delivered", 2).await;
    in_step(&app).await;
    // A webhook for tasks: every assignment's delivery shows that notifications
    // handled it, whatever Eve's own channels.
    register(
        &app,
        admin,
        format!("{base}/tasks"),
        json!(["task.assigned"]),
    )
    .await;

    // Everything is on until Eve says otherwise.
    let prefs = app.get("/api/v1/notifications/preferences", &eve).await;
    assert_eq!(prefs.status, StatusCode::OK);
    assert_eq!(prefs.body["email_enabled"], true);
    assert_eq!(
        prefs.body["kinds"]["task.assigned"],
        json!({"in_app_enabled": true, "email_enabled": true})
    );
    assert_eq!(prefs.body["kinds"].as_object().unwrap().len(), 5);
    let put = |body: Value| {
        let app = &app;
        let eve = eve.clone();
        async move {
            app.request(
                Method::PUT,
                "/api/v1/notifications/preferences",
                Some(&eve),
                Some(&body),
            )
            .await
        }
    };
    let bad = put(json!({"kinds": {"task.eaten": {"email_enabled": false}}})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["kinds.task.eaten"]);
    let bad = put(json!({"email": false})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    assert_eq!(bad.error_fields(), ["email"]);

    // No email for tasks: the next one comes in-app only.
    let set = put(json!({"kinds": {"task.assigned": {"email_enabled": false}}})).await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(
        set.body["kinds"]["task.assigned"],
        json!({"in_app_enabled": true, "email_enabled": false})
    );
    assert_eq!(set.body["email_enabled"], true);
    create_task(&app, admin, json!({"title": "Door", "assignee_id": eve_id})).await;
    deliveries(&app, admin, "channel=webhook&status=delivered", 1).await;
    let items = notified(&app, &eve, 2).await;
    assert_eq!(items[1]["title"], "New task: Door");
    deliveries(&app, admin, "channel=email", 2).await;

    // The company words task assignments its own way; it is checked first.
    let path = "/api/v1/notifications/templates/task.assigned";
    let wording = json!({"title": "To do: {{ task.title }}", "body": "{{ task.title }} is yours{% if task.due_date %} by {{ task.due_date }}{% endif %}."});
    let denied = app
        .request(Method::PUT, path, Some(&eve), Some(&wording))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let typo = json!({"title": "To do: {{ task.titel }}", "body": "x"});
    let bad = app
        .request(Method::PUT, path, Some(admin), Some(&typo))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    assert_eq!(bad.error_fields(), ["title"]);
    let syntax = json!({"title": "ok", "body": "{% if %}"});
    let bad = app
        .request(Method::PUT, path, Some(admin), Some(&syntax))
        .await;
    assert_eq!(bad.error_fields(), ["body"]);
    let none = app
        .request(
            Method::PUT,
            "/api/v1/notifications/templates/task.eaten",
            Some(admin),
            Some(&wording),
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let set = app
        .request(Method::PUT, path, Some(admin), Some(&wording))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["custom"], true);
    let all = app.get("/api/v1/notifications/templates", admin).await;
    let all = all.body.as_array().unwrap().clone();
    assert_eq!(all.len(), 5);
    let mine = all.iter().find(|t| t["kind"] == "task.assigned").unwrap();
    assert_eq!(mine["title"], "To do: {{ task.title }}");
    assert!(
        all.iter()
            .filter(|t| t["kind"] != "task.assigned")
            .all(|t| t["custom"] == false)
    );

    // Eve turns in-app off for everything: the next task reaches the webhook only.
    create_task(
        &app,
        admin,
        json!({"title": "Window", "assignee_id": eve_id, "due_date": "2026-12-24"}),
    )
    .await;
    deliveries(&app, admin, "channel=webhook&status=delivered", 2).await;
    let items = notified(&app, &eve, 3).await;
    assert_eq!(items[2]["title"], "To do: Window");
    assert_eq!(items[2]["body"], "Window is yours by 2026-12-24.");
    let set = put(json!({"in_app_enabled": false})).await;
    assert_eq!(set.body["in_app_enabled"], false);
    create_task(&app, admin, json!({"title": "Roof", "assignee_id": eve_id})).await;
    deliveries(&app, admin, "channel=webhook&status=delivered", 3).await;
    notified(&app, &eve, 3).await;
    let last: Value = serde_json::from_str(&received.lock().unwrap().last().unwrap().body).unwrap();
    assert_eq!(last["title"], "To do: Roof");

    // Back to the default wording.
    let reset = app.delete(path, admin).await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT);
    let all = app.get("/api/v1/notifications/templates", admin).await;
    assert!(
        all.body
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["custom"] == false)
    );
}

/// Opens `token`'s notification stream: the raw response, read chunk by chunk.
pub async fn open_stream(app: &TestApp, token: &str) -> reqwest::Response {
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/notifications/stream"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

/// Reads `stream` until an event named `event` arrives; answers its data, failing
/// after 20 s.
pub async fn next_event(stream: &mut reqwest::Response, event: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut text = String::new();
    loop {
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            let name = frame
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("");
            if name == event {
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str(data).unwrap();
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {event} event within 20 s; read {text:?}"))
            .unwrap()
            .expect("the stream ended");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

async fn the_stream_shows_each_new_notification(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let (acme, eve_id, eve) = acme_with_eve(&app).await;
    let admin = acme.admin.as_str();
    notified(&app, &eve, 1).await;
    in_step(&app).await;
    let mut stream = open_stream(&app, &eve).await;
    assert_eq!(
        next_event(&mut stream, "unread").await,
        json!({"unread": 1})
    );
    for title in ["Door", "Window"] {
        create_task(&app, admin, json!({"title": title, "assignee_id": eve_id})).await;
        let shown = next_event(&mut stream, "notification").await;
        assert_eq!(shown["kind"], "task.assigned");
        assert_eq!(shown["title"], format!("New task: {title}"));
    }
    // A client that reconnects after the first of Eve's tasks sees the second again.
    let all = app.get("/api/v1/notifications", &eve).await;
    let first_task = all.body["items"][1]["id"].as_str().unwrap().to_owned();
    let mut again = reqwest::Client::new()
        .get(app.url("/api/v1/notifications/stream"))
        .bearer_auth(&eve)
        .header("last-event-id", first_task)
        .send()
        .await
        .unwrap();
    let shown = next_event(&mut again, "notification").await;
    assert_eq!(shown["title"], "New task: Window");
    // Someone else's notifications never show in Eve's stream: the news that her
    // tasks lost their assignee goes to the admin alone.
    let mut admins = open_stream(&app, admin).await;
    next_event(&mut admins, "unread").await;
    let gone = app
        .delete(&format!("/api/v1/people/employees/{eve_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let shown = next_event(&mut admins, "notification").await;
    assert_eq!(shown["kind"], "task.unassigned");
    // Whatever reaches Eve's stream meanwhile (keep-alives at most) is no notification.
    let mut seen = String::new();
    let quiet = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(quiet, stream.chunk()).await {
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(!seen.contains("event: notification"), "{seen}");
}

/// An SMTP server on this machine that takes mail for everyone but `bounce@...`
/// (550, refused for good) and `later@...` (451, try again later): the messages it
/// took, each as it was sent.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let taken: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = taken.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut message: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = message.as_mut() {
                        if line == "." {
                            log.lock().unwrap().push(message.take().unwrap());
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 test\r\n",
                        "RCPT" if line.contains("bounce@") => b"550 5.1.1 no such mailbox\r\n",
                        "RCPT" if line.contains("later@") => b"451 4.3.0 try again later\r\n",
                        "DATA" => {
                            message = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, taken)
}

async fn email_through_smtp(topology: Topology) {
    let Some(mut installation) = Installation::create(topology, roster::SERVICES).await else {
        return;
    };
    let (port, taken) = smtp_server().await;
    let notifications = &mut installation.config_mut().notifications;
    notifications.email = EmailTransport::Smtp;
    notifications.smtp_url = Some(SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).unwrap());
    notifications.from = "Acme HR <hr@acme.test>".to_owned();
    let app = TestApp::spawn_on(installation, roster::SERVICES).await;
    let acme = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = acme.admin.as_str();

    // Ada's welcome goes through the server.
    let sent = deliveries(&app, admin, "channel=email&status=delivered", 1).await;
    assert_eq!(sent[0]["target"], "ada@acme.test");
    let message = taken.lock().unwrap()[0].clone();
    assert!(
        message.contains("From: \"Acme HR\" <hr@acme.test>"),
        "{message}"
    );
    assert!(message.contains("To: ada@acme.test"), "{message}");
    assert!(message.contains("Subject: Welcome, Ada!"), "{message}");
    let log = app
        .get(
            &format!(
                "/api/v1/notifications/deliveries/{}",
                sent[0]["id"].as_str().unwrap()
            ),
            admin,
        )
        .await;
    assert!(
        log.body["log"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("250"),
        "{:?}",
        log.body
    );

    // A mailbox that does not exist bounces at once; one the server cannot take now
    // is tried again until its tries are spent.
    for name in ["bounce", "later"] {
        person(
            &app,
            admin,
            json!({"email": format!("{name}@acme.test"), "name": name, "role": "employee"}),
        )
        .await;
    }
    let bounced = deliveries(&app, admin, "status=bounced", 1).await;
    assert_eq!(bounced[0]["target"], "bounce@acme.test");
    assert_eq!(bounced[0]["attempts"], 1);
    assert!(
        bounced[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("no such mailbox"),
        "{:?}",
        bounced[0]
    );
    let failed = deliveries(&app, admin, "status=failed", 1).await;
    assert_eq!(failed[0]["target"], "later@acme.test");
    assert_eq!(failed[0]["attempts"], 3);
    assert!(
        failed[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("try again later"),
        "{:?}",
        failed[0]
    );
    assert_eq!(taken.lock().unwrap().len(), 1);
}

/// What a company set up wrong never costs an event: a webhook whose URL is as long as
/// the API takes (2,000 characters) is posted to, and a wording that passed its check
/// but fails on someone's values (no hire date) gives way to the default wording.
async fn a_company_setup_never_costs_an_event(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let (base, received) = receiver().await;
    let (acme, _, _) = acme_with_eve(&app).await;
    let admin = acme.admin.as_str();
    let long = format!("{base}/long?");
    let long = format!("{long}{}", "x".repeat(2000 - long.len()));
    register(&app, admin, long.clone(), json!(["welcome"])).await;
    // A receiver whose answer never ends: a little of it is read, then it is left.
    register(&app, admin, format!("{base}/endless"), json!(["welcome"])).await;
    let wording = json!({"title": "Welcome, {{ employee.name }}",
                         "body": "Hired {{ employee.hire_date|length }} days ago"});
    let set = app
        .request(
            Method::PUT,
            "/api/v1/notifications/templates/welcome",
            Some(admin),
            Some(&wording),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let (zed_id, zed) = person(
        &app,
        admin,
        json!({"email": "zed@acme.test", "name": "Zed", "role": "employee"}),
    )
    .await;
    let items = notified(&app, &zed, 1).await;
    assert_eq!(items[0]["title"], "Welcome, Zed!");
    assert!(
        items[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Your Roster account is ready, Zed"),
        "{items:?}"
    );
    // Both webhooks took it: the long URL and the endless answer.
    let posted = deliveries(
        &app,
        admin,
        &format!("channel=webhook&status=delivered&employee_id={zed_id}"),
        2,
    )
    .await;
    assert!(
        posted.iter().any(|d| d["target"] == long.as_str()),
        "{posted:?}"
    );
    assert!(
        posted
            .iter()
            .any(|d| d["target"].as_str().unwrap().ends_with("/endless")),
        "{posted:?}"
    );
    assert!(received.lock().unwrap().iter().any(|r| r.path == "/long"));
    assert_eq!(
        roster_bus::dead::count(app.db("notifications"))
            .await
            .unwrap(),
        0
    );
}

topology_tests!(
    a_company_setup_never_costs_an_event,
    email_through_smtp,
    events_become_notifications,
    email_and_webhooks,
    preferences_and_templates,
    the_stream_shows_each_new_notification
);
