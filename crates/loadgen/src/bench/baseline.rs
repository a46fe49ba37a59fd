//! What the database alone does on this machine, in the same run, so that every figure
//! of Roster's is also a ratio: on PostgreSQL, `pgbench -S -M prepared` (reads) and a
//! pgbench script of a check-in's writes, its row and its outbox row in one
//! transaction (writes), at the same concurrency; on SQLite the same statements in a
//! loop of Rust over the same pools Roster opens.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use roster_config::StorageMode;
use roster_events::{Checkin, Event, NewEvent};
use roster_storage::{Location, Scope, ServiceDb};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::process::Command;
use uuid::Uuid;

use super::Target;
use super::load::Load;
use crate::seed;

/// The database's own rates, with what was run for them.
#[derive(Debug, Clone)]
pub(crate) struct Baseline {
    pub reads_per_sec: f64,
    pub reads: String,
    pub writes_per_sec: f64,
    pub writes: String,
}

impl Baseline {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "reads": {"what": self.reads, "per_sec": self.reads_per_sec},
            "writes": {"what": self.writes, "per_sec": self.writes_per_sec},
        })
    }
}

/// Measures the baseline of the target's storage at `clients` for `duration`; on
/// PostgreSQL the select-only baseline reads pgbench's tables at `scale`.
pub(crate) async fn measure(
    target: &Target,
    databases: &[ServiceDb],
    pgbench: &Path,
    scale: u32,
    clients: u32,
    duration: Duration,
) -> anyhow::Result<Baseline> {
    match target.config.storage.mode {
        StorageMode::Sqlite => sqlite(target, databases, clients, duration).await,
        StorageMode::PostgresPerService | StorageMode::PostgresSchemas => {
            // pgbench's clients need the connections these pools would hold idle.
            for db in databases {
                db.close().await;
            }
            postgres(target, pgbench, scale, clients, duration).await
        }
    }
}

async fn postgres(
    target: &Target,
    pgbench: &Path,
    scale: u32,
    clients: u32,
    duration: Duration,
) -> anyhow::Result<Baseline> {
    let service = roster_presence::SERVICE.name;
    let Location::Postgres(presence) =
        Location::resolve(service, target.config.storage_for(service))
    else {
        bail!("presence is not on PostgreSQL");
    };
    let admin = target
        .config
        .storage
        .url
        .clone()
        .context("the PostgreSQL topologies have a URL")?;
    let url_of = |database: &str| {
        let mut url = admin.expose().clone();
        url.set_path(&format!("/{database}"));
        url.to_string()
    };
    let threads = clients.min(2).to_string();
    let seconds = duration.as_secs().max(1).to_string();
    let clients = clients.to_string();

    // Reads: pgbench's own tables in a database of the benchmark's.
    let scratch = format!("{}_pgbench", target.config.storage.prefix);
    let maintenance = url_of(&presence.maintenance_db);
    psql(&maintenance, &format!("CREATE DATABASE {scratch}"), None).await?;
    let reads = async {
        let scale = scale.to_string();
        pgbench_run(
            pgbench,
            &["-i", "-q", "-s", &scale],
            &url_of(&scratch),
            None,
        )
        .await?;
        let args = [
            "-n", "-S", "-M", "prepared", "-c", &clients, "-j", &threads, "-T", &seconds,
        ];
        pgbench_run(pgbench, &args, &url_of(&scratch), None).await
    }
    .await;
    psql(&maintenance, &format!("DROP DATABASE {scratch}"), None).await?;
    let reads_per_sec = tps(&reads?)?;

    // Writes: a check-in's row and its outbox row, into copies of presence's tables
    // (their columns, defaults and indexes) beside them.
    let database = url_of(&presence.database);
    let schema = Some(presence.schema.as_str());
    psql(
        &database,
        "CREATE TABLE bench_checkins (LIKE checkins INCLUDING ALL); \
         CREATE TABLE bench_outbox (LIKE outbox INCLUDING ALL);",
        schema,
    )
    .await?;
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let script = dir.path().join("checkin.sql");
    std::fs::write(&script, CHECKIN_SCRIPT).context("cannot write the pgbench script")?;
    let script_arg = script.display().to_string();
    let company = format!("company={}", Uuid::now_v7());
    let envelope = format!("envelope={}", sample_event().into_envelope(None).to_json());
    let args = [
        "-n",
        "-M",
        "prepared",
        "-f",
        &script_arg,
        "-D",
        &company,
        "-D",
        &envelope,
        "-c",
        &clients,
        "-j",
        &threads,
        "-T",
        &seconds,
    ];
    let writes = pgbench_run(pgbench, &args, &database, schema).await;
    psql(
        &database,
        "DROP TABLE bench_checkins; DROP TABLE bench_outbox;",
        schema,
    )
    .await?;
    let writes_per_sec = tps(&writes?)?;
    Ok(Baseline {
        reads_per_sec,
        reads: format!("pgbench -S -M prepared -c {clients} -j {threads} (scale {scale})"),
        writes_per_sec,
        writes: format!(
            "pgbench -M prepared -c {clients} -j {threads}: a check-in's row and its outbox row in one transaction"
        ),
    })
}

