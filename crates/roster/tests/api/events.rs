//! Invariants 2, 3, 4 and 7, on the embedded bus (SQLite) and on NATS JetStream
//! (PostgreSQL): events recorded with a change reach their consumer once, in each
//! aggregate's order, whatever the order they arrive in and however often; an event
//! that always fails goes to dead letters without holding up the others, and comes
//! back out of them once its handler works.
//!
//! A `source` service records events in its outbox as people does; a `probe` service
//! consumes them and writes one `effects` row per application, so an event applied
//! twice, or out of order, shows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use roster_bus::outbox::Pending;
use roster_bus::{
    Bus, Consumer, Handler, NatsBus, Retried, dead, inbox_migrations, outbox, outbox_migrations,
};
use roster_config::BusKind;
use roster_events::{Employee, Envelope, Event, NewEvent};
use roster_migrate::prelude::*;
use roster_migrate::schema::{big_integer, big_pk_auto, uuid};
use roster_migrate::{Migrations, drop_tables};
use roster_service::{Consumes, ServiceDb, ServiceDef, nothing_to_start};
use roster_storage::Scope;
use roster_testing::{Installation, TestApp, Topology, postgres_topology_tests, topology_tests};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};
use uuid::Uuid;

use crate::eventually;

/// Events (aggregate, sequence) that the probe refuses, as a handler with a bug would.
static POISONED: Mutex<BTreeSet<(Uuid, u64)>> = Mutex::new(BTreeSet::new());

/// Events (aggregate, sequence) whose next tries the database interrupts, as a
/// deadlock or a serialization failure would, with how many tries are left to fail.
static INTERRUPTED: Mutex<BTreeMap<(Uuid, u64), u32>> = Mutex::new(BTreeMap::new());

struct Probe;

#[async_trait::async_trait]
impl Handler for Probe {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
        _: &Event,
    ) -> anyhow::Result<()> {
        let key = (envelope.aggregate_id, envelope.sequence);
        if POISONED.lock().unwrap().contains(&key) {
            anyhow::bail!("the probe refuses {}", envelope.aggregate_id);
        }
        let insert = Query::insert()
            .into_table(Alias::new("effects"))
            .columns([
                Alias::new("event_id"),
                Alias::new("aggregate_id"),
                Alias::new("sequence"),
            ])
            .values_panic([
                envelope.id.into(),
                envelope.aggregate_id.into(),
                <i64 as TryFrom<u64>>::try_from(envelope.sequence)?.into(),
            ])
            .to_owned();
        let interrupt = match INTERRUPTED.lock().unwrap().get_mut(&key) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        };
        if interrupt {
            use anyhow::Context as _;
            // A real serialization failure (SQLSTATE 40001) from the server, wrapped as
            // a store would wrap it.
            txn.execute_unprepared(
                "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' \
                 USING ERRCODE = '40001'; END $$",
            )
            .await
            .context("writing the effect")?;
        }
        txn.execute(&insert).await?;
        Ok(())
    }
}

static PROBE: Probe = Probe;

struct Effects;

impl MigrationName for Effects {
    fn name(&self) -> &str {
        "m20261123_000005_effects"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Effects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("effects"))
                    .col(big_pk_auto(Alias::new("n")))
                    .col(uuid(Alias::new("event_id")))
                    .col(uuid(Alias::new("aggregate_id")))
                    .col(big_integer(Alias::new("sequence")))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, [Alias::new("effects").into_iden()]).await
    }
}

fn source_migrations() -> Migrations {
    outbox_migrations(
        "m20261123_000001_outbox",
        "m20261123_000002_outbox_policies",
    )
}

fn probe_migrations() -> Migrations {
    let mut all = inbox_migrations("m20261123_000001_inbox", "m20261123_000002_inbox_policies");
    all.push(Box::new(Effects));
    all
}

