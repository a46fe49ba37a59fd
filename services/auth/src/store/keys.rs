use roster_secrets::DataKey;
use roster_storage::{Scope, ServiceDb};
use roster_tokens::SigningKey;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use time::OffsetDateTime;

use super::entities::signing_key;
use super::now;
use roster_storage::StoreError;

/// A stored key, opened with the data key.
#[derive(Debug)]
pub struct StoredKey {
    pub key: SigningKey,
    pub retired_at: Option<OffsetDateTime>,
}

fn context(kid: &str) -> String {
    format!("auth.signing_key:{kid}")
}

/// Keys still published: those not retired, and those retired after `retired_after`
/// (their tokens may still be alive). Newest first.
pub async fn published(
    db: &ServiceDb,
    data_key: &DataKey,
    retired_after: OffsetDateTime,
) -> Result<Vec<StoredKey>, StoreError> {
    let rows = signing_key::Entity::find()
        .filter(
            Condition::any()
                .add(signing_key::Column::RetiredAt.is_null())
                .add(signing_key::Column::RetiredAt.gt(retired_after)),
        )
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db.conn())
        .await?;
    rows.into_iter()
        .map(|row| {
            let der = data_key
                .open(&context(&row.kid), &row.sealed_key)
                .map_err(|e| anyhow::anyhow!("signing key {}: {e}", row.kid))?;
            let key = SigningKey::from_pkcs8_der(row.kid.clone(), &der)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(StoredKey {
                key,
                retired_at: row.retired_at,
            })
        })
        .collect()
}

/// Stores a new key as the one that signs, retiring the ones before it (they stay
/// published until their tokens expire), and deletes keys retired before
/// `forget_before`.
#[tracing::instrument(skip_all, fields(kid = key.kid()))]
pub async fn rotate(
    db: &ServiceDb,
    data_key: &DataKey,
    key: &SigningKey,
    forget_before: OffsetDateTime,
) -> Result<(), StoreError> {
    let sealed = data_key
        .seal(&context(key.kid()), key.pkcs8_der())
        .map_err(|e| anyhow::anyhow!("cannot seal the signing key: {e}"))?;
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let at = now();
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(Some(at)))
        .filter(signing_key::Column::RetiredAt.is_null())
        .exec(&txn)
        .await?;
    signing_key::Entity::delete_many()
        .filter(signing_key::Column::RetiredAt.lt(forget_before))
        .exec(&txn)
        .await?;
    signing_key::ActiveModel {
        kid: Set(key.kid().to_owned()),
        sealed_key: Set(sealed),
        created_at: Set(at),
        retired_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}
