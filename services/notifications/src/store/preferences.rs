//! Each person's channels: in-app and email on or off, for every kind at once (`*`)
//! and for each kind. A channel reaches a person for a kind unless they turned it
//! off for every kind or for that one; nobody has to set anything to be notified.

use std::collections::BTreeMap;

use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::preference;

/// The row that holds a person's choice for every kind.
pub const EVERY_KIND: &str = "*";

/// Which channels are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
}

impl Default for Channels {
    fn default() -> Self {
        Self {
            in_app: true,
            email: true,
        }
    }
}

impl Channels {
    fn and(self, other: Self) -> Self {
        Self {
            in_app: self.in_app && other.in_app,
            email: self.email && other.email,
        }
    }
}

impl From<&preference::Model> for Channels {
    fn from(row: &preference::Model) -> Self {
        Self {
            in_app: row.in_app,
            email: row.email,
        }
    }
}

/// The channels by which `employee_id` gets notifications of `kind`, in the caller's
/// transaction.
pub async fn channels(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    employee_id: Uuid,
    kind: &str,
) -> Result<Channels, sea_orm::DbErr> {
    let rows = preference::Entity::find()
        .filter(preference::Column::CompanyId.eq(company_id))
        .filter(preference::Column::EmployeeId.eq(employee_id))
        .filter(preference::Column::Kind.is_in([EVERY_KIND, kind]))
        .all(conn)
        .await?;
    Ok(rows
        .iter()
        .fold(Channels::default(), |on, row| on.and(Channels::from(row))))
}

/// What `employee_id` chose: by kind, `*` for every kind; what they never set is
/// absent.
pub async fn of(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
) -> Result<BTreeMap<String, Channels>, StoreError> {
    Ok(preference::Entity::find()
        .filter(preference::Column::CompanyId.eq(tenant.company_id()))
        .filter(preference::Column::EmployeeId.eq(employee_id))
        .all(&db.read(tenant).await?)
        .await?
        .iter()
        .map(|row| (row.kind.clone(), Channels::from(row)))
        .collect())
}

/// Keeps `employee_id`'s choices, kind by kind (`*` for every kind); the kinds not
/// named keep theirs.
pub async fn put(
    db: &ServiceDb,
    tenant: &Tenant,
    employee_id: Uuid,
    choices: &BTreeMap<String, Channels>,
) -> Result<(), StoreError> {
    if choices.is_empty() {
        return Ok(());
    }
    let txn = db.begin_write(tenant).await?;
    let now = OffsetDateTime::now_utc();
    let rows = choices.iter().map(|(kind, on)| preference::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        employee_id: Set(employee_id),
        kind: Set(kind.clone()),
        in_app: Set(on.in_app),
        email: Set(on.email),
        updated_at: Set(now),
    });
    preference::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                preference::Column::CompanyId,
                preference::Column::EmployeeId,
                preference::Column::Kind,
            ])
            .update_columns([
                preference::Column::InApp,
                preference::Column::Email,
                preference::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
