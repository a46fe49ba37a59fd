//! What one company may hold (`[quotas]`): a creation counts the company's rows
//! holding the quota's subject, so parallel creations count one after the other on
//! PostgreSQL as they do behind SQLite's one writer, and none passes the limit.

use crate::lock::{self, Subject};
use sea_orm::{DatabaseTransaction, EntityTrait, PaginatorTrait, Select};
use uuid::Uuid;

use crate::StoreError;

/// A quota: what it counts, as `[quotas]` and errors name it, and the subject its
/// checks hold.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub what: &'static str,
    pub subject: &'static str,
}

impl Quota {
    /// Refuses one more of what `held` selects (the company's rows) when the company
    /// holds `limit` already. In the caller's transaction, before its insert.
    pub async fn check<E: EntityTrait>(
        self,
        txn: &DatabaseTransaction,
        company_id: Uuid,
        limit: u64,
        held: Select<E>,
    ) -> Result<(), StoreError>
    where
        E::Model: Sync,
    {
        self.hold(txn, company_id).await?;
        self.within(held.count(txn).await?, limit)
    }

    /// Holds the company's quota, for a caller that counts what it holds itself.
    pub async fn hold(self, txn: &DatabaseTransaction, company_id: Uuid) -> Result<(), StoreError> {
        lock::hold(txn, &[Subject::new(self.subject, company_id, Uuid::nil())]).await?;
        Ok(())
    }

    /// Holds the company's quota beside others that share it, for a change that moves
    /// what the quota counts from one place to another (a hire under way becoming an
    /// employee): no count, which takes the quota alone, sees it half done.
    pub async fn share(
        self,
        txn: &DatabaseTransaction,
        company_id: Uuid,
    ) -> Result<(), StoreError> {
        let subject = Subject::new(self.subject, company_id, Uuid::nil()).shared();
        lock::hold(txn, &[subject]).await?;
        Ok(())
    }

    /// Refuses one more when the company holds `held` of `limit` already.
    pub fn within(self, held: u64, limit: u64) -> Result<(), StoreError> {
        match held >= limit {
            true => Err(StoreError::OverQuota {
                what: self.what,
                limit,
            }),
            false => Ok(()),
        }
    }
}
