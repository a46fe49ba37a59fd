//! The signing keys in memory: the one that signs, and the set published at
//! `/api/v1/auth/jwks`. Refreshed from the database, so a rotation made by
//! `roster auth rotate-keys` reaches a running auth within `auth.sync_interval_secs`.

use std::sync::{Arc, RwLock};

use roster_secrets::DataKey;
use roster_storage::ServiceDb;
use roster_tokens::{JwkSet, LEEWAY_SECS, SigningKey};
use time::{Duration, OffsetDateTime};

use crate::store::keys;

#[derive(Debug)]
pub struct KeyRing {
    current: RwLock<Arc<Keys>>,
    /// How long a retired key stays published: an access token's lifetime and the
    /// leeway.
    keep_for: Duration,
}

#[derive(Debug)]
struct Keys {
    signer: Arc<SigningKey>,
    published: JwkSet,
}

impl KeyRing {
    /// Loads the keys, making the first one when there is none.
    pub async fn load(
        db: &ServiceDb,
        data_key: &DataKey,
        access_ttl: Duration,
    ) -> anyhow::Result<Self> {
        let keep_for = access_ttl + Duration::seconds(LEEWAY_SECS);
        let keys = match read(db, data_key, keep_for).await? {
            Some(keys) => keys,
            None => {
                rotate(db, data_key, access_ttl).await?;
                read(db, data_key, keep_for)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no signing key after making one"))?
            }
        };
        Ok(Self {
            current: RwLock::new(Arc::new(keys)),
            keep_for,
        })
    }

    /// Reads the keys again; keeps the current ones if the database has none.
    pub async fn refresh(&self, db: &ServiceDb, data_key: &DataKey) -> anyhow::Result<()> {
        if let Some(keys) = read(db, data_key, self.keep_for).await? {
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        }
        Ok(())
    }

    fn current(&self) -> Arc<Keys> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn signer(&self) -> Arc<SigningKey> {
        self.current().signer.clone()
    }

    pub fn published(&self) -> JwkSet {
        self.current().published.clone()
    }
}

async fn read(
    db: &ServiceDb,
    data_key: &DataKey,
    keep_for: Duration,
) -> anyhow::Result<Option<Keys>> {
    let stored = keys::published(db, data_key, OffsetDateTime::now_utc() - keep_for).await?;
    let published = JwkSet {
        keys: stored.iter().map(|k| k.key.public_jwk().clone()).collect(),
    };
    // Newest first: the first key that is not retired signs.
    Ok(stored
        .into_iter()
        .find(|k| k.retired_at.is_none())
        .map(|k| Keys {
            signer: Arc::new(k.key),
            published,
        }))
}

/// Makes a new signing key and retires the current one, which stays published until
/// the tokens it signed have expired. Answers the new key's id.
pub async fn rotate(
    db: &ServiceDb,
    data_key: &DataKey,
    access_ttl: Duration,
) -> anyhow::Result<String> {
    let key = SigningKey::generate()?;
    let forget_before = OffsetDateTime::now_utc() - access_ttl - Duration::seconds(LEEWAY_SECS);
    keys::rotate(db, data_key, &key, forget_before).await?;
    tracing::info!(kid = key.kid(), "signing key rotated");
    Ok(key.kid().to_owned())
}
