//! `roster doctor`: how the installation stands, read from each service's database
//! whether or not Roster runs: the bus answers; each database answers with every
//! migration applied; outboxes are flushed; no event sits in dead letters; and what
//! each service checks of its own (leave's accrual runs, notifications' deliveries).
//! Exits 1 when anything fails.

use std::time::Duration;

use roster_bus::{NatsBus, dead, outbox};
use roster_config::{BusKind, Config};
use roster_migrate::Migrator;
use roster_service::ServiceDef;
use roster_service::doctor::{Finding, Health};
use roster_storage::TableSize;

use crate::SERVICES;

/// How long the bus and each database have to answer.
const ANSWER: Duration = Duration::from_secs(5);

#[allow(clippy::print_stdout)]
pub(crate) async fn run(config: &Config, only: Option<&str>) -> anyhow::Result<()> {
    let mut findings: Vec<(&str, Finding)> = Vec::new();
    if config.bus.kind == BusKind::Nats && only.is_none() {
        findings.push(("bus", bus(config).await));
    }
    for def in SERVICES.iter().filter(|s| only.is_none_or(|o| o == s.name)) {
        for finding in check(config, def).await {
            findings.push((def.name, finding));
        }
    }
    for (service, finding) in &findings {
        println!("{:<5} {service:<14} {}", finding.health, finding.what);
    }
    let count = |health| findings.iter().filter(|(_, f)| f.health == health).count();
    let (failed, warned) = (count(Health::Fail), count(Health::Warn));
    match failed {
        0 => {
            println!("nothing failed, {warned} warnings");
            Ok(())
        }
        n => anyhow::bail!("doctor: {n} checks failed, {warned} warnings"),
    }
}

async fn bus(config: &Config) -> Finding {
    let url = config
        .bus
        .url
        .as_ref()
        .map_or_else(|| "(no bus.url)".to_owned(), ToString::to_string);
    match tokio::time::timeout(ANSWER, NatsBus::connect(&config.bus)).await {
        Ok(Ok(_)) => Finding::ok(format!("NATS answers at {url}")),
        Ok(Err(e)) => Finding::fail(format!("NATS does not answer: {e:#}")),
        Err(_) => Finding::fail(format!("NATS at {url} did not answer within 5 s")),
    }
}

/// A service's tables in a line, largest first: rows (and size, where it is known).
fn sizes(tables: &[TableSize]) -> String {
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    let bytes: Option<u64> = tables.iter().map(|t| t.bytes).sum();
    let each: Vec<String> = tables
        .iter()
        .map(|t| match t.bytes {
            Some(b) => format!("{} {} ({})", t.name, t.rows, size(b)),
            None => format!("{} {}", t.name, t.rows),
        })
        .collect();
    let total = bytes.map_or_else(String::new, |b| format!(", {}", size(b)));
    format!("its tables hold {rows} rows{total}: {}", each.join(", "))
}

/// Bytes as an operator reads them.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

/// Everything found of one service.
async fn check(config: &Config, def: &ServiceDef) -> Vec<Finding> {
    let db = match super::migrate::open(config, def).await {
        Ok(db) => db,
        Err(e) => return vec![Finding::fail(format!("{e:#}"))],
    };
    let mut findings = Vec::new();
    let pending = match tokio::time::timeout(ANSWER, db.ping()).await {
        Ok(Ok(())) => Migrator::new(&db, (def.migrations)()).pending().await,
        Ok(Err(e)) => {
            db.close().await;
            return vec![Finding::fail(format!("its database does not answer: {e}"))];
        }
        Err(_) => {
            db.close().await;
            return vec![Finding::fail("its database did not answer within 5 s")];
        }
    };
    match pending {
        Ok(pending) if pending.is_empty() => findings.push(Finding::ok(format!(
            "its database answers ({}), every migration applied",
            db.place()
        ))),
        Ok(pending) => {
            db.close().await;
            return vec![Finding::fail(format!(
                "{} migrations pending (first {}): run `roster migrate up`",
                pending.len(),
                pending[0]
            ))];
        }
        Err(e) => findings.push(Finding::fail(format!("cannot read its migrations: {e}"))),
    }
    findings.push(match db.table_sizes().await {
        Ok(tables) => Finding::ok(sizes(&tables)),
        Err(e) => Finding::fail(format!("cannot read the sizes of its tables: {e}")),
    });
    if def.publishes {
        findings.push(match outbox::backlog(&db).await {
            Ok(0) => Finding::ok("every event it recorded is published"),
            Ok(n) => Finding::warn(format!(
                "{n} events recorded but not published yet (its relay publishes them while it runs)"
            )),
            Err(e) => Finding::fail(format!("cannot read its outbox: {e}")),
        });
    }
    if def.consumes.is_some() {
        findings.push(match dead::count(&db).await {
            Ok(0) => Finding::ok("no event in dead letters"),
            Ok(n) => Finding::warn(format!(
                "{n} events in dead letters: `roster events dead list --service {}`",
                def.name
            )),
            Err(e) => Finding::fail(format!("cannot read its dead letters: {e}")),
        });
    }
    match (def.doctor)(db.clone()).await {
        Ok(own) => findings.extend(own),
        Err(e) => findings.push(Finding::fail(format!("cannot check: {e:#}"))),
    }
    db.close().await;
    findings
}
