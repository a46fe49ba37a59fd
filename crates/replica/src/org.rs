//! The copy of org's data that a service needs beside its employees: a company's
//! time zone and working days, its locations (for geofences), its holiday calendars.
//! Fed by org's events, each aggregate at the revision its latest event carries.

use roster_events::{Calendar, Company, Envelope, Event, Location};
use roster_migrate::prelude::{
    Alias, DbErr, Expr, ForeignKey, ForeignKeyAction, Index, IntoIden, MigrationName,
    MigrationTrait, SchemaManager, Table,
};
use roster_migrate::schema::{
    big_integer, boolean, date, double, integer, pk_uuid, string_len, timestamp_with_time_zone,
    uuid, uuid_null,
};
use roster_migrate::{Migrations, TenantPolicies, TenantTable, drop_tables, index};
use sea_orm::sea_query::{ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, Value};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const COMPANIES: &str = "org_companies";
const LOCATIONS: &str = "org_locations";
const CALENDARS: &str = "org_calendars";
const HOLIDAYS: &str = "org_holidays";

/// A part of org a service keeps a copy of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgPart {
    /// Each company's time zone and working days.
    Companies,
    /// Each location's position and geofence radius.
    Locations,
    /// Holiday calendars with their holidays.
    Calendars,
}

/// The parts of org a service keeps.
#[derive(Debug, Clone, Copy)]
pub struct OrgReplica {
    pub parts: &'static [OrgPart],
}

/// A company's settings as the replica holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRules {
    /// An IANA time zone.
    pub timezone: String,
    /// ISO weekdays worked (1 = Monday).
    pub working_days: Vec<u8>,
}

/// A location as the replica holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub id: Uuid,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub radius_m: i32,
}

impl Place {
    /// The distance in metres from this place to a position (haversine, on a sphere
    /// of the Earth's mean radius).
    pub fn distance_m(&self, latitude: f64, longitude: f64) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (phi1, phi2) = (self.latitude.to_radians(), latitude.to_radians());
        let d_phi = (latitude - self.latitude).to_radians();
        let d_lambda = (longitude - self.longitude).to_radians();
        let a =
            (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().clamp(0.0, 1.0).asin()
    }

    /// Whether a position falls within the place's geofence.
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        self.distance_m(latitude, longitude) <= f64::from(self.radius_m)
    }
}

