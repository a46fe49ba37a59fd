use std::collections::HashMap;

use roster_http::Cursor;
use roster_storage::quota::Quota;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::team;
use super::events::{self, Change, Deletable};
use super::{lock_company, now};
use crate::domain::{Invalid, Name, OptionalText, would_create_cycle};
use roster_bus::outbox;
use roster_storage::StoreError;

const NAME_INDEX: &str = "idx_teams_company_id_name";
const NAME_COLUMNS: &str = "teams.company_id, teams.name";
const NAME_TAKEN: &str = "a team with this name already exists in the company";

#[derive(Debug)]
pub struct NewTeam {
    pub name: Name,
    pub description: OptionalText,
    pub parent_id: Option<Uuid>,
}

/// Changes to a team; `None` keeps a field, `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct TeamChange {
    pub name: Option<Name>,
    pub description: Option<OptionalText>,
    pub parent_id: Option<Option<Uuid>>,
}

fn of_company(tenant: &Tenant) -> sea_orm::Select<team::Entity> {
    team::Entity::find().filter(team::Column::CompanyId.eq(tenant.company_id()))
}

async fn find(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    id: Uuid,
) -> Result<Option<team::Model>, StoreError> {
    Ok(of_company(tenant)
        .filter(team::Column::Id.eq(id))
        .one(conn)
        .await?)
}

/// The parent must be a team of the same company: otherwise 422 on `parent_id`.
async fn check_parent(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    parent_id: Uuid,
) -> Result<(), StoreError> {
    match find(conn, tenant, parent_id).await? {
        Some(_) => Ok(()),
        None => Err(Invalid::new("parent_id", "no team of this company has this id").into()),
    }
}

/// A company's teams, at most `quotas.teams`.
const TEAMS: Quota = Quota {
    what: "teams",
    subject: "quota.teams",
};

#[tracing::instrument(skip(db))]
pub async fn create(
    db: &ServiceDb,
    tenant: &Tenant,
    new: NewTeam,
    limit: u64,
) -> Result<team::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let company_id = tenant.company_id();
    let held = team::Entity::find().filter(team::Column::CompanyId.eq(company_id));
    TEAMS.check(&txn, company_id, limit, held).await?;
    if let Some(parent_id) = new.parent_id {
        check_parent(&txn, tenant, parent_id).await?;
    }
    let at = now();
    let team = team::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(tenant.company_id()),
        parent_id: Set(new.parent_id),
        name: Set(new.name.into_inner()),
        description: Set(new.description.into_inner()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await
    .map_err(|e| StoreError::taken(e, NAME_INDEX, NAME_COLUMNS, "name", NAME_TAKEN))?;
    events::team(&txn, tenant, team.id, Change::Created).await?;
    outbox::commit(db, txn).await?;
    Ok(team)
}

pub async fn get(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<team::Model, StoreError> {
    find(&db.read(tenant).await?, tenant, id)
        .await?
        .ok_or(StoreError::NotFound("team"))
}

/// A page of the company's teams in creation order, optionally the children of one.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    parent_id: Option<Uuid>,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<team::Model>, StoreError> {
    let mut query = of_company(tenant);
    if let Some(parent_id) = parent_id {
        query = query.filter(team::Column::ParentId.eq(parent_id));
    }
    Ok(cursor
        .page_by(query, team::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// Which of `ids` are teams of the company.
pub async fn existing(
    db: &ServiceDb,
    tenant: &Tenant,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    Ok(of_company(tenant)
        .filter(team::Column::Id.is_in(ids.iter().copied()))
        .select_only()
        .column(team::Column::Id)
        .into_tuple::<Uuid>()
        .all(&db.read(tenant).await?)
        .await?)
}

#[tracing::instrument(skip(db))]
pub async fn update(
    db: &ServiceDb,
    tenant: &Tenant,
    id: Uuid,
    change: TeamChange,
) -> Result<team::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let current = find(&txn, tenant, id)
        .await?
        .ok_or(StoreError::NotFound("team"))?;
    if let Some(Some(parent_id)) = change.parent_id {
        check_parent(&txn, tenant, parent_id).await?;
        let parents: HashMap<Uuid, Option<Uuid>> = of_company(tenant)
            .select_only()
            .column(team::Column::Id)
            .column(team::Column::ParentId)
            .into_tuple::<(Uuid, Option<Uuid>)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let parent_of = |team: Uuid| parents.get(&team).copied().flatten();
        if would_create_cycle(id, parent_id, parents.len(), parent_of) {
            return Err(Invalid::new(
                "parent_id",
                "would make the team its own ancestor: choose a team outside its subtree",
            )
            .into());
        }
    }
    let mut team: team::ActiveModel = current.into();
    if let Some(name) = change.name {
        team.name = Set(name.into_inner());
    }
    if let Some(description) = change.description {
        team.description = Set(description.into_inner());
    }
    if let Some(parent_id) = change.parent_id {
        team.parent_id = Set(parent_id);
    }
    team.updated_at = Set(now());
    let team = team
        .update(&txn)
        .await
        .map_err(|e| StoreError::taken(e, NAME_INDEX, NAME_COLUMNS, "name", NAME_TAKEN))?;
    events::team(&txn, tenant, id, Change::Updated).await?;
    outbox::commit(db, txn).await?;
    Ok(team)
}

/// Deletes a team that has no sub-teams.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &ServiceDb, tenant: &Tenant, id: Uuid) -> Result<(), StoreError> {
    let txn = db.begin_write(tenant).await?;
    lock_company(&txn, tenant).await?;
    let team = find(&txn, tenant, id)
        .await?
        .ok_or(StoreError::NotFound("team"))?;
    let children = of_company(tenant)
        .filter(team::Column::ParentId.eq(id))
        .count(&txn)
        .await?;
    if children > 0 {
        return Err(StoreError::Conflict(
            "the team has sub-teams: move or delete them first",
        ));
    }
    events::deleted(&txn, tenant, Deletable::Team, team.id).await?;
    team::Entity::delete_by_id(team.id).exec(&txn).await?;
    outbox::commit(db, txn).await?;
    Ok(())
}
