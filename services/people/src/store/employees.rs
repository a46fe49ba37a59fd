use std::collections::HashMap;

use roster_bus::outbox;
use roster_events::{Event, NewEvent};
use roster_http::Cursor;
use roster_storage::lock::Subject;
use roster_storage::{Scope, ServiceDb, Tenant};
use roster_tokens::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use super::entities::{employee, employee_team};
use super::now;
use crate::domain::{Status, would_create_cycle};
use roster_contracts::Invalid;
use roster_storage::StoreError;

const EMAIL_INDEX: &str = "idx_employees_company_id_email";
const EMAIL_COLUMNS: &str = "employees.company_id, employees.email";
pub const EMAIL_TAKEN: &str = "another employee of the company already uses this email";

/// An employee with the ids of their teams.
#[derive(Debug, Clone)]
pub struct Employee {
    pub record: employee::Model,
    pub team_ids: Vec<Uuid>,
}

fn of_company(tenant: &Tenant) -> Select<employee::Entity> {
    employee::Entity::find().filter(employee::Column::CompanyId.eq(tenant.company_id()))
}

fn taken(error: sea_orm::DbErr) -> StoreError {
    StoreError::taken(error, EMAIL_INDEX, EMAIL_COLUMNS, "email", EMAIL_TAKEN)
}

fn by_id(tenant: &Tenant, id: Uuid) -> Select<employee::Entity> {
    of_company(tenant).filter(employee::Column::Id.eq(id))
}

pub(crate) async fn find(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
) -> Result<Option<employee::Model>, StoreError> {
    Ok(by_id(tenant, id).one(conn).await?)
}

async fn teams_of(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
    let rows = employee_team::Entity::find()
        .filter(employee_team::Column::CompanyId.eq(tenant.company_id()))
        .filter(employee_team::Column::EmployeeId.is_in(ids.iter().copied()))
        .order_by_asc(employee_team::Column::TeamId)
        .all(conn)
        .await?;
    Ok(by_employee(rows))
}

/// Team ids by employee, in the order of `rows`.
fn by_employee(rows: Vec<employee_team::Model>) -> HashMap<Uuid, Vec<Uuid>> {
    let mut teams: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in rows {
        teams.entry(row.employee_id).or_default().push(row.team_id);
    }
    teams
}

async fn with_teams(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    records: Vec<employee::Model>,
) -> Result<Vec<Employee>, StoreError> {
    let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    let mut teams = teams_of(conn, tenant, &ids).await?;
    Ok(records
        .into_iter()
        .map(|record| Employee {
            team_ids: teams.remove(&record.id).unwrap_or_default(),
            record,
        })
        .collect())
}

/// One employee with their teams, in one statement (the row once per team).
pub async fn get(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<Employee, StoreError> {
    let txn = db.read(tenant).await?;
    let (record, teams) = by_id(tenant, id)
        .find_with_related(employee_team::Entity)
        .order_by_asc(employee_team::Column::TeamId)
        .all(&txn)
        .await?
        .pop()
        .ok_or(StoreError::NotFound("employee"))?;
    Ok(Employee {
        record,
        team_ids: teams.into_iter().map(|t| t.team_id).collect(),
    })
}

/// Filters of the employee list; absent ones do not filter.
#[derive(Debug, Default)]
pub struct Filter {
    pub team_id: Option<Uuid>,
    pub status: Option<Status>,
    pub manager_id: Option<Uuid>,
}

/// A page of the company's employees in creation order.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    filter: Filter,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<Employee>, StoreError> {
    let mut query = of_company(tenant);
    if let Some(status) = filter.status {
        query = query.filter(employee::Column::Status.eq(status.as_str()));
    }
    if let Some(manager_id) = filter.manager_id {
        query = query.filter(employee::Column::ManagerId.eq(manager_id));
    }
    if let Some(team_id) = filter.team_id {
        query = query.filter(
            employee::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(employee_team::Column::EmployeeId)
                    .from(employee_team::Entity)
                    .and_where(employee_team::Column::CompanyId.eq(tenant.company_id()))
                    .and_where(employee_team::Column::TeamId.eq(team_id))
                    .to_owned(),
            ),
        );
    }
    let txn = db.read(tenant).await?;
    let records = cursor
        .page_by(query, employee::Column::Id)
        .all(&txn)
        .await?;
    with_teams(&txn, tenant, records).await
}

/// Whether `manager_id` may manage a new employee: an active employee of the company.
pub async fn check_new_manager(
    db: &ServiceDb,
    tenant: &Tenant,
    manager_id: Uuid,
) -> Result<(), StoreError> {
    check_manager(&db.read(tenant).await?, tenant, None, manager_id).await
}

