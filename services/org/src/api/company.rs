use axum::extract::State;
use roster_contracts::org::COMPANY_NAME_MAX;
use roster_http::{ApiResult, Caller, Json, Problem};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{Currency, Locale, Month, Name, Timezone, WorkingDays};
use crate::store::companies::{self, SettingsChange};
use crate::store::entities::{company, company_settings};

/// The caller's company.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub settings: CompanySettings,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CompanySettings {
    /// IANA time zone, such as `Europe/Paris`: days and shifts are counted in it.
    pub timezone: String,
    /// The days people work, such as `["monday", ..., "friday"]`.
    pub working_days: Vec<String>,
    /// Language tag, such as `en` or `pt-BR`.
    pub locale: String,
    /// ISO 4217 code, such as `EUR`.
    pub currency: String,
    /// The month the fiscal and leave year starts, 1 to 12.
    pub fiscal_year_start_month: i16,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<company_settings::Model> for CompanySettings {
    fn from(s: company_settings::Model) -> Self {
        Self {
            timezone: s.timezone,
            working_days: WorkingDays::from_bits(s.working_days).names(),
            locale: s.locale,
            currency: s.currency,
            fiscal_year_start_month: s.fiscal_year_start_month,
            updated_at: s.updated_at,
        }
    }
}

fn company(company: company::Model, settings: company_settings::Model) -> Company {
    Company {
        id: company.id,
        name: company.name,
        settings: settings.into(),
        created_at: company.created_at,
        updated_at: company.updated_at,
    }
}

/// The caller's company, with its settings.
#[utoipa::path(get, path = "/api/v1/org/company", tag = "org", security(("bearer" = [])),
    responses((status = 200, body = Company), (status = 401, body = Problem)))]
pub(super) async fn get_company(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<Company>> {
    let (c, s) = companies::get(&ctx.db, &caller.tenant()).await?;
    Ok(Json(company(c, s)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompany {
    pub name: String,
}

/// Renames the company (admin).
#[utoipa::path(patch, path = "/api/v1/org/company", tag = "org", security(("bearer" = [])),
    request_body = UpdateCompany,
    responses((status = 200, body = Company), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn update_company(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<UpdateCompany>,
) -> ApiResult<Json<Company>> {
    let tenant = caller.tenant();
    companies::rename(
        &ctx.db,
        &tenant,
        Name::parse("name", &body.name, COMPANY_NAME_MAX)?,
    )
    .await?;
    let (c, s) = companies::get(&ctx.db, &tenant).await?;
    Ok(Json(company(c, s)))
}

/// The company's settings.
#[utoipa::path(get, path = "/api/v1/org/company/settings", tag = "org", security(("bearer" = [])),
    responses((status = 200, body = CompanySettings), (status = 401, body = Problem)))]
pub(super) async fn get_settings(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<CompanySettings>> {
    let (_, settings) = companies::get(&ctx.db, &caller.tenant()).await?;
    Ok(Json(settings.into()))
}

/// Any of the settings; absent ones keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    pub timezone: Option<String>,
    pub working_days: Option<Vec<String>>,
    pub locale: Option<String>,
    pub currency: Option<String>,
    pub fiscal_year_start_month: Option<i64>,
}

/// Changes the company's settings (admin).
#[utoipa::path(patch, path = "/api/v1/org/company/settings", tag = "org", security(("bearer" = [])),
    request_body = UpdateSettings,
    responses((status = 200, body = CompanySettings), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(super) async fn update_settings(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<UpdateSettings>,
) -> ApiResult<Json<CompanySettings>> {
    let change = SettingsChange {
        timezone: body.timezone.as_deref().map(Timezone::parse).transpose()?,
        working_days: body
            .working_days
            .as_deref()
            .map(WorkingDays::parse)
            .transpose()?,
        locale: body.locale.as_deref().map(Locale::parse).transpose()?,
        currency: body.currency.as_deref().map(Currency::parse).transpose()?,
        fiscal_year_start_month: body
            .fiscal_year_start_month
            .map(|m| Month::parse("fiscal_year_start_month", m))
            .transpose()?,
    };
    let settings = companies::update_settings(&ctx.db, &caller.tenant(), change).await?;
    Ok(Json(settings.into()))
}
