#![doc = include_str!("../README.md")]

mod stored;
mod text;
mod tree;

use std::fmt;

use serde::{Deserialize, Serialize};
pub use stored::{StoredText, UnknownText, from_text};
pub use text::{Name, OptionalText};
pub use tree::would_create_cycle;

/// A value that breaks a rule, named by the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

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

    /// The longest company name, in characters (org stores it in a column this wide).
    pub const COMPANY_NAME_MAX: usize = 200;

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

/// An email address, trimmed and lowercased: the login of an account and the contact
/// of an employee. Checked for shape only; delivery proves the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim().to_lowercase();
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or("must be an email address such as ana@example.com")?;
        let well_formed = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if !well_formed {
            return Err("must be an email address such as ana@example.com");
        }
        if s.len() > Self::MAX_LEN {
            return Err("must be at most 254 characters");
        }
        Ok(Self(s))
    }

    /// [`Email::parse`] for the request field `field`.
    pub fn parse_field(field: &'static str, s: &str) -> Result<Self, Invalid> {
        Self::parse(s).map_err(|message| Invalid::new(field, message))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(&self.0, |(local, _)| local)
    }
}

impl TryFrom<String> for Email {
    type Error = &'static str;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        let email = Email::parse("  Ana.Silva@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ana.silva@example.com");
        assert_eq!(email.local_part(), "ana.silva");
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "ana@example",
            "a na@x.io",
            "ana@.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(!format!("{:?}", Password::new("hunter2".into())).contains("hunter2"));
    }
}
