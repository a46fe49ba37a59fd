//! A hostile company beside a quiet one, on an installation with the default quotas.
//! The hostile company words its notifications as heavily as Roster keeps (every
//! value at its longest, upper-cased, as often as the bound allows), registers as
//! many webhooks as its quota allows at receivers that never end their answer, and
//! assigns tasks as fast as its clients are answered, each one a notification to
//! render and webhooks to post. Meanwhile the quiet company's reads and writes, sent
//! at a steady rate, are measured, after the same measure with the quiet company
//! alone, in the same run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::load::Paced;
use super::{Target, expect};
use crate::client::Client;

const PASSWORD: &str = "bench-password-1234";

#[derive(Debug, Args)]
pub(crate) struct HostileArgs {
    /// The hostile company's clients, each sending its next request once answered.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    concurrency: u32,
    /// The quiet company's requests a second, in each measure.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rate: u32,
    /// Seconds each measure lasts, after a second of warm-up.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    seconds: u32,
    /// No quota on the companies' requests, to see what they hold off.
    #[arg(long)]
    pub no_quotas: bool,
    /// Webhooks the hostile company registers, at most: by default as many as its
    /// quota allows.
    #[arg(long, value_name = "N")]
    webhooks: Option<u32>,
}

/// Runs the scenario; hands the target back for stopping whatever happened.
pub(crate) async fn run(target: Target, args: &HostileArgs) -> (Target, anyhow::Result<Value>) {
    let result = measure(&target, args).await;
    (target, result)
}

/// A company signed up, its administrator signed in, and one employee: the client
/// and the employee's id.
async fn company(base: &str, name: &str) -> anyhow::Result<(Client, String)> {
    let domain = name.to_lowercase();
    let admin_email = format!("admin@{domain}.example.com");
    let signup = json!({"company_name": name, "admin_email": admin_email,
                        "admin_password": PASSWORD, "admin_name": "Ada", "admin_surname": name});
    let mut admin = Client::new(base);
    admin
        .create_at("/api/v1/auth/signup", &signup, "company_id")
        .await?;
    admin.login(&admin_email, PASSWORD).await?;
    let hire = json!({"email": format!("sam@{domain}.example.com"), "name": "Sam",
                      "surname": name, "role": "employee", "password": PASSWORD});
    let employee = admin.create("/api/v1/people/employees", &hire).await?;
    Ok((admin, employee))
}

/// A receiver that answers every request with a body that never ends: the address
/// it listens on.
async fn endless_receiver() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen for the hostile receiver")?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n";
                if socket.write_all(head).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                while socket.write_all(&chunk).await.is_ok() {}
            });
        }
    });
    Ok(format!("http://{address}"))
}

/// The heaviest wording a company may keep of a task's notification: the title
/// upper-cased as often as the bound on what a body may write allows.
fn heaviest_wording() -> Value {
    let field = "{{ task.title|upper }}";
    json!({"title": field.repeat(3), "body": field.repeat(26)})
}

