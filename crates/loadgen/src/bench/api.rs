//! The API on data at scale: reads (an employee by id, the tasks of an assignee) and
//! writes (a check-in, a task), each by `concurrency` clients that send their next
//! request once answered, for a fixed time; then the heavy queries of a company: a
//! department's month of attendance, every balance, and one accrual run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use reqwest::{Method, StatusCode};
use roster_storage::ServiceDb;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::baseline::{self, Baseline};
use super::load::Load;
use super::{Backends, Summary, Target, expect};
use crate::client::Client;
use crate::seed::{self, Company, Plan};

const PASSWORD: &str = "bench-password-1234";
/// Heavy queries are run this many times each, one after the other.
const HEAVY_RUNS: usize = 5;

#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// Companies seeded.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    companies: u32,
    /// Employees seeded, in all.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    employees: u32,
    /// Days of history seeded.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=366))]
    days: u32,
    /// Requests in flight.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    concurrency: u32,
    /// Seconds each request is measured for, after a second of warm-up.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    seconds: u32,
    /// pgbench's scale for the select-only baseline on PostgreSQL (100,000 accounts
    /// each).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pgbench_scale: u32,
}

/// Runs the scenario; hands the target back for stopping whatever happened.
pub(crate) async fn run(
    target: Target,
    args: &ApiArgs,
    backends: &Backends,
) -> (Target, anyhow::Result<Value>) {
    let result = measure(&target, args, backends).await;
    (target, result)
}

async fn measure(target: &Target, args: &ApiArgs, backends: &Backends) -> anyhow::Result<Value> {
    let mut databases = Vec::with_capacity(roster_catalog::SERVICES.len());
    for service in roster_catalog::SERVICES {
        databases.push(target.database(service.name).await?);
    }
    let plan = Plan {
        companies: args.companies,
        employees: args.employees,
        days: args.days,
    };
    let seeded = seed::seed(&target.base, &databases, plan, PASSWORD).await?;
    seed::settle(&databases).await?;
    println!("{}", seeded.summary());
    let company = seeded.companies.first().context("nothing was seeded")?;
    let mut admin = Client::new(&target.base);
    admin.login(&company.admin().email, PASSWORD).await?;
    // Shared by every request: a clone per request would be the load generator's work.
    let admin = Arc::new(admin);
    let people: Arc<Vec<String>> =
        Arc::new(company.people.iter().map(|p| p.id.to_string()).collect());
    let mut results = json!({"seed": {
        "companies": args.companies, "employees": args.employees, "days": args.days,
        "seconds": seeded.took.as_secs_f64(), "checkins": seeded.checkins,
        "tasks": seeded.tasks, "leave": seeded.leave,
    }});

    let load = Load {
        clients: args.concurrency as usize,
        duration: Duration::from_secs(u64::from(args.seconds)),
    };
    println!(
        "\n{} clients, {} s each after 1 s of warm-up:\n  {:<36} {:>9} {:>7} {:>8} {:>8} {:>9}",
        load.clients, args.seconds, "request", "answered", "errors", "p50 ms", "p99 ms", "per sec"
    );
    let mut requests = serde_json::Map::new();
    let by_id = |id: &str| format!("/api/v1/people/employees/{id}");
    let tasks_of = |id: &str| format!("/api/v1/tasks?assignee_id={id}");
    for (name, path) in [
        (
            "GET /api/v1/people/employees/{id}",
            by_id as fn(&str) -> String,
        ),
        ("GET /api/v1/tasks?assignee_id=", tasks_of),
    ] {
        let (admin, people) = (Arc::clone(&admin), Arc::clone(&people));
        let measured = load
            .run(move |_, n| {
                let (admin, people) = (Arc::clone(&admin), Arc::clone(&people));
                async move {
                    let id = &people[(n % people.len() as u64) as usize];
                    expect(&admin, Method::GET, &path(id), &Value::Null, StatusCode::OK).await
                }
            })
            .await;
        requests.insert(name.to_owned(), measured.report(name));
    }

    let walkers = Arc::new(Walkers::sign_in(&target.base, company, load.clients).await?);
    let measured = load
        .run(move |client, _| {
            let walkers = Arc::clone(&walkers);
            async move { walkers.step(client).await }
        })
        .await;
    let name = "POST /api/v1/presence/checkins";
    requests.insert(name.to_owned(), measured.report(name));

    let (admin_client, people_ids) = (Arc::clone(&admin), Arc::clone(&people));
    let measured = load
        .run(move |_, n| {
            let (admin, people) = (Arc::clone(&admin_client), Arc::clone(&people_ids));
            async move {
                let assignee = &people[(n % people.len() as u64) as usize];
                let body = json!({"title": format!("Bench task {n}"), "assignee_id": assignee});
                expect(
                    &admin,
                    Method::POST,
                    "/api/v1/tasks",
                    &body,
                    StatusCode::CREATED,
                )
                .await
            }
        })
        .await;
    let name = "POST /api/v1/tasks";
    requests.insert(name.to_owned(), measured.report(name));
    results["heavy"] = heavy(&databases, &admin, company).await?;

    let base = baseline::measure(
        target,
        &databases,
        &backends.pgbench,
        args.pgbench_scale,
        args.concurrency,
        load.duration,
    )
    .await?;
    results["ratios"] = ratios(&requests, &base);
    results["requests"] = Value::Object(requests);
    results["baseline"] = base.to_json();
    Ok(results)
}

