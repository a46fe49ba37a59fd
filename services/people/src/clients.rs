//! What people needs from other services, as traits, and their implementations over a
//! [`Link`] (in process under `roster up`, HTTP when the services run apart).

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use roster_contracts::auth::{Account, AccountChange, NewAccount, account_path};
use roster_contracts::org::{
    Company, NewCompany, TeamLookup, TeamsFound, company_path, team_lookup_path,
};
use roster_service::{Link, LinkError};
use uuid::Uuid;

/// Accounts in auth. Every call is idempotent.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates the account with this id, or answers the same one again.
    async fn ensure(&self, id: Uuid, account: &NewAccount) -> Result<Account, LinkError>;
    /// The account, or `None` when there is none with this id.
    async fn get(&self, id: Uuid) -> Result<Option<Account>, LinkError>;
    async fn change(&self, id: Uuid, change: &AccountChange) -> Result<Account, LinkError>;
    /// Removes the account for good; succeeds when there is none.
    async fn cancel(&self, id: Uuid) -> Result<(), LinkError>;
}

/// Companies and teams in org.
#[async_trait]
pub trait Org: Send + Sync {
    async fn ensure_company(&self, id: Uuid, name: &str) -> Result<Company, LinkError>;
    /// Removes the company; succeeds when there is none.
    async fn remove_company(&self, id: Uuid) -> Result<(), LinkError>;
    /// Which of `ids` are teams of the company.
    async fn teams_found(&self, company_id: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, LinkError>;
}

#[async_trait]
impl Accounts for Link {
    async fn ensure(&self, id: Uuid, account: &NewAccount) -> Result<Account, LinkError> {
        self.call(Method::PUT, &account_path(id), Some(account))
            .await
    }

    async fn get(&self, id: Uuid) -> Result<Option<Account>, LinkError> {
        match self.call(Method::GET, &account_path(id), None::<&()>).await {
            Ok(account) => Ok(Some(account)),
            Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn change(&self, id: Uuid, change: &AccountChange) -> Result<Account, LinkError> {
        self.call(Method::PATCH, &account_path(id), Some(change))
            .await
    }

    async fn cancel(&self, id: Uuid) -> Result<(), LinkError> {
        self.call(Method::DELETE, &account_path(id), None::<&()>)
            .await
    }
}

#[async_trait]
impl Org for Link {
    async fn ensure_company(&self, id: Uuid, name: &str) -> Result<Company, LinkError> {
        let body = NewCompany {
            name: name.to_owned(),
        };
        self.call(Method::PUT, &company_path(id), Some(&body)).await
    }

    async fn remove_company(&self, id: Uuid) -> Result<(), LinkError> {
        self.call(Method::DELETE, &company_path(id), None::<&()>)
            .await
    }

    async fn teams_found(&self, company_id: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, LinkError> {
        let body = TeamLookup { ids: ids.to_vec() };
        let found: TeamsFound = self
            .call(Method::POST, &team_lookup_path(company_id), Some(&body))
            .await?;
        Ok(found.found)
    }
}
