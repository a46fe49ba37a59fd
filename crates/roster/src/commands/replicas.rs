//! `roster replicas check | rebuild`: each replica against its source: people's
//! employees, and for a service that keeps one, org's companies, locations and
//! calendars. `check` also holds auth's accounts against people's employees (email,
//! role, whether active), which change together through people's sagas.

use std::collections::BTreeMap;

use anyhow::Context as _;
use roster_events::Employee;
use roster_replica::{Drift, OrgRows, Replica, Row, compare};
use roster_service::ServiceDb;
use time::OffsetDateTime;
use uuid::Uuid;

use super::open_migrated;
use crate::{ReplicasAction, SERVICES, org_replicas, replicas};

pub(crate) async fn run(
    config: &roster_config::Config,
    action: ReplicasAction,
) -> anyhow::Result<()> {
    let people = open_service(config, roster_people::SERVICE.name).await?;
    let org = open_service(config, roster_org::SERVICE.name).await?;
    let result = match action {
        ReplicasAction::Check { service } => check(config, &people, &org, service.as_deref()).await,
        ReplicasAction::Rebuild { service } => rebuild(config, &people, &org, &service).await,
    };
    people.close().await;
    org.close().await;
    result
}

/// Every company, location and calendar of org, as the events of their latest state.
async fn org_sources(org: &ServiceDb) -> anyhow::Result<Vec<(Uuid, u64, roster_events::Event)>> {
    roster_org::store::sources(org)
        .await
        .context("org: cannot read the companies, locations and calendars")
}

fn org_replica_of(name: &str) -> Option<roster_replica::OrgReplica> {
    org_replicas().find(|(n, _)| *n == name).map(|(_, r)| r)
}

async fn open_service(config: &roster_config::Config, name: &str) -> anyhow::Result<ServiceDb> {
    let def = SERVICES
        .iter()
        .find(|s| s.name == name)
        .with_context(|| format!("no service is called {name}"))?;
    open_migrated(config, def).await
}

fn replica_of(name: &str) -> anyhow::Result<Replica> {
    replicas()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| r)
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
    org: &ServiceDb,
    only: Option<&str>,
) -> anyhow::Result<()> {
    let sources = sources(people).await?;
    let org_sources = org_sources(org).await?;
    let mut drifted = Vec::new();
    for (name, replica) in replicas().filter(|(n, _)| only.is_none_or(|o| o == *n)) {
        let db = open_service(config, name).await?;
        let have = replica.rows(&db).await;
        let org_have = match org_replica_of(name) {
            Some(org) => Some((org, org.rows(&db).await)),
            None => None,
        };
        db.close().await;
        let have = have.with_context(|| format!("{name}: cannot read its replica"))?;
        let want: BTreeMap<Uuid, Row> = sources
            .iter()
            .map(|(revision, employee)| (employee.id, replica.project(*revision, employee)))
            .collect();
        let drift = compare(&want, &have);
        report(name, "people", "employees", want.len(), &drift);
        let mut in_step = drift.is_empty();
        if let Some((org, have)) = org_have {
            let have = have.with_context(|| format!("{name}: cannot read its copy of org"))?;
            in_step &= check_org(name, &org.project(&org_sources), &have);
        }
        if !in_step {
            drifted.push(name);
        }
    }
    if only.is_none_or(|o| o == roster_auth::SERVICE.name)
        && !accounts_in_step(config, &sources).await?
    {
        drifted.push(roster_auth::SERVICE.name);
    }
    match drifted.is_empty() {
        true => Ok(()),
        false => anyhow::bail!(
            "replicas differ from their source: {} (events in flight show as behind; `roster replicas rebuild <service>` repairs the rest)",
            drifted.join(", ")
        ),
    }
}

/// What of an account follows its employee.
fn account_row(company_id: Uuid, email: &str, role: &str, active: bool) -> Row {
    Row {
        company_id,
        // Each service numbers its own changes: only the values are compared.
        revision: 0,
        values: BTreeMap::from([
            ("email", Some(email.to_owned())),
            ("role", Some(role.to_owned())),
            ("active", Some(active.to_string())),
        ]),
    }
}

/// Reports auth's accounts against people's employees; answers whether they agree.
async fn accounts_in_step(
    config: &roster_config::Config,
    sources: &[(u64, Employee)],
) -> anyhow::Result<bool> {
    let auth = open_service(config, roster_auth::SERVICE.name).await?;
    let accounts = roster_auth::store::accounts::all(&auth).await;
    auth.close().await;
    let have: BTreeMap<Uuid, Row> = accounts
        .context("auth: cannot read the accounts")?
        .iter()
        .map(|a| (a.id, account_row(a.company_id, &a.email, &a.role, a.active)))
        .collect();
    let want: BTreeMap<Uuid, Row> = sources
        .iter()
        .map(|(_, e)| {
            let row = account_row(e.company_id, &e.email, &e.role, e.is_active());
            (e.id, row)
        })
        .collect();
    let drift = compare(&want, &have);
    report("auth", "people", "accounts", want.len(), &drift);
    Ok(drift.is_empty())
}

/// Reports each table of a copy of org against org; answers whether all are in step.
fn check_org(service: &str, want: &OrgRows, have: &OrgRows) -> bool {
    let mut in_step = true;
    for (table, wanted) in want {
        let held = have.get(table).cloned().unwrap_or_default();
        let drift = compare(wanted, &held);
        let what = table.trim_start_matches("org_");
        report(service, "org", what, wanted.len(), &drift);
        in_step &= drift.is_empty();
    }
    in_step
}

#[allow(clippy::print_stdout)]
fn report(service: &str, source: &str, what: &str, count: usize, drift: &Drift) {
    if drift.is_empty() {
        println!("{service}: {count} {what}, in step with {source}");
        return;
    }
    println!(
        "{service}: {what}: {} missing, {} extra, {} behind, {} different ({source} has {count})",
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
        println!("  behind     {id}: revision {have}, {source} has {want}");
    }
    for (id, fields) in &drift.different {
        println!("  different  {id}: {}", fields.join(", "));
    }
}

#[allow(clippy::print_stdout)]
async fn rebuild(
    config: &roster_config::Config,
    people: &ServiceDb,
    org: &ServiceDb,
    service: &str,
) -> anyhow::Result<()> {
    let replica = replica_of(service)?;
    let db = open_service(config, service).await?;
    // Taken before the source is read: a row an event writes after it is newer than
    // what the source shows, and stays.
    let since = OffsetDateTime::now_utc();
    let sources = sources(people).await?;
    let rebuilt = replica.rebuild(&db, &sources, since).await;
    let org_rebuilt = match org_replica_of(service) {
        Some(copy) => match org_sources(org).await {
            Ok(org_sources) => Some(
                copy.rebuild(&db, &org_sources, since)
                    .await
                    .map(|done| (done, org_sources.len()))
                    .with_context(|| format!("{service}: cannot rebuild its copy of org")),
            ),
            Err(e) => Some(Err(e)),
        },
        None => None,
    };
    db.close().await;
    let (written, deleted) =
        rebuilt.with_context(|| format!("{service}: cannot rebuild its replica"))?;
    println!(
        "{service}: replica rebuilt from people's {} employees: {written} written, {deleted} deleted",
        sources.len()
    );
    if let Some(org_rebuilt) = org_rebuilt {
        let ((written, deleted), count) = org_rebuilt?;
        println!(
            "{service}: copy of org rebuilt from its {count} companies, locations and calendars: {written} written, {deleted} deleted"
        );
    }
    Ok(())
}
