#![doc = include_str!("../README.md")]

mod org;

use std::collections::{BTreeMap, HashSet};

use roster_bus::inbox_migrations;
use roster_events::Employee;
use roster_migrate::prelude::{
    Alias, DbErr, Expr, ForeignKey, ForeignKeyAction, Index, IntoIden, MigrationName,
    MigrationTrait, SchemaManager, Table,
};
use roster_migrate::schema::{
    date_null, pk_uuid, string_len, string_len_null, timestamp_with_time_zone, uuid, uuid_null,
};
use roster_migrate::{Migrations, TenantPolicies, TenantTable, drop_tables, index};
use roster_storage::{DbError, Scope, ServiceDb};
use sea_orm::sea_query::{ExprTrait, OnConflict, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

pub use org::{
    CompanyRules, OrgPart, OrgReplica, OrgReplicaTables, OrgRows, Place, Zone, company_rules,
    company_today, holidays, places,
};

/// The aggregate kind of the events a replica follows (positions are kept per kind).
pub const AGGREGATE: &str = "people.employee";

const EMPLOYEES: &str = "employees";
const EMPLOYEE_TEAMS: &str = "employee_teams";
/// Rows a rebuild writes per transaction, so the service's own writes wait little.
const REBUILD_BATCH: usize = 500;

/// A field of the employee a replica may keep, beside the id, company, status and
/// revision that every replica keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    /// Name and surname.
    Names,
    Phone,
    Role,
    Position,
    Manager,
    HireDate,
    /// Team memberships, in `employee_teams`.
    Teams,
}

/// The columns of each field, in the `employees` table.
fn columns(field: Field) -> &'static [&'static str] {
    match field {
        Field::Email => &["email"],
        Field::Names => &["name", "surname"],
        Field::Phone => &["phone"],
        Field::Role => &["role"],
        Field::Position => &["position"],
        Field::Manager => &["manager_id"],
        Field::HireDate => &["hire_date"],
        Field::Teams => &[],
    }
}

/// The replica a service keeps: the fields it needs.
#[derive(Debug, Clone, Copy)]
pub struct Replica {
    pub fields: &'static [Field],
}

/// Which existing row a write may replace, by its revision.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Over {
    /// Only an older one: events never let an older state replace a newer one.
    Older,
    /// One not newer than the source: a rebuild repairs a row at the same revision.
    NotNewer,
}

/// What [`Replica::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Written,
    /// The replica already held this revision or a later one: nothing changed.
    Stale,
}

/// One employee as a replica holds them (or as they would, from the source): the
/// fields as text, for comparing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub company_id: Uuid,
    pub revision: u64,
    pub values: BTreeMap<&'static str, Option<String>>,
}

/// How a replica differs from its source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// In the source, not in the replica.
    pub missing: Vec<Uuid>,
    /// In the replica, not in the source.
    pub extra: Vec<Uuid>,
    /// At an older revision than the source: events in flight, or lost.
    pub behind: Vec<(Uuid, u64, u64)>,
    /// At the same revision with other values (or a newer one): the copy was changed
    /// by something other than events.
    pub different: Vec<(Uuid, Vec<&'static str>)>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.behind.is_empty()
            && self.different.is_empty()
    }
}

/// Compares a replica with the rows its source would give it.
pub fn compare(source: &BTreeMap<Uuid, Row>, replica: &BTreeMap<Uuid, Row>) -> Drift {
    let mut drift = Drift::default();
    for (id, want) in source {
        let Some(have) = replica.get(id) else {
            drift.missing.push(*id);
            continue;
        };
        if have.revision < want.revision {
            drift.behind.push((*id, have.revision, want.revision));
            continue;
        }
        let mut fields: Vec<&'static str> = want
            .values
            .iter()
            .filter(|(name, value)| have.values.get(*name) != Some(*value))
            .map(|(name, _)| *name)
            .collect();
        if have.company_id != want.company_id {
            fields.insert(0, "company_id");
        }
        if have.revision > want.revision {
            fields.push("revision");
        }
        if !fields.is_empty() {
            drift.different.push((*id, fields));
        }
    }
    drift.extra = replica
        .keys()
        .filter(|id| !source.contains_key(id))
        .copied()
        .collect();
    drift
}

