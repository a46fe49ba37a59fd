use roster_storage::{ServiceDb, Tenant};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use uuid::Uuid;

use super::entities::{company, company_settings, holiday_calendar};
use super::{lock_company, now};
use crate::OrgError;
use crate::domain::{Currency, Locale, Month, Name, Timezone, WorkingDays};

/// The name of the calendar every company starts with.
pub const DEFAULT_CALENDAR: &str = "Public holidays";

/// Creates a company with default settings and its default holiday calendar.
#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    name: Name,
) -> Result<(company::Model, company_settings::Model), OrgError> {
    let txn = db.begin_write().await?;
    let id = Uuid::now_v7();
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
    holiday_calendar::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(id),
        name: Set(DEFAULT_CALENDAR.to_owned()),
        is_default: Set(true),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((company, settings))
}

/// The tenant's company and its settings.
pub async fn get(
    db: &ServiceDb,
    tenant: &Tenant,
) -> Result<(company::Model, company_settings::Model), OrgError> {
    let company = company::Entity::find_by_id(tenant.company_id())
        .one(db.conn())
        .await?
        .ok_or(OrgError::NotFound("company"))?;
    let settings = company_settings::Entity::find_by_id(tenant.company_id())
        .one(db.conn())
        .await?
        .ok_or(OrgError::NotFound("company"))?;
    Ok((company, settings))
}

#[tracing::instrument(skip(db))]
pub async fn rename(
    db: &ServiceDb,
    tenant: &Tenant,
    name: Name,
) -> Result<company::Model, OrgError> {
    let txn = db.begin_write().await?;
    let mut company: company::ActiveModel = lock_company(&txn, tenant).await?.into();
    company.name = Set(name.into_inner());
    company.updated_at = Set(now());
    let company = company.update(&txn).await?;
    txn.commit().await?;
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
) -> Result<company_settings::Model, OrgError> {
    let txn = db.begin_write().await?;
    lock_company(&txn, tenant).await?;
    let mut settings: company_settings::ActiveModel =
        company_settings::Entity::find_by_id(tenant.company_id())
            .one(&txn)
            .await?
            .ok_or(OrgError::NotFound("company"))?
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
    txn.commit().await?;
    Ok(settings)
}
