#![doc = include_str!("../README.md")]

use std::fmt;

use serde::{Deserialize, Serialize};

/// A password in transit between services. Prints as `[REDACTED]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: String) -> Self {
        Self(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

pub mod org {
    use serde::{Deserialize, Serialize};
    use uuid::Uuid;

    /// `PUT /internal/v1/org/companies/{id}`: creates the company, or answers the one
    /// that already has this id.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct NewCompany {
        pub name: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Company {
        pub id: Uuid,
        pub name: String,
    }

    /// `POST /internal/v1/org/companies/{id}/teams/lookup`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct TeamLookup {
        pub ids: Vec<Uuid>,
    }

    /// The ids of the lookup that are teams of the company.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct TeamsFound {
        pub found: Vec<Uuid>,
    }

    pub fn company_path(company_id: Uuid) -> String {
        format!("/internal/v1/org/companies/{company_id}")
    }

    pub fn team_lookup_path(company_id: Uuid) -> String {
        format!("/internal/v1/org/companies/{company_id}/teams/lookup")
    }
}

pub mod auth {
    use roster_tokens::Role;
    use serde::{Deserialize, Serialize};
    use uuid::Uuid;

    use crate::Password;

    /// `PUT /internal/v1/auth/accounts/{id}`: creates the account (its id is the
    /// employee's), or answers the one that already has this id with the same email.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct NewAccount {
        pub company_id: Uuid,
        pub email: String,
        pub password: Password,
        pub role: Role,
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Account {
        pub id: Uuid,
        pub company_id: Uuid,
        pub email: String,
        pub role: Role,
        pub active: bool,
    }

    /// `PATCH /internal/v1/auth/accounts/{id}`: absent fields keep their value.
    /// Deactivating revokes every session of the account.
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    pub struct AccountChange {
        pub email: Option<String>,
        pub role: Option<Role>,
        pub active: Option<bool>,
    }

    pub fn account_path(account_id: Uuid) -> String {
        format!("/internal/v1/auth/accounts/{account_id}")
    }
}

pub mod people {
    use serde::{Deserialize, Serialize};
    use uuid::Uuid;

    use crate::Password;

    /// `POST /internal/v1/people/signups`: a new company and its first admin.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct Signup {
        pub company_name: String,
        pub admin_email: String,
        pub admin_password: Password,
        pub admin_name: String,
        pub admin_surname: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct SignedUp {
        pub company_id: Uuid,
        pub employee_id: Uuid,
    }

    pub const SIGNUPS_PATH: &str = "/internal/v1/people/signups";
}
