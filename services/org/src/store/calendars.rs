//! Holiday calendars and their holidays.

use roster_http::Cursor;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use time::Date;
use uuid::Uuid;

use super::entities::{holiday, holiday_calendar, location};
use super::events::{self, Change, Deletable};
use super::{lock_company, now};
use crate::domain::{Invalid, Name};
use roster_bus::outbox;
use roster_storage::StoreError;

const CALENDAR_INDEX: &str = "idx_holiday_calendars_company_id_name";
const CALENDAR_COLUMNS: &str = "holiday_calendars.company_id, holiday_calendars.name";
const CALENDAR_TAKEN: &str = "a calendar with this name already exists in the company";
const HOLIDAY_INDEX: &str = "idx_holidays_calendar_id_date";
const HOLIDAY_COLUMNS: &str = "holidays.calendar_id, holidays.date";
const HOLIDAY_TAKEN: &str = "the calendar already has a holiday on this date";

fn calendars_of(tenant: &Tenant) -> sea_orm::Select<holiday_calendar::Entity> {
    holiday_calendar::Entity::find()
        .filter(holiday_calendar::Column::CompanyId.eq(tenant.company_id()))
}

fn holidays_of(tenant: &Tenant) -> sea_orm::Select<holiday::Entity> {
    holiday::Entity::find().filter(holiday::Column::CompanyId.eq(tenant.company_id()))
}

async fn find_calendar(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
) -> Result<Option<holiday_calendar::Model>, StoreError> {
    Ok(calendars_of(tenant)
        .filter(holiday_calendar::Column::Id.eq(id))
        .one(conn)
        .await?)
}

/// A calendar referenced from another record must be the company's: 422 on `field`.
pub(super) async fn check_exists(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
    field: &'static str,
) -> Result<(), StoreError> {
    match find_calendar(conn, tenant, id).await? {
        Some(_) => Ok(()),
        None => Err(Invalid::new(field, "no holiday calendar of this company has this id").into()),
    }
}

/// Makes `id` the company's only default calendar; the calendar that stops being the
/// default records its change.
async fn make_default(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
) -> Result<(), StoreError> {
    let previous: Vec<Uuid> = calendars_of(tenant)
        .filter(holiday_calendar::Column::IsDefault.eq(true))
        .filter(holiday_calendar::Column::Id.ne(id))
        .select_only()
        .column(holiday_calendar::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    holiday_calendar::Entity::update_many()
        .col_expr(holiday_calendar::Column::IsDefault, Expr::value(false))
        .filter(holiday_calendar::Column::CompanyId.eq(tenant.company_id()))
        .filter(holiday_calendar::Column::Id.ne(id))
        .exec(conn)
        .await?;
    for calendar in previous {
        events::calendar(conn, tenant, calendar, Change::Updated).await?;
    }
    Ok(())
}

#[tracing::instrument(skip(db))]
pub async fn create_calendar(
    db: &ServiceDb,
    tenant: &Tenant,
    name: Name,
    is_default: bool,
) -> Result<holiday_calendar::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let at = now();
    let id = Uuid::now_v7();
    let calendar = holiday_calendar::ActiveModel {
        id: Set(id),
        company_id: Set(tenant.company_id()),
        name: Set(name.into_inner()),
        is_default: Set(is_default),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| StoreError::taken(e, CALENDAR_INDEX, CALENDAR_COLUMNS, "name", CALENDAR_TAKEN))?;
    if is_default {
        make_default(&txn, tenant, id).await?;
    }
    events::calendar(&txn, tenant, id, Change::Created).await?;
    outbox::commit(db, txn).await?;
    Ok(calendar)
}

