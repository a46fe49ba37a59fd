//! `roster events dead | tail | replay`.

use std::time::Duration;

use anyhow::Context as _;
use roster_bus::{Consumer, Retried, dead, outbox};
use roster_config::Config;
use roster_events::{Envelope, Event};
use roster_service::{ServiceDb, ServiceDef, shutdown_signal};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::open_migrated;
use crate::{DeadAction, EventsAction, SERVICES};

/// How often `tail` looks for newly published events.
const TAIL_POLL: Duration = Duration::from_millis(200);

pub(crate) async fn run(config: &Config, action: EventsAction) -> anyhow::Result<()> {
    match action {
        EventsAction::Dead { action } => match action {
            DeadAction::List { service } => list(config, service.as_deref()).await,
            DeadAction::Retry { id, service } => retry(config, id, service.as_deref()).await,
            DeadAction::Discard { id, service } => discard(config, id, service.as_deref()).await,
        },
        EventsAction::Tail { service } => tail(config, service.as_deref()).await,
        EventsAction::Replay { service, from } => replay(config, &service, from).await,
    }
}

fn consumers(only: Option<&str>) -> impl Iterator<Item = &'static ServiceDef> {
    SERVICES
        .iter()
        .filter(move |s| s.consumes.is_some() && only.is_none_or(|o| o == s.name))
}

fn producers(only: Option<&str>) -> impl Iterator<Item = &'static ServiceDef> {
    SERVICES
        .iter()
        .filter(move |s| s.publishes && only.is_none_or(|o| o == s.name))
}

fn time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[allow(clippy::print_stdout)]
async fn list(config: &Config, only: Option<&str>) -> anyhow::Result<()> {
    let mut total = 0;
    for def in consumers(only) {
        let db = open_migrated(config, def).await?;
        let letters = dead::list(&db).await;
        db.close().await;
        let letters =
            letters.with_context(|| format!("{}: cannot read its dead letters", def.name))?;
        for letter in &letters {
            println!(
                "{}  {}  {} {} company {}  {} attempts, last {}\n    {}",
                def.name,
                letter.event_id,
                letter.kind,
                letter.aggregate_id,
                letter.company_id,
                letter.attempts,
                time(letter.last_failed_at),
                letter.error
            );
        }
        total += letters.len();
    }
    println!("{total} dead letters");
    Ok(())
}

/// Does `act` on dead letter `id` in every consumer (of `only`) that holds it, each
/// with its database open; prints what each did, and fails with one line naming
/// every consumer where it failed.
#[allow(clippy::print_stdout)]
async fn on_holders<F>(config: &Config, id: Uuid, only: Option<&str>, act: F) -> anyhow::Result<()>
where
    F: AsyncFn(&'static ServiceDef, &ServiceDb) -> anyhow::Result<String>,
{
    let mut held = 0;
    let mut failures = Vec::new();
    for def in consumers(only) {
        let db = open_migrated(config, def).await?;
        let result = match dead::find(&db, id).await {
            Ok(None) => None,
            Ok(Some(_)) => Some(act(def, &db).await),
            Err(e) => Some(Err(
                anyhow::Error::new(e).context("cannot read its dead letters")
            )),
        };
        db.close().await;
        match result {
            None => {}
            Some(Ok(done)) => {
                held += 1;
                println!("{}: {done}", def.name);
            }
            Some(Err(e)) => {
                held += 1;
                failures.push(format!("{}: {e:#}", def.name));
            }
        }
    }
    if held == 0 {
        anyhow::bail!("no consumer has a dead letter {id}; `roster events dead list` shows them");
    }
    if !failures.is_empty() {
        anyhow::bail!("{}", failures.join("; "));
    }
    Ok(())
}

async fn retry(config: &Config, id: Uuid, only: Option<&str>) -> anyhow::Result<()> {
    on_holders(config, id, only, async |def, db| {
        let consumes = def
            .consumes
            .with_context(|| format!("{} consumes no events", def.name))?;
        let consumer = Consumer::new(db.clone(), consumes.handler, config.events.clone());
        match consumer
            .retry_dead_letter(id)
            .await
            .with_context(|| format!("dead letter {id} was not applied"))?
        {
            Retried::Applied => Ok(format!("applied {id}")),
            Retried::AppliedAfter { sequence } => Ok(format!(
                "applied {id} after its aggregate's later events (to sequence {sequence}): \
                 the service reacted to it, and its copy kept their newer state"
            )),
            Retried::AlreadyApplied => Ok(format!(
                "{id} had been applied since; its dead letter is removed"
            )),
        }
    })
    .await
}

async fn discard(config: &Config, id: Uuid, only: Option<&str>) -> anyhow::Result<()> {
    on_holders(config, id, only, async |_, db| {
        dead::discard(db, id)
            .await
            .with_context(|| format!("cannot discard {id}"))?;
        Ok(format!("discarded {id} without applying it"))
    })
    .await
}

#[allow(clippy::print_stdout)]
async fn replay(config: &Config, service: &str, from: OffsetDateTime) -> anyhow::Result<()> {
    let def = producers(Some(service))
        .next()
        .with_context(|| format!("{service} publishes no events"))?;
    let db = open_migrated(config, def).await?;
    let marked = outbox::replay(&db, from).await;
    db.close().await;
    let marked = marked.with_context(|| format!("{service}: cannot mark its events"))?;
    println!(
        "{service}: {marked} events since {} will be published again by its relay",
        time(from)
    );
    Ok(())
}

/// One line for a person: when, what, which aggregate, and the gist of the payload.
fn line(envelope: &Envelope) -> String {
    let gist = match Event::decode(envelope) {
        Ok(event) => match event.employee() {
            Some(e) => format!(
                "{} {} <{}> {} {}",
                e.name, e.surname, e.email, e.role, e.status
            ),
            None => compact(&envelope.payload),
        },
        Err(e) => format!("({e})"),
    };
    let trace = envelope
        .trace
        .as_ref()
        .and_then(|t| t.trace_id())
        .map(|id| format!(" trace {id}"))
        .unwrap_or_default();
    format!(
        "{}  {} v{}  {} #{}  company {}{trace}  {gist}",
        time(envelope.occurred_at),
        envelope.kind,
        envelope.version,
        envelope.aggregate_id,
        envelope.sequence,
        envelope.company_id,
    )
}

fn compact(payload: &roster_events::Payload) -> String {
    let text = payload.get();
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[allow(clippy::print_stdout)]
async fn tail(config: &Config, only: Option<&str>) -> anyhow::Result<()> {
    let stop = shutdown_signal();
    let mut followed = Vec::new();
    for def in producers(only) {
        // From now on: what was published before is not shown.
        let start = (OffsetDateTime::now_utc(), i64::MAX);
        followed.push((open_migrated(config, def).await?, start));
    }
    let names: Vec<&str> = producers(only).map(|d| d.name).collect();
    println!(
        "following the events of {} (Ctrl-C stops)",
        names.join(", ")
    );
    let follow = async {
        loop {
            for (db, mark) in &mut followed {
                let batch = outbox::published_after(db, Some(*mark), 500)
                    .await
                    .with_context(|| format!("{}: cannot read its outbox", db.service()))?;
                for (at, envelope) in batch {
                    println!("{}", line(&envelope));
                    *mark = at;
                }
            }
            tokio::time::sleep(TAIL_POLL).await;
        }
    };
    let result: anyhow::Result<()> = tokio::select! {
        result = follow => result,
        () = stop => Ok(()),
    };
    for (db, _) in followed {
        db.close().await;
    }
    result
}
