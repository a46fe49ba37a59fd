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