/// Prints each request's rate against the database's own; answers them as JSON.
fn ratios(requests: &serde_json::Map<String, Value>, base: &Baseline) -> Value {
    println!(
        "\nAgainst the database alone, same concurrency, same run:\n  reads:  {:.0}/s, {}\n  writes: {:.0}/s, {}",
        base.reads_per_sec, base.reads, base.writes_per_sec, base.writes
    );
    let mut ratios = serde_json::Map::new();
    for (name, row) in requests {
        let against = match name.starts_with("GET") {
            true => base.reads_per_sec,
            false => base.writes_per_sec,
        };
        let ratio = row["per_sec"].as_f64().unwrap_or(0.0) / against.max(f64::EPSILON);
        println!(
            "  {name:<36} {:>6.1}% of the database's rate",
            ratio * 100.0
        );
        ratios.insert(name.clone(), json!(ratio));
    }
    Value::Object(ratios)
}

/// A department's month of attendance, every balance of the company, and one run of
/// the accrual job over every company.
async fn heavy(
    databases: &[ServiceDb],
    admin: &Client,
    company: &Company,
) -> anyhow::Result<Value> {
    let department = company
        .departments
        .first()
        .context("the company has no department")?;
    let month = report_month(OffsetDateTime::now_utc().date());
    let attendance =
        format!("/api/v1/presence/attendance/month?month={month}&team_id={department}");
    println!(
        "\nHeavy queries, {HEAVY_RUNS} runs each one after the other:\n  {:<52} {:>9} {:>8} {:>8}",
        "query", "rows", "p50 ms", "max ms"
    );
    let mut heavy = serde_json::Map::new();
    for (name, path, rows) in [
        (
            format!("a department's attendance for {month}"),
            attendance,
            "employees",
        ),
        (
            "every leave balance of the company".to_owned(),
            "/api/v1/leave/balances/report".to_owned(),
            "employees",
        ),
    ] {
        let mut times = Vec::with_capacity(HEAVY_RUNS);
        let mut count = 0;
        for _ in 0..HEAVY_RUNS {
            let started = Instant::now();
            let (status, body) = admin.send(Method::GET, &path, &Value::Null).await?;
            times.push(started.elapsed());
            if status != StatusCode::OK {
                bail!("GET {path} answered {status}: {}", body["detail"]);
            }
            count = body[rows].as_array().map_or(0, Vec::len);
        }
        heavy.insert(name.clone(), heavy_row(&name, count, times));
    }

    // The accrual job as of the first of next month: a period due for everyone.
    let leave = seed::database(databases, roster_leave::SERVICE.name)?;
    // Noon UTC on the first: the first or the second of that month in every company's
    // zone, so the same month is due in all of them.
    let due = first_of_next_month(OffsetDateTime::now_utc().date())
        .with_time(time::macros::time!(12:00))
        .assume_utc();
    let started = Instant::now();
    let report = roster_leave::store::accrual::run(leave, due)
        .await
        .map_err(|e| anyhow::anyhow!("the accrual run failed: {e}"))?;
    let took = started.elapsed();
    let name = format!("an accrual run as of {due} ({} credits)", report.credited);
    heavy.insert(
        "accrual run".to_owned(),
        heavy_row(&name, report.employees as usize, vec![took]),
    );
    Ok(Value::Object(heavy))
}

fn heavy_row(name: &str, rows: usize, times: Vec<Duration>) -> Value {
    let Some(s) = Summary::of(times) else {
        return Value::Null;
    };
    println!("  {name:<52} {rows:>9} {:>8.1} {:>8.1}", s.p50, s.max);
    json!({"rows": rows, "runs": s.count, "p50_ms": s.p50, "max_ms": s.max})
}

/// The month a report covers: the last whole one.
fn report_month(today: Date) -> String {
    let last = today
        .replace_day(1)
        .ok()
        .and_then(Date::previous_day)
        .unwrap_or(today);
    format!("{}-{:02}", last.year(), u8::from(last.month()))
}

fn first_of_next_month(today: Date) -> Date {
    let next = today.month().next();
    let year = today.year() + i32::from(next == time::Month::January);
    Date::from_calendar_date(year, next, 1).unwrap_or(today)
}

/// Sends and expects `status`.
/// Employees who check in and out by the door's tag, one per client, each alternating.
struct Walkers {
    people: Vec<(Client, AtomicBool)>,
    tag: String,
}

impl Walkers {
    async fn sign_in(base: &str, company: &Company, clients: usize) -> anyhow::Result<Self> {
        let mut people = Vec::with_capacity(clients);
        for member in company.people.iter().skip(1).cycle().take(clients) {
            let mut client = Client::new(base);
            client.login(&member.email, PASSWORD).await?;
            people.push((client, AtomicBool::new(false)));
        }
        Ok(Self {
            people,
            tag: company.tag.1.clone(),
        })
    }

    /// The client's employee checks in, or out if they are in.
    async fn step(&self, client: usize) -> anyhow::Result<()> {
        let (walker, inside) = &self.people[client % self.people.len()];
        let kind = if inside.load(Ordering::Relaxed) {
            "out"
        } else {
            "in"
        };
        let body = json!({"kind": kind, "method": "nfc", "nfc_tag_uid": self.tag});
        expect(
            walker,
            Method::POST,
            "/api/v1/presence/checkins",
            &body,
            StatusCode::CREATED,
        )
        .await?;
        inside.store(kind == "in", Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn the_report_month_is_the_last_whole_one() {
        assert_eq!(report_month(date!(2026 - 12 - 02)), "2026-11");
        assert_eq!(report_month(date!(2027 - 01 - 31)), "2026-12");
        assert_eq!(
            first_of_next_month(date!(2026 - 12 - 02)),
            date!(2027 - 01 - 01)
        );
        assert_eq!(
            first_of_next_month(date!(2026 - 02 - 28)),
            date!(2026 - 03 - 01)
        );
    }
}