/// A stored value as text, the way [`read_text`] reads it back.
fn as_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => s,
        Value::Uuid(id) => id.map(|id| id.to_string()),
        Value::TimeDate(date) => date.map(|d| d.to_string()),
        other => Some(other.to_string()),
    }
}

impl Replica {
    fn keeps(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }

    /// The value columns of `employees`, beside id, company, revision and times.
    fn value_columns(&self) -> Vec<&'static str> {
        std::iter::once("status")
            .chain(self.fields.iter().flat_map(|f| columns(*f).iter().copied()))
            .collect()
    }

    /// The value of `column` for `employee`, as stored.
    fn value(column: &str, employee: &Employee) -> Value {
        match column {
            "status" => employee.status.clone().into(),
            "email" => employee.email.clone().into(),
            "name" => employee.name.clone().into(),
            "surname" => employee.surname.clone().into(),
            "phone" => employee.phone.clone().into(),
            "role" => employee.role.clone().into(),
            "position" => employee.position.clone().into(),
            "manager_id" => employee.manager_id.into(),
            "hire_date" => employee.hire_date.into(),
            _ => Value::String(None),
        }
    }

    /// The row the replica should hold for `employee` at `revision`.
    pub fn project(&self, revision: u64, employee: &Employee) -> Row {
        let mut values: BTreeMap<&'static str, Option<String>> = self
            .value_columns()
            .into_iter()
            .map(|column| (column, as_text(Self::value(column, employee))))
            .collect();
        if self.keeps(Field::Teams) {
            values.insert("teams", Some(teams_text(&employee.team_ids)));
        }
        Row {
            company_id: employee.company_id,
            revision,
            values,
        }
    }

    /// Writes `employee` as of event `sequence` within the caller's transaction,
    /// unless the replica holds that revision or a later one already.
    pub async fn apply(
        &self,
        conn: &impl ConnectionTrait,
        sequence: u64,
        employee: &Employee,
    ) -> Result<Applied, DbErr> {
        let written = self
            .write_all(conn, [(sequence, employee)], Over::Older)
            .await?;
        Ok(match written.contains(&employee.id) {
            true => Applied::Written,
            false => Applied::Stale,
        })
    }

    /// Writes each employee as of its event's sequence, in one statement (and one for
    /// their teams), skipping those the replica holds at that revision or a later
    /// one; an employee named twice is written at the later sequence.
    pub async fn apply_all<'e>(
        &self,
        conn: &impl ConnectionTrait,
        employees: impl IntoIterator<Item = (u64, &'e Employee)>,
    ) -> Result<(), DbErr> {
        self.write_all(conn, employees, Over::Older)
            .await
            .map(|_| ())
    }

    /// Upserts the rows; an existing row is replaced only when `over` allows it
    /// against its revision (decided by the database, so a concurrent writer cannot
    /// slip in between a read and the write). Answers the ids written.
    async fn write_all<'e>(
        &self,
        conn: &impl ConnectionTrait,
        employees: impl IntoIterator<Item = (u64, &'e Employee)>,
        over: Over,
    ) -> Result<HashSet<Uuid>, DbErr> {
        // One row per employee in a statement: the database refuses to upsert a row
        // twice in one.
        let mut latest: BTreeMap<Uuid, (u64, &Employee)> = BTreeMap::new();
        for (sequence, employee) in employees {
            let entry = latest.entry(employee.id).or_insert((sequence, employee));
            if sequence > entry.0 {
                *entry = (sequence, employee);
            }
        }
        if latest.is_empty() {
            return Ok(HashSet::new());
        }
        let value_columns = self.value_columns();
        let updated: Vec<&'static str> = ["company_id", "revision", "updated_at"]
            .into_iter()
            .chain(value_columns.iter().copied())
            .collect();
        let now = OffsetDateTime::now_utc();
        let held = Expr::col((Alias::new(EMPLOYEES), Alias::new("revision")));
        let incoming = Expr::cust("excluded.revision");
        let replaceable = match over {
            Over::Older => held.lt(incoming),
            Over::NotNewer => held.lte(incoming),
        };
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(EMPLOYEES))
            .columns(
                std::iter::once("id")
                    .chain(updated.iter().copied())
                    .map(Alias::new),
            )
            .on_conflict(
                OnConflict::column(Alias::new("id"))
                    .update_columns(updated.iter().map(|c| Alias::new(*c)))
                    .action_and_where(replaceable)
                    .to_owned(),
            )
            .returning_col(Alias::new("id"));
        for (sequence, employee) in latest.values() {
            let revision = i64::try_from(*sequence).unwrap_or(i64::MAX);
            let row: Vec<SimpleExpr> = [
                employee.id.into(),
                employee.company_id.into(),
                revision.into(),
                now.into(),
            ]
            .into_iter()
            .chain(
                value_columns
                    .iter()
                    .map(|column| Self::value(column, employee).into()),
            )
            .collect();
            insert.values_panic(row);
        }
        let written = conn
            .query_all(&insert)
            .await?
            .iter()
            .map(|row| row.try_get::<Uuid>("", "id"))
            .collect::<Result<HashSet<Uuid>, DbErr>>()?;
        if self.keeps(Field::Teams) {
            let teams = latest
                .values()
                .filter(|(_, e)| written.contains(&e.id))
                .map(|(_, e)| *e);
            write_teams(conn, teams).await?;
        }
        Ok(written)
    }

    /// Every row of the replica, by employee id.
    pub async fn rows(&self, db: &ServiceDb) -> Result<BTreeMap<Uuid, Row>, DbError> {
        let txn = db.read(Scope::AllCompanies).await?;
        let columns = self.value_columns();
        let mut select = Query::select();
        select
            .columns(
                ["id", "company_id", "revision"]
                    .into_iter()
                    .chain(columns.iter().copied())
                    .map(Alias::new),
            )
            .from(Alias::new(EMPLOYEES));
        let mut rows = BTreeMap::new();
        for result in txn.query_all(&select).await? {
            let id: Uuid = result.try_get("", "id")?;
            let mut values = BTreeMap::new();
            for column in &columns {
                values.insert(*column, read_text(&result, column)?);
            }
            let row = Row {
                company_id: result.try_get("", "company_id")?,
                revision: u64::try_from(result.try_get::<i64>("", "revision")?).unwrap_or(0),
                values,
            };
            rows.insert(id, row);
        }
        if self.keeps(Field::Teams) {
            let mut teams: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
            let select = Query::select()
                .columns([Alias::new("employee_id"), Alias::new("team_id")])
                .from(Alias::new(EMPLOYEE_TEAMS))
                .to_owned();
            for result in txn.query_all(&select).await? {
                teams
                    .entry(result.try_get("", "employee_id")?)
                    .or_default()
                    .push(result.try_get("", "team_id")?);
            }
            for (id, row) in &mut rows {
                let mut of = teams.remove(id).unwrap_or_default();
                of.sort_unstable();
                row.values.insert("teams", Some(teams_text(&of)));
            }
        }
        Ok(rows)
    }

    /// Makes the replica equal to `sources` (each employee with the sequence of
    /// their latest event), in small transactions while the service keeps applying
    /// events: a row is written only where the replica is not at a later revision.
    /// The positions of the events are not moved: a rebuild repairs the copy, never
    /// what the events are for, so an event still on its way (or in dead letters) is
    /// applied when it comes, and the service reacts to it as it would have (the copy
    /// keeps the newer state). Rows not in the source are deleted unless an event wrote
    /// them after `since` (the moment before the source was read). Answers (written,
    /// deleted).
    pub async fn rebuild(
        &self,
        db: &ServiceDb,
        sources: &[(u64, Employee)],
        since: OffsetDateTime,
    ) -> Result<(u64, u64), DbError> {
        let have = self.rows(db).await?;
        let mut written = 0;
        for chunk in sources.chunks(REBUILD_BATCH) {
            let differing: Vec<(u64, &Employee)> = chunk
                .iter()
                .filter(|(revision, employee)| {
                    have.get(&employee.id) != Some(&self.project(*revision, employee))
                })
                .map(|(revision, employee)| (*revision, employee))
                .collect();
            if differing.is_empty() {
                continue;
            }
            let txn = db.begin_write(Scope::AllCompanies).await?;
            // A row at the source's revision is written over too: it was changed by
            // something other than events.
            written += self
                .write_all(&txn, differing.iter().copied(), Over::NotNewer)
                .await?
                .len() as u64;
            txn.commit().await?;
        }
        let known: HashSet<Uuid> = sources.iter().map(|(_, e)| e.id).collect();
        let extra: Vec<Uuid> = have
            .keys()
            .filter(|id| !known.contains(id))
            .copied()
            .collect();
        let mut deleted = 0;
        for chunk in extra.chunks(REBUILD_BATCH) {
            let txn = db.begin_write(Scope::AllCompanies).await?;
            if self.keeps(Field::Teams) {
                txn.execute(
                    Query::delete()
                        .from_table(Alias::new(EMPLOYEE_TEAMS))
                        .and_where(
                            Expr::col(Alias::new("employee_id")).is_in(chunk.iter().copied()),
                        ),
                )
                .await?;
            }
            deleted += txn
                .execute(
                    Query::delete()
                        .from_table(Alias::new(EMPLOYEES))
                        .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
                        .and_where(Expr::col(Alias::new("updated_at")).lt(since)),
                )
                .await?
                .rows_affected();
            txn.commit().await?;
        }
        Ok((written, deleted))
    }

    /// The migrations of a service whose data so far is this replica: its tables
    /// under row-level security, then the inbox, positions and dead letters of the
    /// events that feed it.
    pub fn migrations(self) -> Migrations {
        let mut all: Migrations = vec![
            Box::new(ReplicaTables {
                name: "m20261123_000001_replica",
                replica: self,
            }),
            Box::new(TenantPolicies {
                name: "m20261123_000002_replica_policies",
                tables: self.tenant_tables(),
            }),
        ];
        all.extend(inbox_migrations(
            "m20261123_000003_inbox",
            "m20261123_000004_inbox_policies",
        ));
        all
    }

    /// The replica's tables of company data, for its `TenantPolicies`.
    pub fn tenant_tables(&self) -> &'static [TenantTable] {
        const EMPLOYEES_TABLE: TenantTable = TenantTable::Company {
            table: EMPLOYEES,
            column: "company_id",
        };
        const TEAMS_TABLE: TenantTable = TenantTable::Company {
            table: EMPLOYEE_TEAMS,
            column: "company_id",
        };
        match self.keeps(Field::Teams) {
            true => &[EMPLOYEES_TABLE, TEAMS_TABLE],
            false => &[EMPLOYEES_TABLE],
        }
    }
}