fn days_text(days: &[u8]) -> String {
    days.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

fn days_of(text: &str) -> Vec<u8> {
    text.split(',').filter_map(|d| d.parse().ok()).collect()
}

fn revision(envelope: &Envelope) -> i64 {
    i64::try_from(envelope.sequence).unwrap_or(i64::MAX)
}

impl OrgReplica {
    fn keeps(&self, part: OrgPart) -> bool {
        self.parts.contains(&part)
    }

    /// Applies one of org's events within the caller's transaction; events of parts
    /// it does not keep (and of other services) change nothing.
    pub async fn apply(
        &self,
        conn: &impl ConnectionTrait,
        envelope: &Envelope,
        event: &Event,
    ) -> Result<(), DbErr> {
        match event {
            Event::CompanyCreated(company) | Event::CompanyUpdated(company)
                if self.keeps(OrgPart::Companies) =>
            {
                write_company(conn, envelope, company).await
            }
            Event::CompanyRemoved(removed) => {
                for (table, column, part) in [
                    (HOLIDAYS, "company_id", OrgPart::Calendars),
                    (CALENDARS, "company_id", OrgPart::Calendars),
                    (LOCATIONS, "company_id", OrgPart::Locations),
                    (COMPANIES, "id", OrgPart::Companies),
                ] {
                    if self.keeps(part) {
                        delete(conn, table, column, removed.id).await?;
                    }
                }
                Ok(())
            }
            Event::LocationCreated(location) | Event::LocationUpdated(location)
                if self.keeps(OrgPart::Locations) =>
            {
                write_location(conn, envelope, location).await
            }
            Event::LocationDeleted(removed) if self.keeps(OrgPart::Locations) => {
                delete(conn, LOCATIONS, "id", removed.id).await
            }
            Event::CalendarCreated(calendar) | Event::CalendarUpdated(calendar)
                if self.keeps(OrgPart::Calendars) =>
            {
                write_calendar(conn, envelope, calendar).await
            }
            Event::CalendarDeleted(removed) if self.keeps(OrgPart::Calendars) => {
                delete(conn, HOLIDAYS, "calendar_id", removed.id).await?;
                delete(conn, CALENDARS, "id", removed.id).await
            }
            _ => Ok(()),
        }
    }

    /// The migrations of the parts kept, named `<prefix>_org_replica` and
    /// `<prefix>_org_replica_policies`.
    pub fn migrations(self, tables: &'static str, policies: &'static str) -> Migrations {
        vec![
            Box::new(OrgReplicaTables {
                name: tables,
                replica: self,
            }),
            Box::new(TenantPolicies {
                name: policies,
                tables: self.tenant_tables(),
            }),
        ]
    }

    fn tenant_tables(&self) -> &'static [TenantTable] {
        const COMPANY: TenantTable = TenantTable::Company {
            table: COMPANIES,
            column: "id",
        };
        const LOCATION: TenantTable = TenantTable::Company {
            table: LOCATIONS,
            column: "company_id",
        };
        const CALENDAR: TenantTable = TenantTable::Company {
            table: CALENDARS,
            column: "company_id",
        };
        const HOLIDAY: TenantTable = TenantTable::Company {
            table: HOLIDAYS,
            column: "company_id",
        };
        use OrgPart::{Calendars, Companies, Locations};
        match (
            self.keeps(Companies),
            self.keeps(Locations),
            self.keeps(Calendars),
        ) {
            (true, true, true) => &[COMPANY, LOCATION, CALENDAR, HOLIDAY],
            (true, true, false) => &[COMPANY, LOCATION],
            (true, false, true) => &[COMPANY, CALENDAR, HOLIDAY],
            (true, false, false) => &[COMPANY],
            (false, true, true) => &[LOCATION, CALENDAR, HOLIDAY],
            (false, true, false) => &[LOCATION],
            (false, false, true) => &[CALENDAR, HOLIDAY],
            (false, false, false) => &[],
        }
    }
}

async fn write_company(
    conn: &impl ConnectionTrait,
    envelope: &Envelope,
    company: &Company,
) -> Result<(), DbErr> {
    upsert(
        conn,
        COMPANIES,
        &[
            ("id", company.id.into()),
            ("timezone", company.settings.timezone.clone().into()),
            (
                "working_days",
                days_text(&company.settings.working_days).into(),
            ),
            ("revision", revision(envelope).into()),
            ("updated_at", OffsetDateTime::now_utc().into()),
        ],
    )
    .await
    .map(drop)
}

async fn write_location(
    conn: &impl ConnectionTrait,
    envelope: &Envelope,
    location: &Location,
) -> Result<(), DbErr> {
    upsert(
        conn,
        LOCATIONS,
        &[
            ("id", location.id.into()),
            ("company_id", envelope.company_id.into()),
            ("name", location.name.clone().into()),
            ("latitude", location.latitude.into()),
            ("longitude", location.longitude.into()),
            ("radius_m", location.radius_m.into()),
            ("holiday_calendar_id", location.holiday_calendar_id.into()),
            ("revision", revision(envelope).into()),
            ("updated_at", OffsetDateTime::now_utc().into()),
        ],
    )
    .await
    .map(drop)
}

async fn write_calendar(
    conn: &impl ConnectionTrait,
    envelope: &Envelope,
    calendar: &Calendar,
) -> Result<(), DbErr> {
    let written = upsert(
        conn,
        CALENDARS,
        &[
            ("id", calendar.id.into()),
            ("company_id", envelope.company_id.into()),
            ("name", calendar.name.clone().into()),
            ("is_default", calendar.is_default.into()),
            ("revision", revision(envelope).into()),
            ("updated_at", OffsetDateTime::now_utc().into()),
        ],
    )
    .await?;
    if !written {
        return Ok(());
    }
    delete(conn, HOLIDAYS, "calendar_id", calendar.id).await?;
    if calendar.holidays.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table(Alias::new(HOLIDAYS)).columns(
        ["calendar_id", "date", "company_id", "name"]
            .into_iter()
            .map(Alias::new),
    );
    for holiday in &calendar.holidays {
        insert.values_panic([
            calendar.id.into(),
            holiday.date.into(),
            envelope.company_id.into(),
            holiday.name.clone().into(),
        ]);
    }
    conn.execute(&insert).await?;
    Ok(())
}

