//! `roster migrate up|down|status`.

use anyhow::Context as _;
use roster_config::Config;
use roster_migrate::Migrator;
use roster_service::ServiceDef;
use roster_storage::ServiceDb;
use time::format_description::well_known::Rfc3339;

use crate::MigrateAction;

pub(crate) async fn run(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    match action {
        MigrateAction::Up { target, steps } => {
            for service in target.services() {
                let db = open(config, &service).await?;
                let applied = Migrator::new(&db, (service.migrations)())
                    .up(steps)
                    .await
                    .with_context(|| format!("{}: cannot migrate up", service.name))?;
                report(
                    service.name,
                    "applied",
                    &applied,
                    "nothing pending, up to date",
                );
                db.close().await;
            }
        }
        MigrateAction::Down { target, steps, all } => {
            for service in target.services() {
                let db = open(config, &service).await?;
                let steps = (!all).then_some(steps);
                let reverted = Migrator::new(&db, (service.migrations)())
                    .down(steps)
                    .await
                    .with_context(|| format!("{}: cannot migrate down", service.name))?;
                report(
                    service.name,
                    "reverted",
                    &reverted,
                    "nothing applied, nothing to revert",
                );
                db.close().await;
            }
        }
        MigrateAction::Status { target } => {
            for service in target.services() {
                let db = open(config, &service).await?;
                let states = Migrator::new(&db, (service.migrations)())
                    .status()
                    .await
                    .with_context(|| format!("{}: cannot read its migrations", service.name))?;
                println!("{} ({})", service.name, db.place());
                for state in states {
                    let status = match (&state.applied_at, state.known) {
                        (Some(at), true) => {
                            format!("applied {}", at.format(&Rfc3339).unwrap_or_default())
                        }
                        (Some(_), false) => "applied, unknown to this version".to_owned(),
                        (None, _) => "pending".to_owned(),
                    };
                    println!("  {:<40} {status}", state.name);
                }
                db.close().await;
            }
        }
    }
    Ok(())
}

pub(crate) async fn open(config: &Config, service: &ServiceDef) -> anyhow::Result<ServiceDb> {
    roster_storage::open(service.name, config.storage_for(service.name))
        .await
        .with_context(|| format!("{}: cannot open its storage", service.name))
}

fn report(service: &str, verb: &str, names: &[String], nothing: &str) {
    if names.is_empty() {
        println!("{service}: {nothing}");
    }
    for name in names {
        println!("{service}: {verb} {name}");
    }
}
