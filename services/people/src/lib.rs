#![doc = include_str!("../README.md")]

mod api;
mod clients;
pub mod domain;
pub mod migrations;
mod saga;
pub mod store;

use std::time::Duration;

pub use clients::{Accounts, Org};
use futures::future::BoxFuture;
use roster_secrets::DataKey;
use roster_service::{Background, First, Keeps, Retained, ServiceContext, ServiceDef};
use roster_storage::prune::before;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};

/// The people service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "people",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start,
    publishes: true,
    consumes: None,
    doctor: roster_service::nothing_to_check,
    retained: &[Retained {
        table: "sagas",
        key: "id",
        finished_before: |cutoff| {
            Condition::all()
                .add(
                    Expr::col(Alias::new("state"))
                        .is_in([store::sagas::DONE, store::sagas::FAILED]),
                )
                .add(before("updated_at", cutoff))
        },
        keep: |config| config.retention.sagas(),
        with: &[],
    }],
    keeps: Keeps::NOTHING,
};

/// What people's routes share: the data key, and the links its sagas call.
pub(crate) struct PeopleState {
    data_key: DataKey,
    steps: saga::Steps,
}

fn start(ctx: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async move {
        let data_key = DataKey::from_config(&ctx.config.security)
            .map_err(|e| anyhow::anyhow!("people: {e}"))?;
        let steps = saga::Steps::linked(&ctx)?;
        ctx.provide(std::sync::Arc::new(PeopleState {
            data_key,
            steps: steps.clone(),
        }))?;
        let every = Duration::from_secs(ctx.config.people.saga_retry_secs);
        let resumer = roster_service::every(
            every,
            First::AtOnce,
            "look for unfinished sagas",
            move || {
                let (ctx, steps) = (ctx.clone(), steps.clone());
                async move { saga::resume_due(&ctx, &steps).await }
            },
        );
        Ok(vec![resumer])
    })
}