const SOURCE: ServiceDef = ServiceDef {
    name: "source",
    migrations: source_migrations,
    routes: |_| roster_service::OpenApiRouter::new(),
    access: &[],
    start: nothing_to_start,
    publishes: true,
    consumes: None,
    doctor: roster_service::nothing_to_check,
    retained: &[],
    keeps: roster_service::Keeps::NOTHING,
};

const PROBE_SERVICE: ServiceDef = ServiceDef::consumer_only(
    "probe",
    probe_migrations,
    Consumes {
        from: &["source"],
        handler: &PROBE,
    },
);

const ATTEMPTS: u32 = 3;

async fn spawn(topology: Topology) -> Option<TestApp> {
    spawn_waiting(topology, 60).await
}

/// The source and the probe, with the probe waiting `gap_timeout_secs` for a missing
/// event before it goes on without it.
async fn spawn_waiting(topology: Topology, gap_timeout_secs: u64) -> Option<TestApp> {
    let services = [SOURCE, PROBE_SERVICE];
    let mut installation = Installation::create(topology, &services).await?;
    let events = &mut installation.config_mut().events;
    events.max_attempts = ATTEMPTS;
    events.retry_backoff_ms = 20;
    events.gap_timeout_secs = gap_timeout_secs;
    Some(TestApp::spawn_on(installation, &services).await)
}

/// An event of aggregate `id` with its place `sequence`.
fn event(id: Uuid, sequence: u64) -> NewEvent {
    let company_id = Uuid::from_u128(1);
    NewEvent {
        event: Event::EmployeeUpdated(Employee {
            id,
            company_id,
            email: format!("e{sequence}@example.com"),
            name: "Pat".into(),
            surname: "Doe".into(),
            role: "employee".into(),
            position: None,
            phone: None,
            manager_id: None,
            hire_date: None,
            status: "active".into(),
            team_ids: Vec::new(),
        }),
        aggregate_id: id,
        sequence,
        company_id,
    }
}

/// Records events in the source's outbox in one transaction, in the order given.
async fn record(db: &ServiceDb, events: Vec<NewEvent>) {
    let txn = db.begin_write(Scope::AllCompanies).await.unwrap();
    outbox::record(&txn, events).await.unwrap();
    outbox::commit(db, txn).await.unwrap();
}

/// Every effect, in the order they were applied: (event id, aggregate, sequence).
async fn effects(db: &ServiceDb) -> Vec<(Uuid, Uuid, i64)> {
    let txn = db.read(Scope::AllCompanies).await.unwrap();
    let rows = txn
        .query_all_raw(Statement::from_string(
            txn.get_database_backend(),
            "SELECT event_id, aggregate_id, sequence FROM effects ORDER BY n",
        ))
        .await
        .unwrap();
    rows.into_iter()
        .map(|row| {
            (
                row.try_get("", "event_id").unwrap(),
                row.try_get("", "aggregate_id").unwrap(),
                row.try_get("", "sequence").unwrap(),
            )
        })
        .collect()
}

/// Each event's effects, by aggregate, in the order applied; every event at most once.
async fn applied(db: &ServiceDb) -> BTreeMap<Uuid, Vec<i64>> {
    let all = effects(db).await;
    let ids: BTreeSet<Uuid> = all.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids.len(), all.len(), "an event was applied twice: {all:?}");
    let mut by_aggregate: BTreeMap<Uuid, Vec<i64>> = BTreeMap::new();
    for (_, aggregate, sequence) in all {
        by_aggregate.entry(aggregate).or_default().push(sequence);
    }
    by_aggregate
}