async fn measure(target: &Target, args: &HostileArgs) -> anyhow::Result<Value> {
    let (quiet, quiet_employee) = company(&target.base, "Quiet").await?;
    let (hostile, hostile_employee) = company(&target.base, "Hostile").await?;
    let (status, answer) = hostile
        .send(
            Method::PUT,
            "/api/v1/notifications/templates/task.assigned",
            &heaviest_wording(),
        )
        .await?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "the heaviest wording was refused: {}",
        answer["detail"]
    );
    let receiver = endless_receiver().await?;
    let mut webhooks = 0;
    while args.webhooks.is_none_or(|most| webhooks < most) {
        let hook =
            json!({"url": format!("{receiver}/hook/{webhooks}"), "kinds": ["task.assigned"]});
        let (status, answer) = hostile
            .send(Method::POST, "/api/v1/notifications/webhooks", &hook)
            .await?;
        match status {
            StatusCode::CREATED => webhooks += 1,
            StatusCode::CONFLICT => break,
            _ => anyhow::bail!("a webhook answered {status}: {}", answer["detail"]),
        }
    }
    println!(
        "The hostile company: the heaviest wording kept, {webhooks} webhooks (its quota) at a receiver whose answer never ends"
    );

    let load = Paced {
        per_second: args.rate,
        duration: Duration::from_secs(u64::from(args.seconds)),
    };
    let quiet = Arc::new(quiet);
    let quiet_employee = Arc::new(quiet_employee);
    // A request of the quiet company's: what `ask` makes of its employee's id and
    // the request's number, sent as its administrator, expecting `status`.
    let quiet_asks = |method: Method, status: StatusCode, ask: fn(&str, u64) -> (String, Value)| {
        let (quiet, id) = (Arc::clone(&quiet), Arc::clone(&quiet_employee));
        move |_, n| {
            let (quiet, id, method) = (Arc::clone(&quiet), Arc::clone(&id), method.clone());
            async move {
                let (path, body) = ask(&id, n);
                expect(&quiet, method, &path, &body, status).await
            }
        }
    };
    let quiet_reads = || {
        quiet_asks(Method::GET, StatusCode::OK, |id, _| {
            (format!("/api/v1/people/employees/{id}"), Value::Null)
        })
    };
    let quiet_writes = || {
        quiet_asks(Method::POST, StatusCode::CREATED, |id, n| {
            let task = json!({"title": format!("Quiet task {n}"), "assignee_id": id});
            ("/api/v1/tasks".to_owned(), task)
        })
    };
    println!(
        "\n{} requests a second, {} s each after 1 s of warm-up:\n  {:<44} {:>9} {:>7} {:>8} {:>8} {:>9}",
        load.per_second,
        args.seconds,
        "the quiet company's",
        "answered",
        "errors",
        "p50 ms",
        "p99 ms",
        "per sec"
    );
    let mut rows = serde_json::Map::new();
    let name = "GET employee, alone";
    rows.insert(
        name.to_owned(),
        phase(target, &load, name, quiet_reads()).await?,
    );
    let name = "POST task, alone";
    rows.insert(
        name.to_owned(),
        phase(target, &load, name, quiet_writes()).await?,
    );

    // The attack, for as long as the measures under it last: what each request
    // was answered, counted.
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Answers::default());
    let hostile = Arc::new(hostile);
    let mut attackers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (hostile, stop, answers) = (
            Arc::clone(&hostile),
            Arc::clone(&stop),
            Arc::clone(&answers),
        );
        let employee = hostile_employee.clone();
        attackers.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = answers.sent.fetch_add(1, Ordering::Relaxed);
                let title = "W".repeat(180) + &n.to_string();
                let task = json!({"title": title, "assignee_id": employee});
                let answered = hostile.send(Method::POST, "/api/v1/tasks", &task).await;
                let count = match answered.map(|(status, _)| status) {
                    Ok(StatusCode::CREATED) => &answers.made,
                    Ok(StatusCode::TOO_MANY_REQUESTS) => &answers.refused,
                    _ => &answers.failed,
                };
                count.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let name = "GET employee, under attack";
    rows.insert(
        name.to_owned(),
        phase(target, &load, name, quiet_reads()).await?,
    );
    let name = "POST task, under attack";
    rows.insert(
        name.to_owned(),
        phase(target, &load, name, quiet_writes()).await?,
    );
    stop.store(true, Ordering::Relaxed);
    while attackers.join_next().await.is_some() {}
    let [made, refused, failed] =
        [&answers.made, &answers.refused, &answers.failed].map(|n| n.load(Ordering::Relaxed));
    println!(
        "  the hostile company assigned {made} tasks meanwhile, each a notification and {webhooks} webhook posts; {refused} more were refused for its quotas, {failed} failed"
    );
    Ok(json!({"quiet": rows,
              "hostile": {"tasks": made, "refused": refused, "failed": failed, "webhooks": webhooks}}))
}

/// What the hostile company's requests were answered.
#[derive(Debug, Default)]
struct Answers {
    sent: AtomicU64,
    /// Created.
    made: AtomicU64,
    /// Refused for the company's quotas.
    refused: AtomicU64,
    /// Anything else.
    failed: AtomicU64,
}

/// One measure of the quiet company's `request`, after PostgreSQL wrote its changed
/// pages (so that no checkpoint falls in the middle of one measure and not another):
/// its row.
async fn phase<F, Fut>(
    target: &Target,
    load: &Paced,
    name: &str,
    request: F,
) -> anyhow::Result<Value>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    target.checkpoint().await?;
    Ok(load.run(request).await.report(name))
}