/// The pgbench script of a check-in's writes; `company` and `envelope` (as big as a
/// real one's) are bound as parameters, as Roster binds them.
const CHECKIN_SCRIPT: &str = "BEGIN;
INSERT INTO bench_checkins (id, company_id, employee_id, kind, method, at, local_date, nfc_tag_id, recorded_by, created_at, updated_at, revision) \
VALUES (gen_random_uuid(), :company, gen_random_uuid(), 'in', 'nfc', now(), current_date, gen_random_uuid(), gen_random_uuid(), now(), now(), 1);
INSERT INTO bench_outbox (id, type, aggregate_id, company_id, occurred_at, envelope, publications) \
VALUES (gen_random_uuid(), 'presence.checkin.recorded', gen_random_uuid(), :company, now(), :envelope, 0);
END;
";

/// A check-in's event, as the service records it.
fn sample_event() -> NewEvent {
    let now = OffsetDateTime::now_utc();
    let id = Uuid::now_v7();
    let company_id = Uuid::now_v7();
    let payload = Checkin {
        id,
        employee_id: Uuid::now_v7(),
        kind: "in".to_owned(),
        method: "nfc".to_owned(),
        at: now,
        local_date: now.date(),
        shift_id: None,
        nfc_tag_id: Some(Uuid::now_v7()),
        location_id: Some(Uuid::now_v7()),
        changed_by: Uuid::now_v7(),
        previous_at: None,
    };
    NewEvent::at_revision(1, Event::CheckinRecorded(payload), id, company_id)
}

/// Runs SQL as the administrator, in `schema` when given.
async fn psql(url: &str, sql: &str, schema: Option<&str>) -> anyhow::Result<()> {
    let args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql];
    client(Path::new("psql"), &args, schema).await.map(drop)
}

/// Runs pgbench on `url` to its end: its output.
async fn pgbench_run(
    pgbench: &Path,
    args: &[&str],
    url: &str,
    schema: Option<&str>,
) -> anyhow::Result<String> {
    client(pgbench, &[args, &[url]].concat(), schema).await
}

