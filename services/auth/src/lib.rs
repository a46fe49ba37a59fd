#![doc = include_str!("../README.md")]

mod api;
pub mod domain;
mod hashing;
mod keys;
pub mod migrations;
pub mod store;
mod throttle;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use futures::future::BoxFuture;
use roster_config::{AuthConfig, Config};
use roster_secrets::DataKey;
use roster_service::{Background, First, Keeps, Retained, ServiceContext, ServiceDb, ServiceDef};
use roster_storage::prune::before;
use roster_tokens::{LEEWAY_SECS, Revoked, VerificationState, Verifier};
use sea_orm::sea_query::Condition;
use time::{Duration, OffsetDateTime};

use crate::hashing::Hasher;
use crate::keys::KeyRing;
use crate::store::sessions::{self, Revocation};
use crate::throttle::Throttle;

// The configuration refuses an access token that verifiers would: the two agree.
const _: () =
    assert!(roster_config::MAX_ACCESS_TOKEN_TTL_SECS as i64 == roster_tokens::MAX_LIFETIME_SECS);

/// The auth service.
pub const SERVICE: ServiceDef = ServiceDef {
    name: "auth",
    migrations: migrations::all,
    routes: api::routes,
    access: api::ACCESS,
    start,
    publishes: true,
    consumes: None,
    doctor: roster_service::nothing_to_check,
    retained: &[Retained {
        table: "sessions",
        key: "id",
        finished_before: |cutoff| {
            Condition::any()
                .add(before("expires_at", cutoff))
                .add(before("revoked_at", cutoff))
        },
        keep: |config| config.retention.sessions(),
        with: &[("refresh_tokens", "session_id")],
    }],
    keeps: Keeps::NOTHING,
};

/// What auth's routes share beside the configuration: the hasher, the keys, the
/// throttle.
#[derive(Debug)]
pub(crate) struct AuthState {
    hasher: Hasher,
    keys: KeyRing,
    throttle: Throttle,
    data_key: DataKey,
    /// The version of the revocations this process knows, moved on by each one it
    /// makes: followers in other processes wait on it (`VerificationState::version`).
    revisions: tokio::sync::watch::Sender<u64>,
}

fn seconds(secs: u64) -> Duration {
    Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn access_ttl(config: &AuthConfig) -> Duration {
    seconds(config.access_token_ttl_secs)
}

fn refresh_ttl(config: &AuthConfig) -> Duration {
    seconds(config.refresh_token_ttl_secs)
}

/// Refuses the access tokens of revoked sessions in this process at once, and wakes
/// the other processes' followers, which learn of them at once too.
fn forget_sessions(ctx: &ServiceContext, revocations: impl IntoIterator<Item = Revocation>) {
    let ttl = access_ttl(&ctx.config.auth);
    let mut any = false;
    for revocation in revocations {
        let gone = revoked(revocation, ttl);
        ctx.verifier.revoke(gone.session_id, gone.until);
        any = true;
    }
    if any && let Ok(state) = ctx.state::<AuthState>() {
        state.revisions.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// A revocation as verifiers need it: until when a token of the session could live.
fn revoked(revocation: Revocation, access_ttl: Duration) -> Revoked {
    Revoked {
        session_id: revocation.session_id,
        until: (revocation.revoked_at + access_ttl).unix_timestamp(),
    }
}

fn data_key(config: &Config) -> anyhow::Result<DataKey> {
    DataKey::from_config(&config.security).map_err(|e| anyhow::anyhow!("auth: {e}"))
}

fn start(ctx: ServiceContext) -> BoxFuture<'static, anyhow::Result<Background>> {
    Box::pin(async move {
        let data_key = data_key(&ctx.config)?;
        let config = &ctx.config.auth;
        let keys = KeyRing::load(&ctx.db, &data_key, access_ttl(config)).await?;
        let state = Arc::new(AuthState {
            hasher: Hasher::new(config.argon2)?,
            keys,
            throttle: Throttle::new(config),
            data_key,
            // Another start begins elsewhere, so a follower's old version is news.
            revisions: tokio::sync::watch::Sender::new(
                OffsetDateTime::now_utc().unix_timestamp_nanos() as u64,
            ),
        });
        ctx.provide(state.clone())?;
        // The keys are fresh: only the revocations are still to be read.
        ctx.verifier
            .apply(&verification_state(&ctx.db, &state, config).await?)?;
        let interval = StdDuration::from_secs(config.sync_interval_secs);
        let refresher = roster_service::every(
            interval,
            First::AfterAPeriod,
            "refresh the signing keys and revocations",
            move || {
                let (ctx, state) = (ctx.clone(), state.clone());
                async move { sync_verifier(&ctx.db, &state, &ctx.config.auth, &ctx.verifier).await }
            },
        );
        Ok(vec![refresher])
    })
}

/// Reloads the keys and the revoked sessions, and hands both to this process's
/// verifier.
async fn sync_verifier(
    db: &ServiceDb,
    state: &AuthState,
    config: &AuthConfig,
    verifier: &Verifier,
) -> anyhow::Result<()> {
    state.keys.refresh(db, &state.data_key).await?;
    verifier.apply(&verification_state(db, state, config).await?)?;
    Ok(())
}

/// The published keys and the sessions revoked while their tokens may still be alive.
async fn verification_state(
    db: &ServiceDb,
    state: &AuthState,
    config: &AuthConfig,
) -> anyhow::Result<VerificationState> {
    // Read before the revocations: one made meanwhile moves the version again.
    let version = *state.revisions.borrow();
    let ttl = access_ttl(config);
    let since = OffsetDateTime::now_utc() - ttl - Duration::seconds(LEEWAY_SECS);
    let revoked = sessions::revoked_since(db, since)
        .await?
        .into_iter()
        .map(|r| revoked(r, ttl))
        .collect();
    Ok(VerificationState {
        keys: state.keys.published(),
        revoked,
        version,
    })
}

/// Makes a new signing key; the running auth signs with it within
/// `auth.sync_interval_secs`, and the previous key stays published until its tokens
/// have expired. Answers the new key's id.
pub async fn rotate_keys(db: &ServiceDb, config: &Config) -> anyhow::Result<String> {
    keys::rotate(db, &data_key(config)?, access_ttl(&config.auth)).await
}