/// Inserts the row, or replaces the one with its id if that is at an older revision;
/// answers whether it wrote.
async fn upsert(
    conn: &impl ConnectionTrait,
    table: &'static str,
    values: &[(&'static str, Value)],
) -> Result<bool, DbErr> {
    let held = Expr::col((Alias::new(table), Alias::new("revision")));
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table))
        .columns(values.iter().map(|(column, _)| Alias::new(*column)))
        .on_conflict(
            OnConflict::column(Alias::new("id"))
                .update_columns(
                    values
                        .iter()
                        .filter(|(column, _)| *column != "id")
                        .map(|(column, _)| Alias::new(*column)),
                )
                .action_and_where(held.lt(Expr::cust("excluded.revision")))
                .to_owned(),
        )
        .values_panic(
            values
                .iter()
                .map(|(_, value)| SimpleExpr::from(value.clone())),
        )
        .returning_col(Alias::new("id"));
    Ok(!conn.query_all(&insert).await?.is_empty())
}

async fn delete(
    conn: &impl ConnectionTrait,
    table: &'static str,
    column: &'static str,
    id: Uuid,
) -> Result<(), DbErr> {
    conn.execute(
        Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).eq(id)),
    )
    .await?;
    Ok(())
}

/// A company's time zone and working days, once org's event about it has arrived.
pub async fn company_rules(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<Option<CompanyRules>, DbErr> {
    let select = Query::select()
        .columns([Alias::new("timezone"), Alias::new("working_days")])
        .from(Alias::new(COMPANIES))
        .and_where(Expr::col(Alias::new("id")).eq(company_id))
        .to_owned();
    let Some(row) = conn.query_one(&select).await? else {
        return Ok(None);
    };
    Ok(Some(CompanyRules {
        timezone: row.try_get("", "timezone")?,
        working_days: days_of(&row.try_get::<String>("", "working_days")?),
    }))
}

/// The company's locations, by name.
pub async fn places(conn: &impl ConnectionTrait, company_id: Uuid) -> Result<Vec<Place>, DbErr> {
    let select = Query::select()
        .columns(
            ["id", "name", "latitude", "longitude", "radius_m"]
                .into_iter()
                .map(Alias::new),
        )
        .from(Alias::new(LOCATIONS))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
        .order_by(Alias::new("name"), sea_orm::Order::Asc)
        .to_owned();
    conn.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(Place {
                id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
                latitude: row.try_get("", "latitude")?,
                longitude: row.try_get("", "longitude")?,
                radius_m: row.try_get("", "radius_m")?,
            })
        })
        .collect()
}

/// The holidays between `from` and `to` (inclusive) of the company's default
/// calendar, in date order.
pub async fn holidays(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    from: Date,
    to: Date,
) -> Result<Vec<Date>, DbErr> {
    let defaults = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(CALENDARS))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
        .and_where(Expr::col(Alias::new("is_default")).eq(true))
        .to_owned();
    let select = Query::select()
        .distinct()
        .column(Alias::new("date"))
        .from(Alias::new(HOLIDAYS))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
        .and_where(Expr::col(Alias::new("calendar_id")).in_subquery(defaults))
        .and_where(Expr::col(Alias::new("date")).between(from, to))
        .order_by(Alias::new("date"), sea_orm::Order::Asc)
        .to_owned();
    conn.query_all(&select)
        .await?
        .iter()
        .map(|row| row.try_get("", "date"))
        .collect()
}

/// The migration that creates the org replica's tables.
#[derive(Debug)]
pub struct OrgReplicaTables {
    name: &'static str,
    replica: OrgReplica,
}

impl MigrationName for OrgReplicaTables {
    fn name(&self) -> &str {
        self.name
    }
}