/// Runs one of PostgreSQL's client programs to its end, in `schema` when given: its
/// output, or its error.
async fn client(program: &Path, args: &[&str], schema: Option<&str>) -> anyhow::Result<String> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    if let Some(schema) = schema {
        command.env("PGOPTIONS", format!("-c search_path={schema}"));
    }
    let output = command.output().await.with_context(|| {
        format!(
            "cannot run {} (PostgreSQL's client programs are needed for the baselines; give pgbench with --pgbench)",
            program.display()
        )
    })?;
    if !output.status.success() {
        bail!(
            "{}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The rate pgbench reports: `tps = 12345.6 (without initial connection time)`.
fn tps(output: &str) -> anyhow::Result<f64> {
    output
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("tps = ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .with_context(|| format!("pgbench reported no rate: {output}"))
}

async fn sqlite(
    target: &Target,
    databases: &[ServiceDb],
    clients: u32,
    duration: Duration,
) -> anyhow::Result<Baseline> {
    let load = Load {
        clients: clients as usize,
        duration,
    };
    // Reads: an employee by id from people's file, as many at once as clients.
    let people = seed::database(databases, roster_people::SERVICE.name)?;
    let ids: Vec<Uuid> = people
        .conn()
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT id FROM employees",
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get::<Uuid>("", "id").ok())
        .collect();
    if ids.is_empty() {
        bail!("people has no employee to read");
    }
    let (people, ids) = (Arc::new(people.clone()), Arc::new(ids));
    let reads = load
        .drive(
            move |_, n| {
                let (people, ids) = (Arc::clone(&people), Arc::clone(&ids));
                async move {
                    let id = ids[(n % ids.len() as u64) as usize];
                    let select = Statement::from_sql_and_values(
                        DbBackend::Sqlite,
                        "SELECT * FROM employees WHERE id = ?",
                        [id.into()],
                    );
                    people.conn().query_one_raw(select).await?;
                    Ok(())
                }
            },
            duration,
        )
        .await
        .per_second_without_errors()?;

    // Writes: a check-in's row and its outbox row in one write transaction, into a
    // copy of presence's file opened as Roster opens it (no relay runs on it).
    let source = seed::database(databases, roster_presence::SERVICE.name)?;
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let copy: PathBuf = dir
        .path()
        .join(format!("{}.db", roster_presence::SERVICE.name));
    source
        .conn()
        .execute_unprepared(&format!("VACUUM INTO '{}'", copy.display()))
        .await?;
    let mut storage = target.config.storage.clone();
    storage.dir = dir.path().to_owned();
    let presence = Arc::new(
        roster_storage::open(roster_presence::SERVICE.name, &storage)
            .await
            .context("cannot open the copy of presence")?,
    );
    let writes = load
        .drive(
            move |_, _| {
                let presence = Arc::clone(&presence);
                async move { checkin_writes(&presence).await }
            },
            duration,
        )
        .await
        .per_second_without_errors()?;
    Ok(Baseline {
        reads_per_sec: reads,
        reads: format!(
            "SELECT * FROM employees WHERE id = ? by {clients} tasks over people's pool"
        ),
        writes_per_sec: writes,
        writes: format!(
            "a check-in's row and its outbox row in one write transaction, by {clients} tasks over presence's pools"
        ),
    })
}

/// A check-in's row and its outbox row, in one write transaction.
async fn checkin_writes(presence: &ServiceDb) -> anyhow::Result<()> {
    use roster_presence::store::entities::checkin;
    let event = sample_event();
    let now = OffsetDateTime::now_utc();
    let txn = presence.begin_write(Scope::AllCompanies).await?;
    checkin::ActiveModel {
        id: Set(event.aggregate_id),
        company_id: Set(event.company_id),
        employee_id: Set(Uuid::now_v7()),
        kind: Set(roster_presence::domain::Kind::In),
        method: Set(roster_presence::domain::Method::Nfc),
        at: Set(now),
        local_date: Set(now.date()),
        nfc_tag_id: Set(Some(Uuid::now_v7())),
        location_id: Set(None),
        latitude: Set(None),
        longitude: Set(None),
        recorded_by: Set(Uuid::now_v7()),
        reason: Set(None),
        shift_id: Set(None),
        closed_by: Set(None),
        ended_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        revision: Set(1),
    }
    .insert(&txn)
    .await?;
    roster_bus::outbox::record(&txn, [event]).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_rate_is_read() {
        let output = "number of failed transactions: 0 (0.000%)\nlatency average = 1.2 ms\ntps = 12345.678901 (without initial connection time)\n";
        assert_eq!(tps(output).unwrap(), 12345.678901);
        assert!(tps("nothing").is_err());
    }
}
