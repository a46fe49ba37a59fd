//! Leave types and their policies.

use roster_storage::StoreError;
use roster_storage::quota::Quota;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use time::OffsetDateTime;
use uuid::Uuid;

use super::entities::leave_type;
use crate::domain::{Accrual, Days, Period};

/// A leave type as an administrator defines it.
#[derive(Debug, Clone)]
pub struct NewType {
    pub name: String,
    pub paid: bool,
    pub annual_allowance: Days,
    pub accrual: Accrual,
    pub carry_forward_max: Days,
    pub carry_forward_expiry_months: Option<i32>,
    pub requires_approval: bool,
}

/// A company's leave types, at most `quotas.leave_types`.
const LEAVE_TYPES: Quota = Quota {
    what: "leave_types",
    subject: "quota.leave_types",
};

/// Creates a leave type, within the company's quota (`limit`); accrual begins with
/// the period holding the company's today.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    new: NewType,
    limit: u64,
) -> Result<leave_type::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let company_id = tenant.company_id();
    let held = leave_type::Entity::find().filter(leave_type::Column::CompanyId.eq(company_id));
    LEAVE_TYPES.check(&txn, company_id, limit, held).await?;
    let now = OffsetDateTime::now_utc();
    let today = roster_replica::company_today(&txn, tenant.company_id(), now).await?;
    let accrual_start = Period::of(new.accrual, today).map_or(today, Period::start);
    let row = leave_type::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        name: Set(new.name),
        paid: Set(new.paid),
        annual_allowance: Set(new.annual_allowance.thousandths()),
        accrual: Set(new.accrual),
        carry_forward_max: Set(new.carry_forward_max.thousandths()),
        carry_forward_expiry_months: Set(new.carry_forward_expiry_months),
        requires_approval: Set(new.requires_approval),
        accrual_start: Set(accrual_start),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        StoreError::taken(
            e,
            "idx_leave_types_company_id_name",
            "leave_types.company_id, leave_types.name",
            "name",
            "a leave type of this name exists already",
        )
    })?;
    txn.commit().await?;
    Ok(row)
}

/// The company's leave types, by name.
pub async fn list(db: &ServiceDb, tenant: &Tenant) -> Result<Vec<leave_type::Model>, StoreError> {
    Ok(leave_type::Entity::find()
        .filter(leave_type::Column::CompanyId.eq(tenant.company_id()))
        .order_by_asc(leave_type::Column::Name)
        .all(&db.read(tenant).await?)
        .await?)
}