fn teams_text(ids: &[Uuid]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A column read back as text, whatever its type.
fn read_text(row: &QueryResult, column: &str) -> Result<Option<String>, DbErr> {
    Ok(match column {
        "manager_id" => row
            .try_get::<Option<Uuid>>("", column)?
            .map(|id| id.to_string()),
        "hire_date" => row
            .try_get::<Option<Date>>("", column)?
            .map(|d| d.to_string()),
        _ => row.try_get::<Option<String>>("", column)?,
    })
}

/// The status of employee `id` of `company_id` (active or not), if the replica knows
/// them.
async fn status(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<Option<String>, DbErr> {
    let select = Query::select()
        .column(Alias::new("status"))
        .from(Alias::new(EMPLOYEES))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
        .to_owned();
    match conn.query_one(&select).await? {
        Some(row) => Ok(Some(row.try_get::<String>("", "status")?)),
        None => Ok(None),
    }
}

/// Whether `id` is an active employee of `company_id`, as the replica knows them.
pub async fn is_active(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<bool, DbErr> {
    Ok(status(conn, company_id, id).await?.as_deref() == Some(Employee::ACTIVE))
}

/// Whether `id` is an employee of `company_id`, active or not, as the replica knows
/// them.
pub async fn is_employee(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<bool, DbErr> {
    Ok(status(conn, company_id, id).await?.is_some())
}

/// The ids of `manager`'s direct reports, as a subquery (for a replica that keeps
/// [`Field::Manager`]).
pub fn reports_of(manager: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(EMPLOYEES))
        .and_where(Expr::col(Alias::new("manager_id")).eq(manager))
        .to_owned()
}

/// The manager of employee `id` of `company_id`, as the replica knows them (for a
/// replica that keeps [`Field::Manager`]).
pub async fn manager_of(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<Option<Uuid>, DbErr> {
    column_of(conn, company_id, id, "manager_id", false).await
}

/// Where to email active employee `id` of `company_id`, if they have an address (for
/// a replica that keeps [`Field::Email`]).
pub async fn email_of(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
) -> Result<Option<String>, DbErr> {
    column_of(conn, company_id, id, "email", true).await
}

/// One nullable column of employee `id` of `company_id` (only while active, with
/// `active`).
async fn column_of<T: sea_orm::TryGetable>(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    id: Uuid,
    column: &str,
    active: bool,
) -> Result<Option<T>, DbErr> {
    let mut select = Query::select();
    select
        .column(Alias::new(column))
        .from(Alias::new(EMPLOYEES))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id));
    if active {
        select.and_where(Expr::col(Alias::new("status")).eq(Employee::ACTIVE));
    }
    match conn.query_one(&select).await? {
        Some(row) => row.try_get("", column),
        None => Ok(None),
    }
}

/// Whether `manager` is `employee`'s manager, as the replica knows them.
pub async fn manages(
    conn: &impl ConnectionTrait,
    manager: Uuid,
    employee: Uuid,
) -> Result<bool, DbErr> {
    let select = reports_of(manager)
        .and_where(Expr::col(Alias::new("id")).eq(employee))
        .to_owned();
    Ok(conn.query_one(&select).await?.is_some())
}

/// Whether `employee` reports to `manager` of `company_id`, directly or through
/// managers of their own, as the replica knows them (for a replica that keeps
/// [`Field::Manager`]). The chain is walked up from `employee`; a loop in it (the
/// replica may hold one for a moment while two changes cross) ends the walk.
pub async fn oversees(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    manager: Uuid,
    employee: Uuid,
) -> Result<bool, DbErr> {
    let mut seen = std::collections::HashSet::from([employee]);
    let mut next = employee;
    while let Some(above) = manager_of(conn, company_id, next).await? {
        if above == manager {
            return Ok(true);
        }
        if !seen.insert(above) {
            return Ok(false);
        }
        next = above;
    }
    Ok(false)
}

/// An active employee by name, as a replica that keeps [`Field::Names`] knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub surname: String,
}

/// Which active employees [`people`] answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeopleFilter {
    /// Only this manager and their direct reports.
    pub seen_by_manager: Option<Uuid>,
    /// Only members of this team (for a replica that keeps [`Field::Teams`]).
    pub team_id: Option<Uuid>,
    /// Only this employee.
    pub employee_id: Option<Uuid>,
}

