use roster_http::Cursor;
use roster_storage::quota::Quota;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::entities::location;
use super::events::{self, Change, Deletable};
use super::{calendars, now};
use crate::domain::{Geofence, Name, OptionalText};
use roster_bus::outbox;
use roster_storage::StoreError;

const NAME_INDEX: &str = "idx_locations_company_id_name";
const NAME_COLUMNS: &str = "locations.company_id, locations.name";
const NAME_TAKEN: &str = "a location with this name already exists in the company";

#[derive(Debug)]
pub struct NewLocation {
    pub name: Name,
    pub address: OptionalText,
    pub geofence: Geofence,
    pub holiday_calendar_id: Option<Uuid>,
}

/// Changes to a location; `None` keeps a field, `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct LocationChange {
    pub name: Option<Name>,
    pub address: Option<OptionalText>,
    pub geofence: Option<Geofence>,
    pub holiday_calendar_id: Option<Option<Uuid>>,
}

fn of_company(tenant: &Tenant) -> sea_orm::Select<location::Entity> {
    location::Entity::find().filter(location::Column::CompanyId.eq(tenant.company_id()))
}

/// A company's locations, at most `quotas.locations`.
const LOCATIONS: Quota = Quota {
    what: "locations",
    subject: "quota.locations",
};

#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    new: NewLocation,
    limit: u64,
) -> Result<location::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    LOCATIONS
        .check(&txn, tenant.company_id(), limit, of_company(tenant))
        .await?;
    if let Some(calendar_id) = new.holiday_calendar_id {
        calendars::check_exists(&txn, tenant, calendar_id, "holiday_calendar_id").await?;
    }
    let at = now();
    let location = location::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        name: Set(new.name.into_inner()),
        address: Set(new.address.into_inner()),
        latitude: Set(new.geofence.latitude),
        longitude: Set(new.geofence.longitude),
        radius_m: Set(new.geofence.radius_m),
        holiday_calendar_id: Set(new.holiday_calendar_id),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| StoreError::taken(e, NAME_INDEX, NAME_COLUMNS, "name", NAME_TAKEN))?;
    events::location(&txn, tenant, location.id, Change::Created).await?;
    outbox::commit(db, txn).await?;
    Ok(location)
}

pub async fn get(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<location::Model, StoreError> {
    of_company(tenant)
        .filter(location::Column::Id.eq(id))
        .one(&db.read(tenant).await?)
        .await?
        .ok_or(StoreError::NotFound("location"))
}

pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<location::Model>, StoreError> {
    Ok(cursor
        .page_by(of_company(tenant), location::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

#[tracing::instrument(skip(db))]
pub async fn update(
    db: &ServiceDb,
    tenant: &Tenant,
    id: Uuid,
    change: LocationChange,
) -> Result<location::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let current = of_company(tenant)
        .filter(location::Column::Id.eq(id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("location"))?;
    if let Some(Some(calendar_id)) = change.holiday_calendar_id {
        calendars::check_exists(&txn, tenant, calendar_id, "holiday_calendar_id").await?;
    }
    let mut location: location::ActiveModel = current.into();
    if let Some(name) = change.name {
        location.name = Set(name.into_inner());
    }
    if let Some(address) = change.address {
        location.address = Set(address.into_inner());
    }
    if let Some(geofence) = change.geofence {
        location.latitude = Set(geofence.latitude);
        location.longitude = Set(geofence.longitude);
        location.radius_m = Set(geofence.radius_m);
    }
    if let Some(calendar_id) = change.holiday_calendar_id {
        location.holiday_calendar_id = Set(calendar_id);
    }
    location.updated_at = Set(now());
    let location = location
        .update(&txn)
        .await
        .map_err(|e| StoreError::taken(e, NAME_INDEX, NAME_COLUMNS, "name", NAME_TAKEN))?;
    events::location(&txn, tenant, id, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(location)
}

#[tracing::instrument(skip(db))]
pub async fn delete(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    of_company(tenant)
        .filter(location::Column::Id.eq(id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("location"))?;
    events::deleted(&txn, tenant, Deletable::Location, id).await?;
    location::Entity::delete_by_id(id).exec(&txn).await?;
    outbox::commit(db, txn).await?;
    Ok(())
}
