//! Org's events, recorded in the transaction of the change. Each aggregate (a company
//! with its settings, a team, a location, a holiday calendar with its holidays)
//! counts its changes in a `revision` column, bumped here under the row's lock, and
//! the count numbers its events. Payloads are read back after the change, so they
//! carry the state the transaction commits.

use roster_bus::outbox;
use roster_events::{
    Calendar, Company, CompanySettings, Event, Holiday, Location, NewEvent, Removed, Team,
};
use roster_storage::{Scope, ServiceDb, Tenant};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::entities::{company, company_settings, holiday, holiday_calendar, location, team};
use crate::domain::WorkingDays;
use roster_storage::StoreError;

/// Whether an aggregate was just made or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Created,
    Updated,
}

/// Counts one more change of row `id` of `table`; answers the new count.
async fn bump(conn: &impl ConnectionTrait, table: &str, id: Uuid) -> Result<u64, StoreError> {
    let revision = Alias::new("revision");
    conn.execute(
        Query::update()
            .table(Alias::new(table))
            .value(revision.clone(), Expr::col(revision.clone()).add(1))
            .and_where(Expr::col(Alias::new("id")).eq(id)),
    )
    .await?;
    current(conn, table, id).await
}

/// The revision of row `id` of `table` (0 when there is none).
async fn current(conn: &impl ConnectionTrait, table: &str, id: Uuid) -> Result<u64, StoreError> {
    let row = conn
        .query_one(
            Query::select()
                .column(Alias::new("revision"))
                .from(Alias::new(table))
                .and_where(Expr::col(Alias::new("id")).eq(id)),
        )
        .await?;
    let revision = match row {
        Some(row) => row.try_get::<i64>("", "revision")?,
        None => 0,
    };
    Ok(u64::try_from(revision).unwrap_or(0))
}

async fn record(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    aggregate_id: Uuid,
    sequence: u64,
    event: Event,
) -> Result<(), StoreError> {
    let event = NewEvent {
        event,
        aggregate_id,
        sequence,
        company_id: tenant.company_id(),
    };
    outbox::record(conn, [event]).await?;
    Ok(())
}

fn pick<T>(change: Change, created: fn(T) -> Event, updated: fn(T) -> Event) -> fn(T) -> Event {
    match change {
        Change::Created => created,
        Change::Updated => updated,
    }
}

/// The company (with its settings) changed.
pub(super) async fn company(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    change: Change,
) -> Result<(), StoreError> {
    let id = tenant.company_id();
    let sequence = bump(conn, "companies", id).await?;
    let payload = company_state(conn, id).await?;
    let kind = pick(change, Event::CompanyCreated, Event::CompanyUpdated);
    record(conn, tenant, id, sequence, kind(payload)).await
}

/// Company `id` with its settings, as its events carry it.
async fn company_state(conn: &impl ConnectionTrait, id: Uuid) -> Result<Company, StoreError> {
    let company = company::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound("company"))?;
    let settings = company_settings::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound("company"))?;
    Ok(Company {
        id,
        name: company.name,
        settings: CompanySettings {
            timezone: settings.timezone,
            working_days: WorkingDays::from_bits(settings.working_days).iso_days(),
            locale: settings.locale,
            currency: settings.currency,
            fiscal_year_start_month: u8::try_from(settings.fiscal_year_start_month).unwrap_or(1),
        },
    })
}

/// The company is about to be removed, with everything it has.
pub(super) async fn company_removed(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
) -> Result<(), StoreError> {
    let id = tenant.company_id();
    let revision = current(conn, "companies", id).await?;
    if revision == 0 {
        return Ok(());
    }
    record(
        conn,
        tenant,
        id,
        revision + 1,
        Event::CompanyRemoved(Removed { id }),
    )
    .await
}

/// A team changed.
pub(super) async fn team(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
    change: Change,
) -> Result<(), StoreError> {
    let sequence = bump(conn, "teams", id).await?;
    let team = team::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound("team"))?;
    let payload = Team {
        id,
        parent_id: team.parent_id,
        name: team.name,
    };
    let kind = pick(change, Event::TeamCreated, Event::TeamUpdated);
    record(conn, tenant, id, sequence, kind(payload)).await
}