/// The company's active employees that `filter` keeps, by surname and name.
pub async fn people(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
    filter: PeopleFilter,
) -> Result<Vec<Person>, DbErr> {
    let mut select = Query::select();
    select
        .columns(["id", "name", "surname"].into_iter().map(Alias::new))
        .order_by(Alias::new("surname"), sea_orm::Order::Asc)
        .order_by(Alias::new("name"), sea_orm::Order::Asc)
        .order_by(Alias::new("id"), sea_orm::Order::Asc);
    kept_by(&mut select, company_id, filter);
    conn.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(Person {
                id: row.try_get("", "id")?,
                name: row.try_get("", "name")?,
                surname: row.try_get("", "surname")?,
            })
        })
        .collect()
}

/// The ids of the company's active employees that `filter` keeps, as a subquery: what
/// [`people`] lists, for a query over their rows that should not carry every id.
pub fn people_ids(company_id: Uuid, filter: PeopleFilter) -> SelectStatement {
    let mut select = Query::select();
    select.column(Alias::new("id"));
    kept_by(&mut select, company_id, filter);
    select
}

/// Narrows `select` to the company's active employees that `filter` keeps.
fn kept_by(select: &mut SelectStatement, company_id: Uuid, filter: PeopleFilter) {
    select
        .from(Alias::new(EMPLOYEES))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
        .and_where(Expr::col(Alias::new("status")).eq(Employee::ACTIVE));
    if let Some(manager) = filter.seen_by_manager {
        select.cond_where(
            sea_orm::Condition::any()
                .add(Expr::col(Alias::new("id")).eq(manager))
                .add(Expr::col(Alias::new("manager_id")).eq(manager)),
        );
    }
    if let Some(team_id) = filter.team_id {
        select.and_where(
            Expr::col(Alias::new("id")).in_subquery(
                Query::select()
                    .column(Alias::new("employee_id"))
                    .from(Alias::new(EMPLOYEE_TEAMS))
                    .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
                    .and_where(Expr::col(Alias::new("team_id")).eq(team_id))
                    .to_owned(),
            ),
        );
    }
    if let Some(id) = filter.employee_id {
        select.and_where(Expr::col(Alias::new("id")).eq(id));
    }
}

