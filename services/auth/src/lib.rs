#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod error;
mod hashing;
mod keys;
pub mod migrations;
pub mod store;
mod throttle;

use std::sync::Arc;
use std::time::Duration as StdDuration;

pub use error::AuthError;
use futures::future::BoxFuture;
use roster_config::{AuthConfig, Config};
use roster_secrets::DataKey;
use roster_service::{Background, ServiceContext, ServiceDb, ServiceDef};
use roster_tokens::{LEEWAY_SECS, Revoked, VerificationState, Verifier};
use time::{Duration, OffsetDateTime};

use crate::hashing::Hasher;
use crate::keys::KeyRing;
use crate::store::sessions::{self, Revocation};
use crate::throttle::Throttle;

/// The auth service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "auth",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start,
};

/// What auth's routes share: the hasher, the keys, the throttle.
#[derive(Debug)]
pub(crate) struct AuthState {
    hasher: Hasher,
    keys: KeyRing,
    throttle: Throttle,
    data_key: DataKey,
    config: AuthConfig,
    trusted_proxies: Vec<std::net::IpAddr>,
}

impl AuthState {
    fn access_ttl(&self) -> Duration {
        access_ttl(&self.config)
    }

    fn refresh_ttl(&self) -> Duration {
        Duration::seconds(i64::try_from(self.config.refresh_token_ttl_secs).unwrap_or(i64::MAX))
    }
}

fn access_ttl(config: &AuthConfig) -> Duration {
    Duration::seconds(i64::try_from(config.access_token_ttl_secs).unwrap_or(i64::MAX))
}

fn data_key(config: &Config) -> anyhow::Result<DataKey> {
    DataKey::from_config(&config.security).map_err(|e| anyhow::anyhow!("auth: {e}"))
}

fn start(ctx: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async move {
        let data_key = data_key(&ctx.config)?;
        let config = ctx.config.auth.clone();
        let keys = KeyRing::load(&ctx.db, &data_key, access_ttl(&config)).await?;
        let state = Arc::new(AuthState {
            hasher: Hasher::new(config.argon2)?,
            keys,
            throttle: Throttle::new(&config),
            data_key,
            trusted_proxies: ctx.config.security.trusted_proxies.clone(),
            config,
        });
        ctx.provide(state.clone())?;
        sync_verifier(&ctx.db, &state, &ctx.verifier).await?;
        let interval = StdDuration::from_secs(state.config.sync_interval_secs);
        let refresher: BoxFuture<'static, ()> = Box::pin(async move {
            let mut tick = tokio::time::interval(interval);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = sync_verifier(&ctx.db, &state, &ctx.verifier).await {
                    tracing::warn!(error = %e, "cannot refresh the signing keys and revocations");
                }
            }
        });
        Ok(vec![refresher])
    })
}

/// Reloads the keys and the revoked sessions, and hands both to this process's
/// verifier.
async fn sync_verifier(
    db: &ServiceDb,
    state: &AuthState,
    verifier: &Verifier,
) -> anyhow::Result<()> {
    state.keys.refresh(db, &state.data_key).await?;
    verifier.apply(&verification_state(db, state).await?)?;
    Ok(())
}

/// The published keys and the sessions revoked while their tokens may still be alive.
async fn verification_state(
    db: &ServiceDb,
    state: &AuthState,
) -> anyhow::Result<VerificationState> {
    let since = OffsetDateTime::now_utc() - state.access_ttl() - Duration::seconds(LEEWAY_SECS);
    let revoked = sessions::revoked_since(db, since)
        .await?
        .into_iter()
        .map(|r| revoked(r, state.access_ttl()))
        .collect();
    Ok(VerificationState {
        keys: state.keys.published(),
        revoked,
    })
}

/// A revocation as verifiers need it: until when a token of the session could live.
fn revoked(revocation: Revocation, access_ttl: Duration) -> Revoked {
    Revoked {
        session_id: revocation.session_id,
        until: (revocation.revoked_at + access_ttl).unix_timestamp(),
    }
}

/// Makes a new signing key; the running auth signs with it within
/// `auth.sync_interval_secs`, and the previous key stays published until its tokens
/// have expired. Answers the new key's id.
pub async fn rotate_keys(db: &ServiceDb, config: &Config) -> anyhow::Result<String> {
    keys::rotate(db, &data_key(config)?, access_ttl(&config.auth)).await
}
