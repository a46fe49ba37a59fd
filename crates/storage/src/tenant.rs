use uuid::Uuid;

/// The company a query of tenant data is scoped to.
///
/// Store functions over tenant tables take a `&Tenant`, and every query they build
/// filters on its company, so a query without a company cannot be written by accident.
/// Requests get one only from a verified token ([`roster_http::Caller::tenant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tenant(Uuid);

impl Tenant {
    /// The tenant of a company whose id comes from a trusted source: a verified token,
    /// or a company this process has just created.
    pub fn of_company(company_id: Uuid) -> Self {
        Self(company_id)
    }

    pub fn company_id(&self) -> Uuid {
        self.0
    }
}

/// Whose rows a transaction may read and write.
///
/// In the PostgreSQL modes every tenant table has a row-level security policy that
/// shows and accepts only the rows of the transaction's scope; a transaction that did
/// not say sees none. On SQLite the scope is not enforced below the queries, which
/// filter on their [`Tenant`] themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One company's rows.
    Tenant(Tenant),
    /// Every company's rows: for work that is cross-company by nature and never on a
    /// caller's behalf (finding an account by email at login, resuming sagas, a
    /// service's internal routes, migrations of data).
    AllCompanies,
}

impl From<&Tenant> for Scope {
    fn from(tenant: &Tenant) -> Self {
        Self::Tenant(*tenant)
    }
}

impl From<Tenant> for Scope {
    fn from(tenant: Tenant) -> Self {
        Self::Tenant(tenant)
    }
}

/// The transaction-local setting naming the company of a [`Scope::Tenant`].
pub const COMPANY_SETTING: &str = "roster.company_id";
/// The transaction-local setting that is `on` in a [`Scope::AllCompanies`].
pub const ALL_COMPANIES_SETTING: &str = "roster.all_companies";

/// The row-level security condition for a table whose company is in `column`: true for
/// the rows of the transaction's scope, and for no row when it has none.
pub fn policy_condition(column: &str) -> String {
    format!(
        "current_setting('{ALL_COMPANIES_SETTING}', true) = 'on' \
         OR {} = NULLIF(current_setting('{COMPANY_SETTING}', true), '')::uuid",
        crate::ident(column)
    )
}

impl Scope {
    /// The values of [`COMPANY_SETTING`] and [`ALL_COMPANIES_SETTING`].
    pub(crate) fn settings(&self) -> (String, &'static str) {
        match self {
            Self::Tenant(tenant) => (tenant.company_id().to_string(), "off"),
            Self::AllCompanies => (String::new(), "on"),
        }
    }
}