/// The company's active employees with their hire dates (for a replica that keeps
/// [`Field::HireDate`]), by id.
pub async fn hire_dates(
    conn: &impl ConnectionTrait,
    company_id: Uuid,
) -> Result<Vec<(Uuid, Option<Date>)>, DbErr> {
    let select = Query::select()
        .columns([Alias::new("id"), Alias::new("hire_date")])
        .from(Alias::new(EMPLOYEES))
        .and_where(Expr::col(Alias::new("company_id")).eq(company_id))
        .and_where(Expr::col(Alias::new("status")).eq(Employee::ACTIVE))
        .order_by(Alias::new("id"), sea_orm::Order::Asc)
        .to_owned();
    conn.query_all(&select)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "hire_date")?)))
        .collect()
}

/// Replaces the team memberships of `employees` with the ones they carry.
async fn write_teams<'e>(
    conn: &impl ConnectionTrait,
    employees: impl Iterator<Item = &'e Employee>,
) -> Result<(), DbErr> {
    let employees: Vec<&Employee> = employees.collect();
    if employees.is_empty() {
        return Ok(());
    }
    conn.execute(
        Query::delete()
            .from_table(Alias::new(EMPLOYEE_TEAMS))
            .and_where(Expr::col(Alias::new("employee_id")).is_in(employees.iter().map(|e| e.id))),
    )
    .await?;
    let mut insert = Query::insert();
    insert.into_table(Alias::new(EMPLOYEE_TEAMS)).columns([
        Alias::new("employee_id"),
        Alias::new("team_id"),
        Alias::new("company_id"),
    ]);
    let mut any = false;
    for employee in employees {
        let mut teams: Vec<Uuid> = employee.team_ids.clone();
        teams.sort_unstable();
        teams.dedup();
        for team in teams {
            insert.values_panic([employee.id.into(), team.into(), employee.company_id.into()]);
            any = true;
        }
    }
    if any {
        conn.execute(&insert).await?;
    }
    Ok(())
}

