use roster_bus::outbox;
use roster_contracts::auth::Account;
use roster_contracts::{Email, from_text};
use roster_events::{Event, NewEvent, Removed};
use roster_storage::lock::{self, Subject};
use roster_storage::{Scope, ServiceDb, Tenant};
use roster_tokens::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{account, cancelled_account};
use super::{now, sessions};
use roster_storage::StoreError;

const EMAIL_INDEX: &str = crate::migrations::m20261206_000001_email_unique_per_company::INDEX;
const EMAIL_COLUMNS: &str = "accounts.email";

pub fn to_contract(model: &account::Model) -> Result<Account, StoreError> {
    Ok(Account {
        id: model.id,
        company_id: model.company_id,
        email: model.email.clone(),
        role: from_text(&model.role).map_err(anyhow::Error::from)?,
        active: model.active,
    })
}

const EMAIL_TAKEN: &str = "another account of the company already uses this email";

fn email_taken(error: sea_orm::DbErr) -> StoreError {
    StoreError::taken(error, EMAIL_INDEX, EMAIL_COLUMNS, "email", EMAIL_TAKEN)
}

#[derive(Debug)]
pub struct NewAccount {
    pub id: Uuid,
    pub company_id: Uuid,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
}

/// What creating and cancelling an account under a given id (a saga's step and its
/// compensation) are about: the two never interleave, so a cancellation never leaves
/// an account made beside it.
fn creation(id: Uuid) -> Subject {
    Subject::global("auth.account", id)
}

/// Creates the account, or answers the existing one with this id and email: the saga
/// that creates it may repeat the step. An id that was cancelled is refused for good.
#[tracing::instrument(skip(db, new), fields(account_id = %new.id))]
pub async fn ensure(db: &ServiceDb, new: NewAccount) -> Result<account::Model, StoreError> {
    let txn = db.begin_write(Tenant::of_company(new.company_id)).await?;
    lock::hold(&txn, &[creation(new.id)]).await?;
    if cancelled_account::Entity::find_by_id(new.id)
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(
            "this account id was cancelled and cannot be used again",
        ));
    }
    if let Some(existing) = account::Entity::find_by_id(new.id).one(&txn).await? {
        return match existing.email == new.email.as_str() && existing.company_id == new.company_id {
            true => Ok(existing),
            false => Err(StoreError::Taken {
                field: "email",
                message: EMAIL_TAKEN,
            }),
        };
    }
    let at = now();
    let account = account::ActiveModel {
        id: Set(new.id),
        company_id: Set(new.company_id),
        email: Set(new.email.into()),
        password_hash: Set(new.password_hash),
        role: Set(new.role.as_str().to_owned()),
        active: Set(true),
        revision: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(email_taken)?;
    outbox::record(&txn, [event(&account, Event::AccountCreated)]).await?;
    outbox::commit(db, txn).await?;
    Ok(account)
}

/// An event about the account as it now is, numbered by its revision.
fn event(model: &account::Model, kind: fn(roster_events::Account) -> Event) -> NewEvent {
    NewEvent {
        event: kind(roster_events::Account {
            id: model.id,
            email: model.email.clone(),
            role: model.role.clone(),
            active: model.active,
        }),
        aggregate_id: model.id,
        sequence: u64::try_from(model.revision).unwrap_or(0),
        company_id: model.company_id,
    }
}

/// The account with this id, whichever its company (for other services' internal calls).
pub async fn get(db: &ServiceDb, id: Uuid) -> Result<account::Model, StoreError> {
    account::Entity::find_by_id(id)
        .one(&db.read(Scope::AllCompanies).await?)
        .await?
        .ok_or(StoreError::NotFound("account"))
}

/// Every account of every company, for `roster replicas check`.
pub async fn all(db: &ServiceDb) -> Result<Vec<account::Model>, StoreError> {
    Ok(account::Entity::find()
        .all(&db.read(Scope::AllCompanies).await?)
        .await?)
}

/// The accounts with this email, oldest first: one per company at most.
pub async fn find_by_email(
    db: &ServiceDb,
    email: &Email,
) -> Result<Vec<account::Model>, StoreError> {
    Ok(account::Entity::find()
        .filter(account::Column::Email.eq(email.as_str()))
        .order_by_asc(account::Column::CreatedAt)
        .all(&db.read(Scope::AllCompanies).await?)
        .await?)
}