pub async fn list_calendars(
    db: &ServiceDb,
    tenant: &Tenant,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<holiday_calendar::Model>, StoreError> {
    Ok(cursor
        .page_by(calendars_of(tenant), holiday_calendar::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

pub async fn get_calendar(
    db: &ServiceDb,
    tenant: &Tenant,
    id: Uuid,
) -> Result<holiday_calendar::Model, StoreError> {
    find_calendar(&db.read(tenant).await?, tenant, id)
        .await?
        .ok_or(StoreError::NotFound("holiday calendar"))
}

/// Renames a calendar or makes it the default. A default calendar stops being one only
/// when another becomes the default.
#[tracing::instrument(skip(db))]
pub async fn update_calendar(
    db: &ServiceDb,
    tenant: &Tenant,
    id: Uuid,
    name: Option<Name>,
    is_default: Option<bool>,
) -> Result<holiday_calendar::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let current = find_calendar(&txn, tenant, id)
        .await?
        .ok_or(StoreError::NotFound("holiday calendar"))?;
    if is_default == Some(false) && current.is_default {
        return Err(Invalid::new(
            "is_default",
            "a company always has a default calendar: make another one the default instead",
        )
        .into());
    }
    let mut calendar: holiday_calendar::ActiveModel = current.into();
    if let Some(name) = name {
        calendar.name = Set(name.into_inner());
    }
    if is_default == Some(true) {
        calendar.is_default = Set(true);
        make_default(&txn, tenant, id).await?;
    }
    calendar.updated_at = Set(now());
    let calendar = calendar.update(&txn).await.map_err(|e| {
        StoreError::taken(e, CALENDAR_INDEX, CALENDAR_COLUMNS, "name", CALENDAR_TAKEN)
    })?;
    events::calendar(&txn, tenant, id, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(calendar)
}

/// Deletes a calendar and its holidays; locations that used it fall back to the default.
#[tracing::instrument(skip(db))]
pub async fn delete_calendar(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let calendar = find_calendar(&txn, tenant, id)
        .await?
        .ok_or(StoreError::NotFound("holiday calendar"))?;
    if calendar.is_default {
        return Err(StoreError::Conflict(
            "the default calendar cannot be deleted: make another one the default first",
        ));
    }
    // Locations on this calendar fall back to the default: each records its change.
    let falling_back: Vec<Uuid> = location::Entity::find()
        .filter(location::Column::CompanyId.eq(tenant.company_id()))
        .filter(location::Column::HolidayCalendarId.eq(calendar.id))
        .select_only()
        .column(location::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;
    events::deleted(&txn, tenant, Deletable::Calendar, calendar.id).await?;
    holiday_calendar::Entity::delete_by_id(calendar.id)
        .exec(&txn)
        .await?;
    for location in falling_back {
        events::location(&txn, tenant, location, Change::Updated).await?;
    }
    outbox::commit(db, txn).await?;
    Ok(())
}

/// Adds a holiday to a calendar of the company, or to its default calendar.
#[tracing::instrument(skip(db))]
pub async fn create_holiday(
    db: &ServiceDb,
    tenant: &Tenant,
    calendar_id: Option<Uuid>,
    date: Date,
    name: Name,
) -> Result<holiday::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let calendar = match calendar_id {
        Some(id) => find_calendar(&txn, tenant, id).await?.ok_or_else(|| {
            StoreError::from(Invalid::new(
                "calendar_id",
                "no holiday calendar of this company has this id",
            ))
        })?,
        None => calendars_of(tenant)
            .filter(holiday_calendar::Column::IsDefault.eq(true))
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound("company"))?,
    };
    let at = now();
    let holiday = holiday::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        calendar_id: Set(calendar.id),
        date: Set(date),
        name: Set(name.into_inner()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| StoreError::taken(e, HOLIDAY_INDEX, HOLIDAY_COLUMNS, "date", HOLIDAY_TAKEN))?;
    events::calendar(&txn, tenant, calendar.id, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(holiday)
}

/// Which holidays to list.
#[derive(Debug, Default)]
pub struct HolidayFilter {
    pub calendar_id: Option<Uuid>,
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// A page of holidays in date order.
pub async fn list_holidays(
    db: &ServiceDb,
    tenant: &Tenant,
    filter: HolidayFilter,
    cursor: &Cursor<(Date, Uuid)>,
) -> Result<Vec<holiday::Model>, StoreError> {
    let mut query = holidays_of(tenant);
    if let Some(calendar_id) = filter.calendar_id {
        query = query.filter(holiday::Column::CalendarId.eq(calendar_id));
    }
    if let Some(from) = filter.from {
        query = query.filter(holiday::Column::Date.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(holiday::Column::Date.lte(to));
    }
    if let Some((date, id)) = cursor.after {
        query = query.filter(
            Condition::any().add(holiday::Column::Date.gt(date)).add(
                Condition::all()
                    .add(holiday::Column::Date.eq(date))
                    .add(holiday::Column::Id.gt(id)),
            ),
        );
    }
    Ok(query
        .order_by_asc(holiday::Column::Date)
        .order_by_asc(holiday::Column::Id)
        .limit(cursor.fetch())
        .all(&db.read(tenant).await?)
        .await?)
}

#[tracing::instrument(skip(db))]
pub async fn delete_holiday(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    let holiday = holidays_of(tenant)
        .filter(holiday::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("holiday"))?;
    holiday::Entity::delete_by_id(id).exec(&txn).await?;
    events::calendar(&txn, tenant, holiday.calendar_id, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(())
}