async fn each_event_once_in_order_whatever_the_arrival(topology: Topology) {
    let Some(app) = spawn(topology).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let aggregates: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    // Each aggregate's events recorded out of their order, interleaved with the
    // others': the consumer must put them back in order.
    let mut scrambled = Vec::new();
    for sequence in [3, 1, 5, 2, 4] {
        for id in &aggregates {
            scrambled.push(event(*id, sequence));
        }
    }
    record(source, scrambled).await;
    let want: Vec<i64> = vec![1, 2, 3, 4, 5];
    eventually("every event applied", || async {
        let now = applied(probe).await;
        now.len() == aggregates.len() && now.values().all(|s| s.len() == 5)
    })
    .await;
    for (id, sequences) in applied(probe).await {
        assert_eq!(sequences, want, "aggregate {id} applied out of order");
    }

    // The same events published again (a replay: NATS gets them under new message
    // ids, so they reach the consumer) change nothing.
    let republished = outbox::replay(source, time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(republished, 30);
    eventually("the replay published", || async {
        outbox::backlog(source).await.unwrap() == 0
    })
    .await;
    // A later event shows that the consumer has seen everything published before it.
    let marker = Uuid::now_v7();
    record(source, vec![event(marker, 1)]).await;
    eventually("the marker applied", || async {
        applied(probe).await.contains_key(&marker)
    })
    .await;
    let after = applied(probe).await;
    assert_eq!(after.len(), aggregates.len() + 1);
    assert!(
        aggregates.iter().all(|id| after[id] == want),
        "a replayed event was applied again: {after:?}"
    );
}

async fn a_poison_event_is_dead_lettered_then_retried(topology: Topology) {
    let Some(app) = spawn(topology).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let (poison, healthy) = (Uuid::now_v7(), Uuid::now_v7());
    POISONED.lock().unwrap().insert((poison, 1));
    record(source, vec![event(poison, 1), event(healthy, 1)]).await;
    record(source, vec![event(healthy, 2)]).await;

    eventually("the poison event in dead letters", || async {
        dead::count(probe).await.unwrap() == 1
    })
    .await;
    let letters = dead::list(probe).await.unwrap();
    let letter = &letters[0];
    assert_eq!(letter.aggregate_id, poison);
    assert_eq!(letter.attempts, ATTEMPTS as i32);
    assert!(
        letter.error.contains("the probe refuses"),
        "{}",
        letter.error
    );
    eventually("the events after it applied", || async {
        applied(probe).await.get(&healthy) == Some(&vec![1, 2])
    })
    .await;
    // Its aggregate moved past it: its next event flows.
    record(source, vec![event(poison, 2)]).await;
    eventually("the poisoned aggregate's next event", || async {
        applied(probe).await.get(&poison) == Some(&vec![2])
    })
    .await;

    // Still broken: the retry fails and counts.
    let consumer = Consumer::new(probe.clone(), &PROBE, app.config().events.clone());
    let again = consumer.retry_dead_letter(letter.event_id).await;
    assert!(again.is_err(), "{again:?}");
    assert_eq!(
        dead::list(probe).await.unwrap()[0].attempts,
        ATTEMPTS as i32 + 1
    );
    // Fixed: the retry applies it once and empties the dead letters.
    POISONED.lock().unwrap().remove(&(poison, 1));
    let retried = consumer.retry_dead_letter(letter.event_id).await.unwrap();
    assert_eq!(retried, Retried::AppliedAfter { sequence: 2 });
    assert_eq!(dead::count(probe).await.unwrap(), 0);
    assert_eq!(applied(probe).await[&poison], vec![2, 1]);
    assert!(
        consumer.retry_dead_letter(letter.event_id).await.is_err(),
        "a dead letter is retried once"
    );
}

async fn what_cannot_be_decoded_is_dead_lettered_with_the_reason(topology: Topology) {
    let Some(app) = spawn(topology).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let (newer, unknown, after) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    // The one from the future is its aggregate's second event and arrives before the
    // first: it waits for it, which is applied, and goes to dead letters in its turn;
    // the third comes after it.
    let mut from_the_future = event(newer, 2).into_envelope(None);
    from_the_future.version = 9;
    let mut never_heard_of = event(unknown, 1).into_envelope(None);
    never_heard_of.kind = "people.employee.teleported".into();
    let txn = source.begin_write(Scope::AllCompanies).await.unwrap();
    outbox::record_envelopes(&txn, &[from_the_future, never_heard_of])
        .await
        .unwrap();
    outbox::record(&txn, [event(newer, 1), event(after, 1)])
        .await
        .unwrap();
    outbox::commit(source, txn).await.unwrap();
    record(source, vec![event(newer, 3)]).await;

    eventually("the events around them applied", || async {
        let now = applied(probe).await;
        now.contains_key(&after) && now.get(&newer) == Some(&vec![1, 3])
    })
    .await;
    let letters = dead::list(probe).await.unwrap();
    let reason = |id: Uuid| {
        letters
            .iter()
            .find(|l| l.aggregate_id == id)
            .map(|l| (l.error.clone(), l.attempts))
    };
    assert_eq!(
        reason(newer),
        Some((
            "people.employee.updated version 9 is unknown: this version of Roster handles v1"
                .to_owned(),
            1
        ))
    );
    assert_eq!(
        reason(unknown),
        Some((
            "unknown event type people.employee.teleported: this version of Roster does not know it"
                .to_owned(),
            1
        ))
    );
}

/// An event that arrives after its aggregate went on without it (its successor waited
/// the gap timeout, then was applied) goes to dead letters with the reason, never
/// dropped as if it had been applied; a retry applies it.
async fn an_event_passed_while_missing_is_dead_lettered(topology: Topology) {
    let Some(app) = spawn_waiting(topology, 1).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let late = Uuid::now_v7();
    record(source, vec![event(late, 2)]).await;
    eventually("the second event applied without the first", || async {
        applied(probe).await.get(&late) == Some(&vec![2])
    })
    .await;
    let first = event(late, 1).into_envelope(None);
    let txn = source.begin_write(Scope::AllCompanies).await.unwrap();
    outbox::record_envelopes(&txn, std::slice::from_ref(&first))
        .await
        .unwrap();
    outbox::commit(source, txn).await.unwrap();
    eventually("the late event in dead letters", || async {
        dead::count(probe).await.unwrap() == 1
    })
    .await;
    let letter = &dead::list(probe).await.unwrap()[0];
    assert_eq!(letter.event_id, first.id);
    assert!(
        letter
            .error
            .contains("arrived after its aggregate had gone on without it to sequence 2"),
        "{}",
        letter.error
    );
    let consumer = Consumer::new(probe.clone(), &PROBE, app.config().events.clone());
    let retried = consumer.retry_dead_letter(first.id).await.unwrap();
    assert_eq!(retried, Retried::AppliedAfter { sequence: 2 });
    assert_eq!(applied(probe).await[&late], vec![2, 1]);
}

/// A transaction the database interrupts for a reason of the moment (a deadlock, a
/// serialization failure, a statement timeout) is retried like an outage, without
/// counting: twice the attempts of a poison event, and still applied, once.
async fn interrupted_transactions_are_retried_not_dead_lettered(topology: Topology) {
    let Some(app) = spawn(topology).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let interrupted = Uuid::now_v7();
    INTERRUPTED
        .lock()
        .unwrap()
        .insert((interrupted, 1), ATTEMPTS * 2);
    record(source, vec![event(interrupted, 1)]).await;
    eventually("the interrupted event applied", || async {
        applied(probe).await.get(&interrupted) == Some(&vec![1])
    })
    .await;
    assert_eq!(INTERRUPTED.lock().unwrap()[&(interrupted, 1)], 0);
    assert_eq!(dead::count(probe).await.unwrap(), 0);
}

/// Two transactions whose outbox rows are numbered in one order and committed in the
/// other: the relay must deliver both, whatever it has published between.
async fn out_of_order_commits_are_both_delivered(topology: Topology) {
    let Some(app) = spawn(topology).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let early = source.begin_write(Scope::AllCompanies).await.unwrap();
    outbox::record(&early, [event(first, 1)]).await.unwrap();
    record(source, vec![event(second, 1)]).await;
    eventually("the later-numbered event delivered", || async {
        applied(probe).await.contains_key(&second)
    })
    .await;
    outbox::commit(source, early).await.unwrap();
    eventually("the earlier-numbered event delivered", || async {
        applied(probe).await.contains_key(&first)
    })
    .await;
}

/// NATS keeps one copy of an event published twice (a relay that crashed between the
/// publish and marking the row publishes it again): the stream deduplicates on
/// `Nats-Msg-Id`. A replay is published under an id of its own and kept.
async fn the_stream_keeps_one_copy_of_an_event_published_twice(topology: Topology) {
    let Some(installation) = Installation::create(topology, &[SOURCE, PROBE_SERVICE]).await else {
        return;
    };
    let config = installation.config();
    if config.bus.kind != BusKind::Nats {
        return; // No NATS named, and none required: the embedded bus has no stream.
    }
    let bus = NatsBus::connect(&config.bus).await.unwrap();
    bus.declare(SOURCE.name).await.unwrap();
    let envelope = event(Uuid::now_v7(), 1).into_envelope(None);
    let pending = Pending::new(1, &envelope, 0);
    bus.publish(SOURCE.name, std::slice::from_ref(&pending))
        .await
        .unwrap();
    bus.publish(SOURCE.name, std::slice::from_ref(&pending))
        .await
        .unwrap();
    let client = async_nats::connect(config.bus.url.as_ref().unwrap().expose().as_str())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(format!("{}_{}", config.bus.prefix, SOURCE.name))
        .await
        .unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 1);

    let replayed = Pending {
        publications: 1,
        ..pending
    };
    bus.publish(SOURCE.name, &[replayed]).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 2);
}