#[derive(Debug, Default)]
pub struct AccountChange {
    pub email: Option<Email>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Account `id`, locked until commit: changes to one account, and their events, one
/// at a time.
async fn locked(conn: &impl ConnectionTrait, id: Uuid) -> Result<account::Model, StoreError> {
    account::Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound("account"))
}

/// Changes an account. Deactivating it, or changing its role or email, revokes its
/// sessions in the same transaction; answers the account and the sessions revoked.
#[tracing::instrument(skip(db))]
pub async fn change(
    db: &ServiceDb,
    id: Uuid,
    change: AccountChange,
) -> Result<(account::Model, Vec<sessions::Revocation>), StoreError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let current = locked(&txn, id).await?;
    // A session carries the account's role and email in its tokens, and stands for
    // an active account: a change of any of them ends every session at once, so no
    // token outlives the rights it was issued with.
    let reason = if change.active == Some(false) && current.active {
        Some("deactivated")
    } else if change
        .role
        .is_some_and(|role| role.as_str() != current.role)
    {
        Some("role changed")
    } else if change
        .email
        .as_ref()
        .is_some_and(|email| email.as_str() != current.email)
    {
        Some("email changed")
    } else {
        None
    };
    let revoked = match reason {
        Some(reason) => sessions::revoke_all(&txn, id, reason).await?,
        None => Vec::new(),
    };
    let mut account: account::ActiveModel = current.into();
    if let Some(email) = change.email {
        account.email = Set(email.into());
    }
    if let Some(role) = change.role {
        account.role = Set(role.as_str().to_owned());
    }
    if let Some(active) = change.active {
        account.active = Set(active);
    }
    account.updated_at = Set(now());
    account.revision = Set(account.revision.as_ref() + 1);
    let account = account.update(&txn).await.map_err(email_taken)?;
    outbox::record(&txn, [event(&account, Event::AccountUpdated)]).await?;
    outbox::commit(db, txn).await?;
    Ok((account, revoked))
}

/// Sets account `id`'s password (`password_hash`, a PHC string) and ends its
/// sessions but `kept` (the one that changed it) in the same transaction: the
/// sessions revoked. Whoever held the old password holds no session after.
#[tracing::instrument(skip(db, password_hash))]
pub async fn set_password(
    db: &ServiceDb,
    id: Uuid,
    password_hash: String,
    kept: Uuid,
) -> Result<Vec<sessions::Revocation>, StoreError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    let current = locked(&txn, id).await?;
    let revoked = sessions::revoke_all_but(&txn, id, Some(kept), "password changed").await?;
    let mut account: account::ActiveModel = current.into();
    account.password_hash = Set(password_hash);
    account.updated_at = Set(now());
    account.update(&txn).await?;
    txn.commit().await?;
    Ok(revoked)
}

/// Removes an account for good (a saga's compensation): its sessions go with it and
/// its id is recorded so that a late, repeated creation cannot bring it back.
#[tracing::instrument(skip(db))]
pub async fn cancel(db: &ServiceDb, id: Uuid) -> Result<Vec<sessions::Revocation>, StoreError> {
    let txn = db.begin_write(Scope::AllCompanies).await?;
    lock::hold(&txn, &[creation(id)]).await?;
    let revoked = sessions::revoke_all(&txn, id, "cancelled").await?;
    let existing = account::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    account::Entity::delete_by_id(id).exec(&txn).await?;
    if let Some(gone) = existing {
        let cancelled = NewEvent {
            event: Event::AccountCancelled(Removed { id }),
            aggregate_id: id,
            sequence: u64::try_from(gone.revision + 1).unwrap_or(0),
            company_id: gone.company_id,
        };
        outbox::record(&txn, [cancelled]).await?;
    }
    if cancelled_account::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .is_none()
    {
        cancelled_account::ActiveModel {
            id: Set(id),
            cancelled_at: Set(now()),
        }
        .insert(&txn)
        .await?;
    }
    outbox::commit(db, txn).await?;
    Ok(revoked)
}
