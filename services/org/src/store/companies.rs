use roster_storage::lock::{self, Subject};
use roster_storage::{Scope, ServiceDb, Tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entities::{company, company_settings, holiday_calendar, removed_company, team};
use super::events::{self, Change};
use super::{lock_company, now};
use crate::domain::{Currency, Locale, Month, Name, Timezone, WorkingDays};
use roster_bus::outbox;
use roster_storage::StoreError;

/// The name of the calendar every company starts with.
pub const DEFAULT_CALENDAR: &str = "Public holidays";

/// What creating and removing a company under a given id (a signup's step and its
/// compensation) are about: the two never interleave.
fn creation(id: Uuid) -> Subject {
    Subject::global("org.company", id)
}

/// Creates the company with this id, default settings and its default holiday
/// calendar; or, when it exists, answers it unchanged. Repeating it is harmless; a
/// company removed under this id is never created again (409).
#[tracing::instrument(skip(db))]
pub async fn ensure(
    db: &ServiceDb,
    id: Uuid,
    name: Name,
) -> Result<(company::Model, company_settings::Model), StoreError> {
    let txn = db.begin_write(Tenant::of_company(id)).await?;
    lock::hold(&txn, &[creation(id)]).await?;
    if removed_company::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(
            "a company was removed under this id; it cannot be created again",
        ));
    }
    if let Some(company) = company::Entity::find_by_id(id).one(&txn).await? {
        let settings = company_settings::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("company"))?;
        return Ok((company, settings));
    }
    let at = now();
    let company = company::ActiveModel {
        id: Set(id),
        name: Set(name.into_inner()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let settings = company_settings::ActiveModel {
        company_id: Set(id),
        timezone: Set(Timezone::utc().as_str().to_owned()),
        working_days: Set(WorkingDays::standard().bits()),
        locale: Set(Locale::english().as_str().to_owned()),
        currency: Set(Currency::euro().as_str().to_owned()),
        fiscal_year_start_month: Set(Month::january().get()),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let calendar_id = Uuid::now_v7();
    holiday_calendar::ActiveModel {
        id: Set(calendar_id),
        company_id: Set(id),
        name: Set(DEFAULT_CALENDAR.to_owned()),
        is_default: Set(true),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    let tenant = Tenant::of_company(id);
    events::company(&txn, &tenant, Change::Created).await?;
    events::calendar(&txn, &tenant, calendar_id, Change::Created).await?;
    outbox::commit(db, txn).await?;
    Ok((company, settings))
}

/// Removes the tenant's company and everything it has (a signup saga's compensation),
/// and keeps its id so that it is never created again. Succeeds when there is nothing
/// to remove.
#[tracing::instrument(skip(db))]
pub async fn remove(db: &ServiceDb, tenant: &Tenant) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock::hold(&txn, &[creation(tenant.company_id())]).await?;
    if removed_company::Entity::find_by_id(tenant.company_id())
        .one(&txn)
        .await?
        .is_none()
    {
        removed_company::ActiveModel {
            id: Set(tenant.company_id()),
            removed_at: Set(now()),
        }
        .insert(&txn)
        .await?;
    }
    // Teams first, leaves before parents: the tree's own key does not cascade.
    loop {
        let removed = team::Entity::delete_many()
            .filter(team::Column::CompanyId.eq(tenant.company_id()))
            .filter(
                team::Column::Id.not_in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(team::Column::ParentId)
                        .from(team::Entity)
                        .and_where(team::Column::ParentId.is_not_null())
                        .to_owned(),
                ),
            )
            .exec(&txn)
            .await?
            .rows_affected;
        if removed == 0 {
            break;
        }
    }
    events::company_removed(&txn, tenant).await?;
    company::Entity::delete_by_id(tenant.company_id())
        .exec(&txn)
        .await?;
    outbox::commit(db, txn).await?;
    Ok(())
}

/// Whether any company exists, whichever (`named` none), or one named `named`.
pub async fn any(db: &ServiceDb, named: Option<&str>) -> Result<bool, StoreError> {
    let mut find = company::Entity::find();
    if let Some(name) = named {
        find = find.filter(company::Column::Name.eq(name));
    }
    Ok(find
        .one(&db.read(Scope::AllCompanies).await?)
        .await?
        .is_some())
}

/// The tenant's company and its settings.
pub async fn get(
    db: &ServiceDb,
    tenant: &Tenant,
) -> Result<(company::Model, company_settings::Model), StoreError> {
    let txn = db.read(tenant).await?;
    let company = company::Entity::find_by_id(tenant.company_id())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("company"))?;
    let settings = company_settings::Entity::find_by_id(tenant.company_id())
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("company"))?;
    Ok((company, settings))
}

#[tracing::instrument(skip(db))]
pub async fn rename(
    db: &ServiceDb,
    tenant: &Tenant,
    name: Name,
) -> Result<company::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let mut company: company::ActiveModel = lock_company(&txn, tenant).await?.into();
    company.name = Set(name.into_inner());
    company.updated_at = Set(now());
    let company = company.update(&txn).await?;
    events::company(&txn, tenant, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(company)
}

/// Changes to a company's settings; absent fields keep their value.
#[derive(Debug, Default)]
pub struct SettingsChange {
    pub timezone: Option<Timezone>,
    pub working_days: Option<WorkingDays>,
    pub locale: Option<Locale>,
    pub currency: Option<Currency>,
    pub fiscal_year_start_month: Option<Month>,
}

#[tracing::instrument(skip(db))]
pub async fn update_settings(
    db: &ServiceDb,
    tenant: &Tenant,
    change: SettingsChange,
) -> Result<company_settings::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let mut settings: company_settings::ActiveModel =
        company_settings::Entity::find_by_id(tenant.company_id())
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("company"))?
            .into();
    if let Some(tz) = change.timezone {
        settings.timezone = Set(tz.as_str().to_owned());
    }
    if let Some(days) = change.working_days {
        settings.working_days = Set(days.bits());
    }
    if let Some(locale) = change.locale {
        settings.locale = Set(locale.as_str().to_owned());
    }
    if let Some(currency) = change.currency {
        settings.currency = Set(currency.as_str().to_owned());
    }
    if let Some(month) = change.fiscal_year_start_month {
        settings.fiscal_year_start_month = Set(month.get());
    }
    settings.updated_at = Set(now());
    let settings = settings.update(&txn).await?;
    events::company(&txn, tenant, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(settings)
}
