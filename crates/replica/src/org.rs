//! The copy of org's data that a service needs beside its employees: a company's
//! time zone and working days, its locations (for geofences), its holiday calendars.
//! Fed by org's events, each aggregate at the revision its latest event carries.

use std::collections::{BTreeMap, BTreeSet};

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
use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::sea_query::{ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, Value};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{Over, Row};

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

/// A replica's rows by table, each by id.
pub type OrgRows = BTreeMap<&'static str, BTreeMap<Uuid, Row>>;

/// A calendar's holidays as one value, for comparing.
fn holidays_text<'h>(holidays: impl Iterator<Item = (Date, &'h str)>) -> String {
    holidays
        .map(|(date, name)| format!("{date} {name}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A column of the org replica read back as text, whatever its type.
fn read_text(row: &sea_orm::QueryResult, column: &str) -> Result<Option<String>, DbErr> {
    Ok(match column {
        "latitude" | "longitude" => Some(row.try_get::<f64>("", column)?.to_string()),
        "radius_m" => Some(row.try_get::<i32>("", column)?.to_string()),
        "is_default" => Some(row.try_get::<bool>("", column)?.to_string()),
        "holiday_calendar_id" => row
            .try_get::<Option<Uuid>>("", column)?
            .map(|id| id.to_string()),
        _ => row.try_get::<Option<String>>("", column)?,
    })
}

/// A company's settings as the replica holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRules {
    /// An IANA time zone.
    pub timezone: String,
    /// ISO weekdays worked (1 = Monday).
    pub working_days: Vec<u8>,
}

impl CompanyRules {
    /// The company's time zone.
    pub fn zone(&self) -> Zone {
        Zone::named(&self.timezone)
    }
}

/// A company's time zone, for the day a moment falls on.
#[derive(Debug, Clone)]
pub struct Zone(jiff::tz::TimeZone);

impl Zone {
    /// The named IANA zone; UTC for a name this build does not know (org checks the
    /// name when it is set, so that happens only with an older time zone database).
    pub fn named(name: &str) -> Self {
        Self(jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC))
    }

    /// The calendar day `at` falls on in this zone.
    pub fn date_of(&self, at: OffsetDateTime) -> Date {
        let day = jiff::Timestamp::from_second(at.unix_timestamp())
            .map(|t| t.to_zoned(self.0.clone()).date())
            .ok();
        day.and_then(|d| {
            let month = time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?;
            Date::from_calendar_date(i32::from(d.year()), month, u8::try_from(d.day()).ok()?).ok()
        })
        .unwrap_or_else(|| at.date())
    }
}

/// The day `at` falls on where the company is; in UTC until org's settings of it
/// have arrived.
pub async fn company_today(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    at: OffsetDateTime,
) -> Result<Date, DbErr> {
    Ok(company_rules(conn, company_id)
        .await?
        .map_or_else(|| at.date(), |rules| rules.zone().date_of(at)))
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

/// The company and revision a write is at, and which held row it may replace.
#[derive(Debug, Clone, Copy)]
struct At {
    company_id: Uuid,
    revision: i64,
    over: Over,
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
        let at = At {
            company_id: envelope.company_id,
            revision: i64::try_from(envelope.sequence).unwrap_or(i64::MAX),
            over: Over::Older,
        };
        self.write(conn, at, event).await
    }

    async fn write(&self, conn: &impl ConnectionTrait, at: At, event: &Event) -> Result<(), DbErr> {
        match event {
            Event::CompanyCreated(company) | Event::CompanyUpdated(company)
                if self.keeps(OrgPart::Companies) =>
            {
                write_company(conn, at, company).await
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
                write_location(conn, at, location).await
            }
            Event::LocationDeleted(removed) if self.keeps(OrgPart::Locations) => {
                delete(conn, LOCATIONS, "id", removed.id).await
            }
            Event::CalendarCreated(calendar) | Event::CalendarUpdated(calendar)
                if self.keeps(OrgPart::Calendars) =>
            {
                write_calendar(conn, at, calendar).await
            }
            Event::CalendarDeleted(removed) if self.keeps(OrgPart::Calendars) => {
                delete(conn, HOLIDAYS, "calendar_id", removed.id).await?;
                delete(conn, CALENDARS, "id", removed.id).await
            }
            _ => Ok(()),
        }
    }

    /// The tables kept, each with the columns compared (beside id, company and
    /// revision); a calendar's holidays are compared as one value.
    fn compared(&self) -> Vec<(&'static str, &'static [&'static str])> {
        [
            (
                OrgPart::Companies,
                COMPANIES,
                &["timezone", "working_days"][..],
            ),
            (
                OrgPart::Locations,
                LOCATIONS,
                &[
                    "name",
                    "latitude",
                    "longitude",
                    "radius_m",
                    "holiday_calendar_id",
                ],
            ),
            (OrgPart::Calendars, CALENDARS, &["name", "is_default"]),
        ]
        .into_iter()
        .filter(|(part, _, _)| self.keeps(*part))
        .map(|(_, table, columns)| (table, columns))
        .collect()
    }

    /// The rows the replica should hold for org's `sources` (each aggregate's company,
    /// revision and latest state), by table and id.
    pub fn project(&self, sources: &[(Uuid, u64, Event)]) -> OrgRows {
        let mut rows: OrgRows = self
            .compared()
            .into_iter()
            .map(|(table, _)| (table, BTreeMap::new()))
            .collect();
        for (company_id, revision, event) in sources {
            let (table, id, values): (&str, Uuid, Vec<(&'static str, Option<String>)>) = match event
            {
                Event::CompanyCreated(c) | Event::CompanyUpdated(c) => (
                    COMPANIES,
                    c.id,
                    vec![
                        ("timezone", Some(c.settings.timezone.clone())),
                        ("working_days", Some(days_text(&c.settings.working_days))),
                    ],
                ),
                Event::LocationCreated(l) | Event::LocationUpdated(l) => (
                    LOCATIONS,
                    l.id,
                    vec![
                        ("name", Some(l.name.clone())),
                        ("latitude", Some(l.latitude.to_string())),
                        ("longitude", Some(l.longitude.to_string())),
                        ("radius_m", Some(l.radius_m.to_string())),
                        (
                            "holiday_calendar_id",
                            l.holiday_calendar_id.map(|id| id.to_string()),
                        ),
                    ],
                ),
                Event::CalendarCreated(c) | Event::CalendarUpdated(c) => (
                    CALENDARS,
                    c.id,
                    vec![
                        ("name", Some(c.name.clone())),
                        ("is_default", Some(c.is_default.to_string())),
                        (
                            "holidays",
                            Some(holidays_text(
                                c.holidays.iter().map(|h| (h.date, h.name.as_str())),
                            )),
                        ),
                    ],
                ),
                _ => continue,
            };
            if let Some(table) = rows.get_mut(table) {
                table.insert(
                    id,
                    Row {
                        company_id: *company_id,
                        revision: *revision,
                        values: values.into_iter().collect(),
                    },
                );
            }
        }
        rows
    }

    /// Every row of the replica, by table and id.
    pub async fn rows(&self, db: &ServiceDb) -> Result<OrgRows, DbError> {
        let txn = db.read(Scope::AllCompanies).await?;
        let mut all = OrgRows::new();
        for (table, columns) in self.compared() {
            let company = match table {
                COMPANIES => "id",
                _ => "company_id",
            };
            let mut select = Query::select();
            select
                .columns(["id", company, "revision"].into_iter().map(Alias::new))
                .columns(columns.iter().map(|c| Alias::new(*c)))
                .from(Alias::new(table));
            let mut rows = BTreeMap::new();
            for result in txn.query_all(&select).await? {
                let mut values = BTreeMap::new();
                for column in columns {
                    values.insert(*column, read_text(&result, column)?);
                }
                rows.insert(
                    result.try_get::<Uuid>("", "id")?,
                    Row {
                        company_id: result.try_get("", company)?,
                        revision: u64::try_from(result.try_get::<i64>("", "revision")?)
                            .unwrap_or(0),
                        values,
                    },
                );
            }
            all.insert(table, rows);
        }
        if let Some(calendars) = all.get_mut(CALENDARS) {
            let select = Query::select()
                .columns(["calendar_id", "date", "name"].into_iter().map(Alias::new))
                .from(Alias::new(HOLIDAYS))
                .order_by(Alias::new("date"), sea_orm::Order::Asc)
                .to_owned();
            let mut holidays: BTreeMap<Uuid, Vec<(Date, String)>> = BTreeMap::new();
            for result in txn.query_all(&select).await? {
                holidays
                    .entry(result.try_get("", "calendar_id")?)
                    .or_default()
                    .push((result.try_get("", "date")?, result.try_get("", "name")?));
            }
            for (id, row) in calendars.iter_mut() {
                let of = holidays.remove(id).unwrap_or_default();
                let text = holidays_text(of.iter().map(|(d, n)| (*d, n.as_str())));
                row.values.insert("holidays", Some(text));
            }
        }
        Ok(all)
    }

    /// Makes the replica equal to org's `sources`, in one small transaction per
    /// differing aggregate while the service keeps applying events: a row is written
    /// only where the replica is not at a later revision. The events' positions stay
    /// where they are (see [`crate::Replica::rebuild`]). Rows not in the source are
    /// deleted unless an event wrote them after `since` (the moment before the source
    /// was read). Answers (written, deleted).
    pub async fn rebuild(
        &self,
        db: &ServiceDb,
        sources: &[(Uuid, u64, Event)],
        since: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        let have = self.rows(db).await?;
        let want = self.project(sources);
        let mut written = 0;
        for (company_id, revision, event) in sources {
            let Some((table, id)) = Self::row_of(event) else {
                continue;
            };
            let (Some(wanted), Some(held)) = (want.get(table), have.get(table)) else {
                continue;
            };
            if wanted.get(&id) == held.get(&id) {
                continue;
            }
            let txn = db.begin_write(Scope::AllCompanies).await?;
            let at = At {
                company_id: *company_id,
                revision: i64::try_from(*revision).unwrap_or(i64::MAX),
                over: Over::NotNewer,
            };
            self.write(&txn, at, event).await?;
            txn.commit().await?;
            written += 1;
        }
        let mut deleted = 0;
        for (table, held) in &have {
            let known: BTreeSet<&Uuid> = want
                .get(table)
                .map(|w| w.keys().collect())
                .unwrap_or_default();
            let extra: Vec<Uuid> = held
                .keys()
                .filter(|id| !known.contains(id))
                .copied()
                .collect();
            if extra.is_empty() {
                continue;
            }
            let txn = db.begin_write(Scope::AllCompanies).await?;
            if *table == CALENDARS {
                txn.execute(
                    Query::delete().from_table(Alias::new(HOLIDAYS)).and_where(
                        Expr::col(Alias::new("calendar_id")).is_in(extra.iter().copied()),
                    ),
                )
                .await?;
            }
            deleted += txn
                .execute(
                    Query::delete()
                        .from_table(Alias::new(*table))
                        .and_where(Expr::col(Alias::new("id")).is_in(extra.iter().copied()))
                        .and_where(Expr::col(Alias::new("updated_at")).lt(since)),
                )
                .await?
                .rows_affected();
            txn.commit().await?;
        }
        Ok((written, deleted))
    }

    /// The table and id of the row an event of org's writes.
    fn row_of(event: &Event) -> Option<(&'static str, Uuid)> {
        match event {
            Event::CompanyCreated(c) | Event::CompanyUpdated(c) => Some((COMPANIES, c.id)),
            Event::LocationCreated(l) | Event::LocationUpdated(l) => Some((LOCATIONS, l.id)),
            Event::CalendarCreated(c) | Event::CalendarUpdated(c) => Some((CALENDARS, c.id)),
            _ => None,
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
    at: At,
    company: &Company,
) -> Result<(), DbErr> {
    upsert(
        conn,
        at,
        COMPANIES,
        &[
            ("id", company.id.into()),
            ("timezone", company.settings.timezone.clone().into()),
            (
                "working_days",
                days_text(&company.settings.working_days).into(),
            ),
            ("revision", at.revision.into()),
            ("updated_at", OffsetDateTime::now_utc().into()),
        ],
    )
    .await
    .map(drop)
}

async fn write_location(
    conn: &impl ConnectionTrait,
    at: At,
    location: &Location,
) -> Result<(), DbErr> {
    upsert(
        conn,
        at,
        LOCATIONS,
        &[
            ("id", location.id.into()),
            ("company_id", at.company_id.into()),
            ("name", location.name.clone().into()),
            ("latitude", location.latitude.into()),
            ("longitude", location.longitude.into()),
            ("radius_m", location.radius_m.into()),
            ("holiday_calendar_id", location.holiday_calendar_id.into()),
            ("revision", at.revision.into()),
            ("updated_at", OffsetDateTime::now_utc().into()),
        ],
    )
    .await
    .map(drop)
}

async fn write_calendar(
    conn: &impl ConnectionTrait,
    at: At,
    calendar: &Calendar,
) -> Result<(), DbErr> {
    let written = upsert(
        conn,
        at,
        CALENDARS,
        &[
            ("id", calendar.id.into()),
            ("company_id", at.company_id.into()),
            ("name", calendar.name.clone().into()),
            ("is_default", calendar.is_default.into()),
            ("revision", at.revision.into()),
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
            at.company_id.into(),
            holiday.name.clone().into(),
        ]);
    }
    conn.execute(&insert).await?;
    Ok(())
}

/// Inserts the row, or replaces the one with its id if `at.over` allows it against
/// its revision; answers whether it wrote.
async fn upsert(
    conn: &impl ConnectionTrait,
    at: At,
    table: &'static str,
    values: &[(&'static str, Value)],
) -> Result<bool, DbErr> {
    let held = Expr::col((Alias::new(table), Alias::new("revision")));
    let incoming = Expr::cust("excluded.revision");
    let replaceable = match at.over {
        Over::Older => held.lt(incoming),
        Over::NotNewer => held.lte(incoming),
    };
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
                .action_and_where(replaceable)
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
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn a_moment_falls_on_the_day_of_the_company_zone() {
        let late = datetime!(2026-11-30 23:30 UTC);
        assert_eq!(Zone::named("UTC").date_of(late), date!(2026 - 11 - 30));
        assert_eq!(
            Zone::named("Europe/Lisbon").date_of(late),
            date!(2026 - 11 - 30)
        );
        assert_eq!(
            Zone::named("Europe/Berlin").date_of(late),
            date!(2026 - 12 - 01)
        );
        assert_eq!(
            Zone::named("America/New_York").date_of(datetime!(2026-12-01 03:00 UTC)),
            date!(2026 - 11 - 30)
        );
    }

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