/// A manager must be an active employee of the company, and, for an existing
/// employee, not themselves nor one of their reports.
async fn check_manager(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    employee_id: Option<Uuid>,
    manager_id: Uuid,
) -> Result<(), StoreError> {
    let manager = find(conn, tenant, manager_id).await?;
    if manager.is_none_or(|m| m.status != Status::Active) {
        return Err(Invalid::new(
            "manager_id",
            "no active employee of this company has this id",
        )
        .into());
    }
    let Some(employee_id) = employee_id else {
        return Ok(());
    };
    let managers: HashMap<Uuid, Option<Uuid>> = of_company(tenant)
        .select_only()
        .column(employee::Column::Id)
        .column(employee::Column::ManagerId)
        .into_tuple::<(Uuid, Option<Uuid>)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let manager_of = |id: Uuid| managers.get(&id).copied().flatten();
    match would_create_cycle(employee_id, manager_id, managers.len(), manager_of) {
        true => Err(Invalid::new(
            "manager_id",
            "would make the employee their own manager: choose someone outside their reports",
        )
        .into()),
        false => Ok(()),
    }
}

/// Whether another employee of the company uses `email`.
pub async fn email_in_use(
    db: &ServiceDb,
    tenant: &Tenant,
    email: &str,
) -> Result<bool, StoreError> {
    Ok(of_company(tenant)
        .filter(employee::Column::Email.eq(email))
        .one(&db.read(tenant).await?)
        .await?
        .is_some())
}

/// What a new employee is made of: validated by the API, carried (and stored) by the
/// saga that creates the employee, inserted under the saga's employee id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewEmployee {
    pub email: String,
    pub name: String,
    pub surname: String,
    pub role: Role,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub manager_id: Option<Uuid>,
    pub hire_date: Option<Date>,
    /// Sealed with the data key for the employee's id.
    pub sealed_salary: Option<Vec<u8>>,
    pub team_ids: Vec<Uuid>,
}

/// Inserts an employee and their teams within the caller's transaction, and records
/// `people.employee.created` in the outbox; the caller commits with
/// [`roster_bus::outbox::commit`].
pub async fn insert(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
    new: NewEmployee,
) -> Result<(), StoreError> {
    let at = now();
    let record = employee::ActiveModel {
        id: Set(id),
        company_id: Set(tenant.company_id()),
        email: Set(new.email),
        name: Set(new.name),
        surname: Set(new.surname),
        role: Set(new.role.as_str().to_owned()),
        position: Set(new.position),
        phone: Set(new.phone),
        manager_id: Set(new.manager_id),
        hire_date: Set(new.hire_date),
        status: Set(Status::Active),
        sealed_salary: Set(new.sealed_salary),
        revision: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await
    .map_err(taken)?;
    set_teams(conn, tenant, id, &new.team_ids).await?;
    let created = with_teams(conn, tenant, vec![record]).await?;
    outbox::record(
        conn,
        created.iter().map(|e| e.event(Event::EmployeeCreated)),
    )
    .await?;
    Ok(())
}

async fn set_teams(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    employee_id: Uuid,
    team_ids: &[Uuid],
) -> Result<(), StoreError> {
    employee_team::Entity::delete_many()
        .filter(employee_team::Column::CompanyId.eq(tenant.company_id()))
        .filter(employee_team::Column::EmployeeId.eq(employee_id))
        .exec(conn)
        .await?;
    let mut unique = team_ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    for team_id in unique {
        employee_team::ActiveModel {
            employee_id: Set(employee_id),
            team_id: Set(team_id),
            company_id: Set(tenant.company_id()),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Changes to an employee; `None` keeps a field, `Some(None)` clears a nullable one.
/// Kept as it is with a saga that changes their account too (absent fields left out,
/// a cleared one as `null`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmployeeChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_http::patch::nullable"
    )]
    pub position: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_http::patch::nullable"
    )]
    pub phone: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_http::patch::nullable"
    )]
    pub manager_id: Option<Option<Uuid>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_http::patch::nullable"
    )]
    pub hire_date: Option<Option<Date>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "roster_http::patch::nullable"
    )]
    pub sealed_salary: Option<Option<Vec<u8>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_ids: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

#[tracing::instrument(skip(db, change))]
pub async fn update(
    db: &ServiceDb,
    tenant: &Tenant,
    id: Uuid,
    change: EmployeeChange,
) -> Result<Employee, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let changed = update_in(&txn, tenant, id, change).await?;
    outbox::commit(db, txn).await?;
    Ok(changed)
}

