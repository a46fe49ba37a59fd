use roster_storage::{Scope, ServiceDb, Tenant};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::entities::{account, refresh_token, session};
use super::now;
use crate::domain::hash_refresh_token;
use roster_storage::StoreError;

/// A session revoked at a moment: its access tokens are refused from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub session_id: Uuid,
    pub revoked_at: OffsetDateTime,
}

/// Opens a session for an account with its first refresh token (given in clear, stored
/// hashed).
#[tracing::instrument(skip(db, account, refresh_token), fields(account_id = %account.id))]
pub async fn open(
    db: &ServiceDb,
    account: &account::Model,
    refresh_token: &str,
    ttl: Duration,
) -> Result<session::Model, StoreError> {
    let txn = db
        .begin_write(Tenant::of_company(account.company_id))
        .await?;
    let at = now();
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account.id),
        company_id: Set(account.company_id),
        created_at: Set(at),
        expires_at: Set(at + ttl),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    insert_token(&txn, session.id, refresh_token).await?;
    txn.commit().await?;
    Ok(session)
}

async fn insert_token(
    conn: &impl ConnectionTrait,
    session_id: Uuid,
    token: &str,
) -> Result<(), StoreError> {
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(hash_refresh_token(token)),
        created_at: Set(now()),
        spent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum Rotation {
    /// The token was live: it is now spent, and `next` replaces it in the session.
    Rotated(Box<(account::Model, session::Model)>),
    /// The token was already spent: someone replayed it, so its session is revoked.
    Reused(Revocation),
    /// No such token, or its session has ended or its account is inactive.
    Refused,
}

/// Spends a refresh token and stores `next` in its place, in one transaction. A token
/// can be spent once: the conditional update decides, so two concurrent uses cannot
/// both succeed.
#[tracing::instrument(skip_all)]
pub async fn rotate(
    db: &ServiceDb,
    presented: &str,
    next: &str,
    ttl: Duration,
) -> Result<Rotation, StoreError> {
    let hash = hash_refresh_token(presented);
    // A refresh token names no company until it is found.
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(&hash))
        .one(&txn)
        .await?
    else {
        return Ok(Rotation::Refused);
    };
    let at = now();
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::SpentAt, Expr::value(at))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::SpentAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let Some(session) = session::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
    else {
        return Ok(Rotation::Refused);
    };
    if spent == 0 {
        let revocation = revoke_one(&txn, &session, "refresh token reused").await?;
        txn.commit().await?;
        return Ok(revocation.map_or(Rotation::Refused, Rotation::Reused));
    }
    let account = account::Entity::find_by_id(session.account_id)
        .one(&txn)
        .await?;
    let live = session.revoked_at.is_none() && session.expires_at > at;
    let Some(account) = account.filter(|a| a.active && live) else {
        txn.commit().await?;
        return Ok(Rotation::Refused);
    };
    insert_token(&txn, session.id, next).await?;
    let mut extended: session::ActiveModel = session.into();
    extended.expires_at = Set(at + ttl);
    let session = extended.update(&txn).await?;
    txn.commit().await?;
    Ok(Rotation::Rotated(Box::new((account, session))))
}

async fn revoke_one(
    conn: &impl ConnectionTrait,
    session: &session::Model,
    reason: &str,
) -> Result<Option<Revocation>, StoreError> {
    if session.revoked_at.is_some() {
        return Ok(None);
    }
    let at = now();
    let mut revoked: session::ActiveModel = session.clone().into();
    revoked.revoked_at = Set(Some(at));
    revoked.revoked_reason = Set(Some(reason.to_owned()));
    revoked.update(conn).await?;
    Ok(Some(Revocation {
        session_id: session.id,
        revoked_at: at,
    }))
}

/// Ends the session a refresh token belongs to (logout). Unknown tokens end nothing.
#[tracing::instrument(skip_all)]
pub async fn end(db: &ServiceDb, presented: &str) -> Result<Option<Revocation>, StoreError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_refresh_token(presented)))
        .one(&txn)
        .await?;
    let session = match token {
        Some(token) => {
            session::Entity::find_by_id(token.session_id)
                .one(&txn)
                .await?
        }
        None => None,
    };
    let revocation = match session {
        Some(session) => revoke_one(&txn, &session, "logout").await?,
        None => None,
    };
    txn.commit().await?;
    Ok(revocation)
}

/// Ends every session of account `id` (logging out everywhere): the revocations.
pub async fn end_all(db: &ServiceDb, id: Uuid) -> Result<Vec<Revocation>, StoreError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let revoked = revoke_all(&txn, id, "logout everywhere").await?;
    txn.commit().await?;
    Ok(revoked)
}

/// Revokes every live session of an account, within the caller's transaction.
pub async fn revoke_all(
    conn: &impl ConnectionTrait,
    account_id: Uuid,
    reason: &str,
) -> Result<Vec<Revocation>, StoreError> {
    revoke_all_but(conn, account_id, None, reason).await
}

/// Revokes every live session of an account but `kept`, within the caller's
/// transaction.
pub async fn revoke_all_but(
    conn: &impl ConnectionTrait,
    account_id: Uuid,
    kept: Option<Uuid>,
    reason: &str,
) -> Result<Vec<Revocation>, StoreError> {
    let mut live = session::Entity::find()
        .filter(session::Column::AccountId.eq(account_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(kept) = kept {
        live = live.filter(session::Column::Id.ne(kept));
    }
    let live = live.all(conn).await?;
    let mut revoked = Vec::with_capacity(live.len());
    for session in live {
        revoked.extend(revoke_one(conn, &session, reason).await?);
    }
    Ok(revoked)
}

/// Sessions revoked after `since`: the ones whose access tokens may still be alive.
pub async fn revoked_since(
    db: &ServiceDb,
    since: OffsetDateTime,
) -> Result<Vec<Revocation>, StoreError> {
    Ok(session::Entity::find()
        .filter(session::Column::RevokedAt.gt(since))
        .all(&db.read(Scope::AllCompanies).await?)
        .await?
        .into_iter()
        .filter_map(|s| {
            Some(Revocation {
                session_id: s.id,
                revoked_at: s.revoked_at?,
            })
        })
        .collect())
}
