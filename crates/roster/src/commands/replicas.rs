//! `roster replicas check | rebuild`: each replica against its source, people.

use std::collections::BTreeMap;

use anyhow::Context as _;
use roster_events::Employee;
use roster_replica::{Drift, Replica, Row, compare};
use roster_service::ServiceDb;
use time::OffsetDateTime;
use uuid::Uuid;

use super::open_migrated;
use crate::{REPLICAS, ReplicasAction, SERVICES};

pub(crate) async fn run(
    config: &roster_config::Config,
    action: ReplicasAction,
) -> anyhow::Result<()> {
    let people = open_service(config, roster_people::SERVICE.name).await?;
    let result = match action {
        ReplicasAction::Check { service } => check(config, &people, service.as_deref()).await,
        ReplicasAction::Rebuild { service } => rebuild(config, &people, &service).await,
    };
    people.close().await;
    result
}

async fn open_service(config: &roster_config::Config, name: &str) -> anyhow::Result<ServiceDb> {
    let def = SERVICES
        .iter()
        .find(|s| s.name == name)
        .with_context(|| format!("no service is called {name}"))?;
    open_migrated(config, def).await
}

fn replica_of(name: &str) -> anyhow::Result<Replica> {
    REPLICAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .with_context(|| format!("{name} keeps no replica"))
}

/// Every employee of people, with the sequence of their latest event.
async fn sources(people: &ServiceDb) -> anyhow::Result<Vec<(u64, Employee)>> {
    roster_people::store::employees::sources(people)
        .await
        .context("people: cannot read the employees")
}

async fn check(
    config: &roster_config::Config,
    people: &ServiceDb,
    only: Option<&str>,
) -> anyhow::Result<()> {
    let sources = sources(people).await?;
    let mut drifted = Vec::new();
    for (name, replica) in REPLICAS
        .iter()
        .filter(|(n, _)| only.is_none_or(|o| o == *n))
    {
        let db = open_service(config, name).await?;
        let have = replica.rows(&db).await;
        db.close().await;
        let have = have.with_context(|| format!("{name}: cannot read its replica"))?;
        let want: BTreeMap<Uuid, Row> = sources
            .iter()
            .map(|(revision, employee)| (employee.id, replica.project(*revision, employee)))
            .collect();
        let drift = compare(&want, &have);
        report(name, want.len(), &drift);
        if !drift.is_empty() {
            drifted.push(*name);
        }
    }
    match drifted.is_empty() {
        true => Ok(()),
        false => anyhow::bail!(
            "replicas differ from people: {} (events in flight show as behind; `roster replicas rebuild <service>` repairs the rest)",
            drifted.join(", ")
        ),
    }
}

#[allow(clippy::print_stdout)]
fn report(service: &str, employees: usize, drift: &Drift) {
    if drift.is_empty() {
        println!("{service}: {employees} employees, in step with people");
        return;
    }
    println!(
        "{service}: {} missing, {} extra, {} behind, {} different (people has {employees} employees)",
        drift.missing.len(),
        drift.extra.len(),
        drift.behind.len(),
        drift.different.len()
    );
    for id in &drift.missing {
        println!("  missing    {id}");
    }
    for id in &drift.extra {
        println!("  extra      {id}");
    }
    for (id, have, want) in &drift.behind {
        println!("  behind     {id}: revision {have}, people has {want}");
    }
    for (id, fields) in &drift.different {
        println!("  different  {id}: {}", fields.join(", "));
    }
}

#[allow(clippy::print_stdout)]
async fn rebuild(
    config: &roster_config::Config,
    people: &ServiceDb,
    service: &str,
) -> anyhow::Result<()> {
    let replica = replica_of(service)?;
    let db = open_service(config, service).await?;
    // Taken before the source is read: a row an event writes after it is newer than
    // what the source shows, and stays.
    let since = OffsetDateTime::now_utc();
    let sources = sources(people).await?;
    let rebuilt = replica.rebuild(&db, &sources, since).await;
    db.close().await;
    let (written, deleted) =
        rebuilt.with_context(|| format!("{service}: cannot rebuild its replica"))?;
    println!(
        "{service}: replica rebuilt from people's {} employees: {written} written, {deleted} deleted",
        sources.len()
    );
    Ok(())
}