/// A location changed.
pub(super) async fn location(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
    change: Change,
) -> Result<(), StoreError> {
    let sequence = bump(conn, "locations", id).await?;
    let location = location::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound("location"))?;
    let payload = location_state(location);
    let kind = pick(change, Event::LocationCreated, Event::LocationUpdated);
    record(conn, tenant, id, sequence, kind(payload)).await
}

/// A holiday calendar, or one of its holidays, changed.
pub(super) async fn calendar(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
    change: Change,
) -> Result<(), StoreError> {
    let sequence = bump(conn, "holiday_calendars", id).await?;
    let calendar = holiday_calendar::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound("holiday calendar"))?;
    let payload = calendar_state(conn, calendar).await?;
    let kind = pick(change, Event::CalendarCreated, Event::CalendarUpdated);
    record(conn, tenant, id, sequence, kind(payload)).await
}

fn location_state(location: location::Model) -> Location {
    Location {
        id: location.id,
        name: location.name,
        address: location.address,
        latitude: location.latitude,
        longitude: location.longitude,
        radius_m: location.radius_m,
        holiday_calendar_id: location.holiday_calendar_id,
    }
}

/// A calendar with its holidays, in date order, as its events carry it.
async fn calendar_state(
    conn: &impl ConnectionTrait,
    calendar: holiday_calendar::Model,
) -> Result<Calendar, StoreError> {
    let holidays = holiday::Entity::find()
        .filter(holiday::Column::CalendarId.eq(calendar.id))
        .order_by_asc(holiday::Column::Date)
        .all(conn)
        .await?
        .into_iter()
        .map(|h| Holiday {
            id: h.id,
            date: h.date,
            name: h.name,
        })
        .collect();
    Ok(Calendar {
        id: calendar.id,
        name: calendar.name,
        is_default: calendar.is_default,
        holidays,
    })
}

/// Every company, location and holiday calendar as it now is: the event of its
/// latest state, with its company and revision. What replicas of org are checked
/// against and rebuilt from (`roster replicas`).
pub async fn sources(db: &ServiceDb) -> Result<Vec<(Uuid, u64, Event)>, StoreError> {
    let txn = db.read(Scope::AllCompanies).await?;
    let mut sources = Vec::new();
    for company in company::Entity::find()
        .order_by_asc(company::Column::Id)
        .all(&txn)
        .await?
    {
        let at = current(&txn, "companies", company.id).await?;
        let state = company_state(&txn, company.id).await?;
        sources.push((company.id, at, Event::CompanyUpdated(state)));
    }
    for location in location::Entity::find()
        .order_by_asc(location::Column::Id)
        .all(&txn)
        .await?
    {
        let (company_id, at) = (
            location.company_id,
            current(&txn, "locations", location.id).await?,
        );
        sources.push((
            company_id,
            at,
            Event::LocationUpdated(location_state(location)),
        ));
    }
    for calendar in holiday_calendar::Entity::find()
        .order_by_asc(holiday_calendar::Column::Id)
        .all(&txn)
        .await?
    {
        let (company_id, at) = (
            calendar.company_id,
            current(&txn, "holiday_calendars", calendar.id).await?,
        );
        let state = calendar_state(&txn, calendar).await?;
        sources.push((company_id, at, Event::CalendarUpdated(state)));
    }
    Ok(sources)
}

/// An aggregate of the company that can be deleted alone.
#[derive(Debug, Clone, Copy)]
pub(super) enum Deletable {
    Team,
    Location,
    Calendar,
}

impl Deletable {
    fn table(self) -> &'static str {
        match self {
            Self::Team => "teams",
            Self::Location => "locations",
            Self::Calendar => "holiday_calendars",
        }
    }

    fn event(self, removed: Removed) -> Event {
        match self {
            Self::Team => Event::TeamDeleted(removed),
            Self::Location => Event::LocationDeleted(removed),
            Self::Calendar => Event::CalendarDeleted(removed),
        }
    }
}

/// A team, location or calendar is about to be deleted.
pub(super) async fn deleted(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    what: Deletable,
    id: Uuid,
) -> Result<(), StoreError> {
    let revision = current(conn, what.table(), id).await?;
    let event = what.event(Removed { id });
    record(conn, tenant, id, revision + 1, event).await
}