/// The migration that creates a replica's `employees` (and `employee_teams`).
#[derive(Debug)]
pub struct ReplicaTables {
    name: &'static str,
    replica: Replica,
}

impl MigrationName for ReplicaTables {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReplicaTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Alias::new(EMPLOYEES))
            .col(pk_uuid(Alias::new("id")))
            .col(uuid(Alias::new("company_id")))
            .col(string_len(Alias::new("status"), 16));
        for field in self.replica.fields {
            for column in columns(*field) {
                let name = Alias::new(*column);
                table.col(match *column {
                    "email" => string_len(name, 254),
                    "name" | "surname" => string_len(name, 100),
                    "phone" => string_len_null(name, 32),
                    "role" => string_len(name, 16),
                    "position" => string_len_null(name, 100),
                    "manager_id" => uuid_null(name),
                    _ => date_null(name),
                });
            }
        }
        table
            .col(roster_migrate::schema::big_integer(Alias::new("revision")))
            .col(timestamp_with_time_zone(Alias::new("updated_at")));
        manager.create_table(table.to_owned()).await?;
        manager
            .create_index(index(
                "idx_employees_company_id_status",
                Alias::new(EMPLOYEES),
                &["company_id", "status"],
            ))
            .await?;
        if self.replica.keeps(Field::Manager) {
            manager
                .create_index(index(
                    "idx_employees_manager_id",
                    Alias::new(EMPLOYEES),
                    &["manager_id"],
                ))
                .await?;
        }
        if self.replica.keeps(Field::Teams) {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(EMPLOYEE_TEAMS))
                        .col(uuid(Alias::new("employee_id")))
                        .col(uuid(Alias::new("team_id")))
                        .col(uuid(Alias::new("company_id")))
                        .primary_key(
                            Index::create()
                                .col(Alias::new("employee_id"))
                                .col(Alias::new("team_id")),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name("fk_employee_teams_employee_id")
                                .from(Alias::new(EMPLOYEE_TEAMS), Alias::new("employee_id"))
                                .to(Alias::new(EMPLOYEES), Alias::new("id"))
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index(
                    "idx_employee_teams_company_id_team_id",
                    Alias::new(EMPLOYEE_TEAMS),
                    &["company_id", "team_id"],
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut tables = Vec::new();
        if self.replica.keeps(Field::Teams) {
            tables.push(Alias::new(EMPLOYEE_TEAMS).into_iden());
        }
        tables.push(Alias::new(EMPLOYEES).into_iden());
        drop_tables(manager, tables).await
    }
}