fn revised(table: &mut sea_orm::sea_query::TableCreateStatement) {
    table
        .col(big_integer(Alias::new("revision")))
        .col(timestamp_with_time_zone(Alias::new("updated_at")));
}

#[async_trait::async_trait]
impl MigrationTrait for OrgReplicaTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if self.replica.keeps(OrgPart::Companies) {
            let mut table = Table::create();
            table
                .table(Alias::new(COMPANIES))
                .col(pk_uuid(Alias::new("id")))
                .col(string_len(Alias::new("timezone"), 64))
                .col(string_len(Alias::new("working_days"), 16));
            revised(&mut table);
            manager.create_table(table.to_owned()).await?;
        }
        if self.replica.keeps(OrgPart::Locations) {
            let mut table = Table::create();
            table
                .table(Alias::new(LOCATIONS))
                .col(pk_uuid(Alias::new("id")))
                .col(uuid(Alias::new("company_id")))
                .col(string_len(Alias::new("name"), 200))
                .col(double(Alias::new("latitude")))
                .col(double(Alias::new("longitude")))
                .col(integer(Alias::new("radius_m")))
                .col(uuid_null(Alias::new("holiday_calendar_id")));
            revised(&mut table);
            manager.create_table(table.to_owned()).await?;
            manager
                .create_index(index(
                    "idx_org_locations_company_id",
                    Alias::new(LOCATIONS),
                    &["company_id"],
                ))
                .await?;
        }
        if self.replica.keeps(OrgPart::Calendars) {
            let mut table = Table::create();
            table
                .table(Alias::new(CALENDARS))
                .col(pk_uuid(Alias::new("id")))
                .col(uuid(Alias::new("company_id")))
                .col(string_len(Alias::new("name"), 200))
                .col(boolean(Alias::new("is_default")));
            revised(&mut table);
            manager.create_table(table.to_owned()).await?;
            manager
                .create_index(index(
                    "idx_org_calendars_company_id",
                    Alias::new(CALENDARS),
                    &["company_id"],
                ))
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(HOLIDAYS))
                        .col(uuid(Alias::new("calendar_id")))
                        .col(date(Alias::new("date")))
                        .col(uuid(Alias::new("company_id")))
                        .col(string_len(Alias::new("name"), 200))
                        .primary_key(
                            Index::create()
                                .col(Alias::new("calendar_id"))
                                .col(Alias::new("date")),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_org_holidays_calendar_id")
                                .from(Alias::new(HOLIDAYS), Alias::new("calendar_id"))
                                .to(Alias::new(CALENDARS), Alias::new("id"))
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index(
                    "idx_org_holidays_company_id_date",
                    Alias::new(HOLIDAYS),
                    &["company_id", "date"],
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut tables = Vec::new();
        if self.replica.keeps(OrgPart::Calendars) {
            tables.push(Alias::new(HOLIDAYS).into_iden());
            tables.push(Alias::new(CALENDARS).into_iden());
        }
        if self.replica.keeps(OrgPart::Locations) {
            tables.push(Alias::new(LOCATIONS).into_iden());
        }
        if self.replica.keeps(OrgPart::Companies) {
            tables.push(Alias::new(COMPANIES).into_iden());
        }
        drop_tables(manager, tables).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_geofence_holds_what_is_within_its_radius() {
        let office = Place {
            id: Uuid::nil(),
            name: "Lisbon".to_owned(),
            latitude: 38.7223,
            longitude: -9.1393,
            radius_m: 150,
        };
        assert!(office.contains(38.7223, -9.1393));
        // About 111 m north (a thousandth of a degree of latitude).
        assert!(office.contains(38.7233, -9.1393));
        assert!(!office.contains(38.7243, -9.1393));
        let porto = office.distance_m(41.1579, -8.6291);
        assert!((270_000.0..280_000.0).contains(&porto), "{porto}");
    }

    #[test]
    fn working_days_read_back_as_written() {
        assert_eq!(days_of(&days_text(&[1, 2, 3, 4, 5])), vec![1, 2, 3, 4, 5]);
        assert_eq!(days_of(""), Vec::<u8>::new());
    }
}