/// Changes an employee and records the event within the caller's transaction, which
/// the caller commits with [`roster_bus::outbox::commit`].
/// Refuses a change that would leave the company without an active administrator
/// (`leaving` being its last): nobody could manage it any more. The company's
/// administrators are the subject, so two administrators demoting each other at once
/// are checked one after the other.
async fn keep_an_admin(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    leaving: Uuid,
) -> Result<(), StoreError> {
    let company_id = tenant.company_id();
    let admins = Subject::new("people.admins", company_id, company_id);
    roster_storage::lock::hold(txn, &[admins]).await?;
    let others = of_company(tenant)
        .filter(employee::Column::Id.ne(leaving))
        .filter(employee::Column::Role.eq(Role::Admin.as_str()))
        .filter(employee::Column::Status.eq(Status::Active.as_str()))
        .one(txn)
        .await?;
    match others {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict(
            "the company's last active administrator cannot stop being one: make someone else an administrator first",
        )),
    }
}

pub(crate) async fn update_in(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    id: Uuid,
    change: EmployeeChange,
) -> Result<Employee, StoreError> {
    // Locked until commit: changes to one employee are made, and their events
    // numbered, one after the other.
    let current = of_company(tenant)
        .filter(employee::Column::Id.eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(StoreError::NotFound("employee"))?;
    let was = current.status;
    if let Some(Some(manager_id)) = change.manager_id {
        check_manager(txn, tenant, Some(id), manager_id).await?;
    }
    let admin = Role::Admin.as_str();
    let an_active_admin = current.role == admin && was == Status::Active;
    let stops_being_one =
        change.role.is_some_and(|r| r != Role::Admin) || change.status == Some(Status::Inactive);
    if an_active_admin && stops_being_one {
        keep_an_admin(txn, tenant, id).await?;
    }
    let mut row: employee::ActiveModel = current.into();
    if let Some(v) = change.email {
        row.email = Set(v);
    }
    if let Some(v) = change.name {
        row.name = Set(v);
    }
    if let Some(v) = change.surname {
        row.surname = Set(v);
    }
    if let Some(v) = change.role {
        row.role = Set(v.as_str().to_owned());
    }
    if let Some(v) = change.position {
        row.position = Set(v);
    }
    if let Some(v) = change.phone {
        row.phone = Set(v);
    }
    if let Some(v) = change.manager_id {
        row.manager_id = Set(v);
    }
    if let Some(v) = change.hire_date {
        row.hire_date = Set(v);
    }
    if let Some(v) = change.sealed_salary {
        row.sealed_salary = Set(v);
    }
    if let Some(v) = change.status {
        row.status = Set(v);
    }
    row.updated_at = Set(now());
    row.revision = Set(row.revision.as_ref() + 1);
    let record = row.update(txn).await.map_err(taken)?;
    if let Some(team_ids) = change.team_ids {
        set_teams(txn, tenant, id, &team_ids).await?;
    }
    let mut found = with_teams(txn, tenant, vec![record]).await?;
    let changed = found.pop().ok_or(StoreError::NotFound("employee"))?;
    let event = match (was, changed.record.status) {
        (Status::Active, Status::Inactive) => Event::EmployeeDeactivated,
        (Status::Inactive, Status::Active) => Event::EmployeeReactivated,
        _ => Event::EmployeeUpdated,
    };
    outbox::record(txn, [changed.event(event)]).await?;
    Ok(changed)
}

impl Employee {
    /// The employee as their events carry them: everything but the salary.
    pub fn snapshot(&self) -> roster_events::Employee {
        let r = &self.record;
        roster_events::Employee {
            id: r.id,
            company_id: r.company_id,
            email: r.email.clone(),
            name: r.name.clone(),
            surname: r.surname.clone(),
            role: r.role.clone(),
            position: r.position.clone(),
            phone: r.phone.clone(),
            manager_id: r.manager_id,
            hire_date: r.hire_date,
            status: r.status.as_str().to_owned(),
            team_ids: self.team_ids.clone(),
        }
    }

    /// An event about the employee as they now are, numbered by their revision.
    fn event(&self, kind: fn(roster_events::Employee) -> Event) -> NewEvent {
        NewEvent {
            event: kind(self.snapshot()),
            aggregate_id: self.record.id,
            sequence: u64::try_from(self.record.revision).unwrap_or(0),
            company_id: self.record.company_id,
        }
    }
}

/// Every employee of every company as their last event carried them, with the
/// sequence of that event: the source that replicas are checked against and rebuilt
/// from.
pub async fn sources(db: &ServiceDb) -> Result<Vec<(u64, roster_events::Employee)>, StoreError> {
    let txn = db.read(Scope::AllCompanies).await?;
    let records = employee::Entity::find()
        .order_by_asc(employee::Column::Id)
        .all(&txn)
        .await?;
    let mut teams = by_employee(
        employee_team::Entity::find()
            .order_by_asc(employee_team::Column::TeamId)
            .all(&txn)
            .await?,
    );
    Ok(records
        .into_iter()
        .map(|record| {
            let employee = Employee {
                team_ids: teams.remove(&record.id).unwrap_or_default(),
                record,
            };
            (
                u64::try_from(employee.record.revision).unwrap_or(0),
                employee.snapshot(),
            )
        })
        .collect())
}
