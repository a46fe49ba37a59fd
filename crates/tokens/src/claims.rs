use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::ISSUER;

/// What a verified token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The employee id.
    pub sub: Uuid,
    pub company_id: Uuid,
    pub roles: Vec<Role>,
    /// The session id.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn new(
        employee_id: Uuid,
        company_id: Uuid,
        roles: Vec<Role>,
        session_id: Uuid,
        ttl: Duration,
    ) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            sub: employee_id,
            company_id,
            roles,
            sid: session_id,
            iss: ISSUER.to_owned(),
            aud: ISSUER.to_owned(),
            iat: now.unix_timestamp(),
            exp: (now + ttl).unix_timestamp(),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What a person may do in their company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A company administrator.
    Admin,
    Manager,
    Employee,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Admin, Self::Manager, Self::Employee];

    /// `admin`, `manager` or `employee`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Employee => "employee",
        }
    }
}