/// What a service does with an event beside keeping its replica: in the same
/// transaction (the one that records the event in the inbox, so it happens exactly
/// once), after the replica was written, in the event's span and under its trace (so
/// the events it records carry the trace on).
///
/// It follows the event, never whether the event changed the copy: a copy repaired by
/// `roster replicas rebuild` may hold the event's state (or a later one) before the
/// event comes, and the effect must not depend on that. Where the effect concerns the
/// person as they are now (leaving someone's tasks unassigned), it asks the replica,
/// which holds the latest state whatever the order things came in.
#[async_trait::async_trait]
pub trait Reaction: Send + Sync + 'static {
    async fn react(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        envelope: &roster_events::Envelope,
        event: &roster_events::Event,
    ) -> anyhow::Result<()>;
}

/// The handler of a service that keeps a replica: it applies every event of an
/// employee to it, then hands the batch to the service's [`Reaction`], if any.
#[derive(Clone, Copy)]
pub struct ReplicaHandler {
    replica: Replica,
    org: Option<OrgReplica>,
    reaction: Option<&'static dyn Reaction>,
}

impl std::fmt::Debug for ReplicaHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaHandler")
            .field("replica", &self.replica)
            .field("org", &self.org)
            .field("reacts", &self.reaction.is_some())
            .finish()
    }
}

impl ReplicaHandler {
    /// A service whose only use of events is its replica.
    pub const fn new(replica: Replica) -> Self {
        Self {
            replica,
            org: None,
            reaction: None,
        }
    }

    /// A service that also reacts to what the events tell.
    pub const fn reacting(replica: Replica, reaction: &'static dyn Reaction) -> Self {
        Self {
            replica,
            org: None,
            reaction: Some(reaction),
        }
    }

    /// Keeps a copy of parts of org too, from org's events (the service consumes
    /// org's as well as people's).
    pub const fn with_org(self, org: OrgReplica) -> Self {
        Self {
            org: Some(org),
            ..self
        }
    }
}

#[async_trait::async_trait]
impl roster_bus::Handler for ReplicaHandler {
    async fn handle(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        envelope: &roster_events::Envelope,
        event: &roster_events::Event,
    ) -> anyhow::Result<()> {
        self.handle_all(txn, &[(envelope, event)]).await
    }

    /// Every employee of the batch in one upsert (the replica keeps no more than each
    /// one's latest state), then the reaction to each event.
    async fn handle_all(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        events: &[(&roster_events::Envelope, &roster_events::Event)],
    ) -> anyhow::Result<()> {
        let employees = events
            .iter()
            .filter_map(|(envelope, event)| Some((envelope.sequence, event.employee()?)));
        self.replica.apply_all(txn, employees).await?;
        if let Some(org) = &self.org {
            for (envelope, event) in events {
                org.apply(txn, envelope, event).await?;
            }
        }
        if let Some(reaction) = self.reaction {
            for (envelope, event) in events {
                let work = reaction.react(txn, envelope, event);
                roster_bus::in_event_scope(envelope, work).await?;
            }
        }
        Ok(())
    }
}