/// The positions decide what is applied, and the inbox stands behind them: should an
/// aggregate's position be lost, an event it had applied that comes again is refused
/// (and, after its attempts, dead-lettered with the reason), never applied twice.
async fn an_event_in_the_inbox_is_never_applied_again_even_if_its_position_is_lost(
    topology: Topology,
) {
    let Some(app) = spawn(topology).await else {
        return;
    };
    let (source, probe) = (app.db("source"), app.db("probe"));
    let lost = Uuid::now_v7();
    record(source, vec![event(lost, 1)]).await;
    eventually("the event applied", || async {
        applied(probe).await.contains_key(&lost)
    })
    .await;
    let txn = probe.begin_write(Scope::AllCompanies).await.unwrap();
    let forget = Query::delete()
        .from_table(Alias::new("event_positions"))
        .and_where(sea_orm::sea_query::Expr::col(Alias::new("aggregate_id")).eq(lost))
        .to_owned();
    assert_eq!(txn.execute(&forget).await.unwrap().rows_affected(), 1);
    txn.commit().await.unwrap();

    outbox::replay(source, time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    eventually("the event delivered again in dead letters", || async {
        dead::count(probe).await.unwrap() == 1
    })
    .await;
    let letter = &dead::list(probe).await.unwrap()[0];
    assert_eq!(letter.aggregate_id, lost);
    assert!(
        letter
            .error
            .contains("is in the inbox but its aggregate's position is behind it"),
        "{}",
        letter.error
    );
    assert_eq!(applied(probe).await[&lost], vec![1], "applied once only");
}

topology_tests!(
    each_event_once_in_order_whatever_the_arrival,
    a_poison_event_is_dead_lettered_then_retried,
    what_cannot_be_decoded_is_dead_lettered_with_the_reason,
    an_event_passed_while_missing_is_dead_lettered,
    an_event_in_the_inbox_is_never_applied_again_even_if_its_position_is_lost,
);
/// SQLite takes one writer at a time, so its commits cannot cross.
mod commits {
    use super::*;

    postgres_topology_tests!(out_of_order_commits_are_both_delivered);
}
/// PostgreSQL is where a transaction is interrupted for a reason of the moment (SQLite
/// runs one writer at a time, and a busy one counts as an outage already).
mod interrupted {
    use super::*;

    postgres_topology_tests!(interrupted_transactions_are_retried_not_dead_lettered);
}
/// The embedded bus has no stream to deduplicate in.
mod stream {
    use super::*;

    postgres_topology_tests!(the_stream_keeps_one_copy_of_an_event_published_twice);
}
