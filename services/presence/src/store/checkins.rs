//! Check-ins and check-outs: recorded along each employee's state (one open shift at
//! most, no "out" without an "in"), listed as the caller may see them, corrected by a
//! manager or an administrator with the change kept in history. Each recording and
//! correction is an event (`presence.checkin.recorded`, `.corrected`), numbered by
//! the check-in's revision, in the transaction of the change.

use roster_bus::outbox;
use roster_events::{self as events, Event, NewEvent};
use roster_http::{Cursor, Viewer};
use roster_replica::{CompanyRules, Place};
use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::sea_query::{Expr, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::entities::{checkin, checkin_change, nfc_tag};
use crate::domain::{CLOCK_SKEW, Invalid, Kind, Method, Position, Shift, TagUid};

/// The check-ins `viewer` sees: an administrator every one of the company; anyone
/// else their own, and a manager those of their direct reports.
fn seen_by(viewer: Viewer) -> Condition {
    match viewer {
        Viewer::Admin => Condition::all(),
        Viewer::Member { employee_id } => Condition::any()
            .add(checkin::Column::EmployeeId.eq(employee_id))
            .add(checkin::Column::EmployeeId.in_subquery(roster_replica::reports_of(employee_id))),
    }
}

/// Whether `viewer` may record or correct a manual check-in of `employee_id`: an
/// administrator, or the employee's manager.
async fn may_record_for(
    viewer: Viewer,
    conn: &impl ConnectionTrait,
    employee_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(match viewer {
        Viewer::Admin => true,
        Viewer::Member { employee_id: me } => {
            roster_replica::manages(conn, me, employee_id).await?
        }
    })
}

/// How a check-in proves where it happened.
#[derive(Debug, Clone)]
pub enum Proof {
    /// A tag's UID, read by the device.
    Nfc(TagUid),
    /// The device's position.
    Geo(Position),
    /// Recorded by a manager or administrator, at a time, for a reason.
    Manual { at: OffsetDateTime, reason: String },
}

impl Proof {
    fn method(&self) -> Method {
        match self {
            Self::Nfc(_) => Method::Nfc,
            Self::Geo(_) => Method::Geo,
            Self::Manual { .. } => Method::Manual,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub kind: Kind,
    pub employee_id: Uuid,
    pub proof: Proof,
}

/// What a filter on the list keeps.
#[derive(Debug, Default, Clone, Copy)]
pub struct CheckinFilter {
    pub employee_id: Option<Uuid>,
    /// The first day, in the company's zone.
    pub from: Option<Date>,
    /// The last day, in the company's zone.
    pub to: Option<Date>,
}

fn of_company(tenant: &Tenant) -> Select<checkin::Entity> {
    checkin::Entity::find().filter(checkin::Column::CompanyId.eq(tenant.company_id()))
}

/// The company's settings as presence knows them; org's event about a new company
/// arrives within moments of its creation, and until then nothing can be dated.
pub(crate) async fn rules(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
) -> Result<CompanyRules, StoreError> {
    roster_replica::company_rules(conn, tenant.company_id())
        .await?
        .ok_or(StoreError::Conflict(
            "presence has not yet received this company's settings from org; try again in a moment",
        ))
}

/// Where a check-in happened, and the position it was made at.
struct Whereabouts {
    nfc_tag_id: Option<Uuid>,
    location_id: Option<Uuid>,
    position: Option<Position>,
}

async fn locate(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    proof: &Proof,
) -> Result<Whereabouts, StoreError> {
    Ok(match proof {
        Proof::Nfc(uid) => {
            let tag = nfc_tag::Entity::find()
                .filter(nfc_tag::Column::CompanyId.eq(tenant.company_id()))
                .filter(nfc_tag::Column::Uid.eq(uid.clone().into_inner()))
                .one(conn)
                .await?
                .ok_or_else(|| {
                    Invalid::new("nfc_tag_uid", "no tag of this company has this UID")
                })?;
            Whereabouts {
                nfc_tag_id: Some(tag.id),
                location_id: tag.location_id,
                position: None,
            }
        }
        Proof::Geo(position) => {
            let places = roster_replica::places(conn, tenant.company_id()).await?;
            let inside = places
                .iter()
                .find(|p| p.contains(position.latitude, position.longitude));
            let Some(place) = inside else {
                return Err(outside(&places, *position).into());
            };
            Whereabouts {
                nfc_tag_id: None,
                location_id: Some(place.id),
                position: Some(*position),
            }
        }
        Proof::Manual { .. } => Whereabouts {
            nfc_tag_id: None,
            location_id: None,
            position: None,
        },
    })
}

/// The refusal of a position outside every geofence, with the nearest one's distance.
fn outside(places: &[Place], position: Position) -> Invalid {
    let nearest = places
        .iter()
        .map(|p| (p, p.distance_m(position.latitude, position.longitude)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let message = match nearest {
        None => "the company has no location to check in at".to_owned(),
        Some((place, distance)) => format!(
            "the position is outside every location's geofence; the nearest, {}, is {:.0} m away (radius {} m)",
            place.name, distance, place.radius_m
        ),
    };
    Invalid::new("latitude", message)
}

/// The employee's open shift (their "in" without an "out"), locked.
async fn open_shift(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    employee_id: Uuid,
) -> Result<Option<checkin::Model>, StoreError> {
    Ok(of_company(tenant)
        .filter(checkin::Column::EmployeeId.eq(employee_id))
        .filter(checkin::Column::Kind.eq(Kind::In.as_str()))
        .filter(checkin::Column::ClosedBy.is_null())
        .lock_exclusive()
        .one(txn)
        .await?)
}

/// Whether a closed shift of the employee other than `except` meets `[start, end)`,
/// or, for a shift with no end yet, holds `start`. (Their open shift is the caller's
/// to check: `record` refuses a second one, `correct` reads it.)
/// Closed shifts never overlap one another, so if any meets it, the last to start
/// before its end (or at its start) does: one row from the index of the employee's
/// check-ins by time, however long their history.
async fn meets_closed_shift(
    txn: &DatabaseTransaction,
    tenant: &Tenant,
    employee_id: Uuid,
    except: Option<Uuid>,
    start: OffsetDateTime,
    end: Option<OffsetDateTime>,
) -> Result<bool, StoreError> {
    let mut query = of_company(tenant)
        .filter(checkin::Column::EmployeeId.eq(employee_id))
        .filter(checkin::Column::Kind.eq(Kind::In.as_str()))
        .filter(checkin::Column::EndedAt.is_not_null())
        .filter(match end {
            Some(end) => checkin::Column::At.lt(end),
            None => checkin::Column::At.lte(start),
        })
        .order_by_desc(checkin::Column::At);
    if let Some(id) = except {
        query = query.filter(checkin::Column::Id.ne(id));
    }
    let ended = query
        .select_only()
        .column(checkin::Column::EndedAt)
        .into_tuple::<OffsetDateTime>()
        .one(txn)
        .await?;
    Ok(ended.is_some_and(|ended| ended > start))
}

/// Records a check-in or check-out of `new.employee_id`, made by `by` (seeing as
/// `viewer`).
#[tracing::instrument(skip(db))]
pub async fn record(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    by: Uuid,
    new: NewCheckin,
) -> Result<checkin::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let manual = matches!(new.proof, Proof::Manual { .. });
    if manual && !may_record_for(viewer, &txn, new.employee_id).await? {
        return Err(StoreError::Forbidden(
            "only an administrator or the employee's manager records a manual check-in",
        ));
    }
    if !manual && new.employee_id != by {
        return Err(Invalid::new(
            "employee_id",
            "only a manual check-in is recorded for someone else",
        )
        .into());
    }
    if !roster_replica::is_active(&txn, tenant.company_id(), new.employee_id).await? {
        return Err(StoreError::NotFound("employee"));
    }
    let zone = rules(&txn, tenant).await?.zone();
    let place = locate(&txn, tenant, &new.proof).await?;
    let now = OffsetDateTime::now_utc();
    let at = match &new.proof {
        Proof::Manual { at, .. } if *at > now + CLOCK_SKEW => {
            return Err(Invalid::new("at", "a check-in cannot be recorded ahead of time").into());
        }
        Proof::Manual { at, .. } => *at,
        _ => now,
    };
    let open = open_shift(&txn, tenant, new.employee_id).await?;
    let (local_date, shift) = match (new.kind, open) {
        (Kind::In, Some(_)) => {
            return Err(StoreError::Conflict(
                "already checked in: check out before checking in again",
            ));
        }
        (Kind::In, None) => {
            if meets_closed_shift(&txn, tenant, new.employee_id, None, at, None).await? {
                return Err(
                    Invalid::new("at", "the employee was at work then, in another shift").into(),
                );
            }
            (zone.date_of(at), None)
        }
        (Kind::Out, None) => {
            return Err(Invalid::new("kind", "there is no open check-in to check out of").into());
        }
        (Kind::Out, Some(open)) if at <= open.at => {
            return Err(Invalid::new("at", "a check-out must come after its check-in").into());
        }
        (Kind::Out, Some(open)) => {
            if meets_closed_shift(
                &txn,
                tenant,
                new.employee_id,
                Some(open.id),
                open.at,
                Some(at),
            )
            .await?
            {
                return Err(Invalid::new(
                    "at",
                    "the shift would overlap another of the employee's",
                )
                .into());
            }
            (open.local_date, Some(open))
        }
    };
    let id = Uuid::now_v7();
    let row = checkin::ActiveModel {
        id: Set(id),
        company_id: Set(tenant.company_id()),
        employee_id: Set(new.employee_id),
        kind: Set(new.kind),
        method: Set(new.proof.method()),
        at: Set(at),
        local_date: Set(local_date),
        nfc_tag_id: Set(place.nfc_tag_id),
        location_id: Set(place.location_id),
        latitude: Set(place.position.map(|p| p.latitude)),
        longitude: Set(place.position.map(|p| p.longitude)),
        recorded_by: Set(by),
        reason: Set(match &new.proof {
            Proof::Manual { reason, .. } => Some(reason.clone()),
            _ => None,
        }),
        shift_id: Set(shift.as_ref().map(|s| s.id)),
        closed_by: Set(None),
        ended_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        revision: Set(1),
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        StoreError::taken(
            e,
            "idx_checkins_employee_id_open",
            "checkins.employee_id",
            "kind",
            "already checked in: check out before checking in again",
        )
    })?;
    if let Some(open) = shift {
        let closed = checkin::Entity::update_many()
            .col_expr(checkin::Column::ClosedBy, Expr::value(id))
            .col_expr(checkin::Column::EndedAt, Expr::value(at))
            .col_expr(checkin::Column::UpdatedAt, Expr::value(now))
            .filter(checkin::Column::Id.eq(open.id))
            .filter(checkin::Column::ClosedBy.is_null())
            .exec(&txn)
            .await?;
        if closed.rows_affected != 1 {
            return Err(StoreError::Conflict(
                "the check-in was closed by another check-out meanwhile",
            ));
        }
    }
    if let Proof::Manual { reason, .. } = new.proof {
        log_change(&txn, &row, "recorded", None, by, reason).await?;
    }
    record_event(&txn, &row, by, None).await?;
    outbox::commit(db, txn).await?;
    Ok(row)
}

/// Records the event of `checkin` as it now is (recorded, or corrected when it was
/// at `previous_at` before), in the transaction of the change.
async fn record_event(
    conn: &impl ConnectionTrait,
    checkin: &checkin::Model,
    changed_by: Uuid,
    previous_at: Option<OffsetDateTime>,
) -> Result<(), sea_orm::DbErr> {
    let payload = events::Checkin {
        id: checkin.id,
        employee_id: checkin.employee_id,
        kind: checkin.kind.as_str().to_owned(),
        method: checkin.method.as_str().to_owned(),
        at: checkin.at,
        local_date: checkin.local_date,
        shift_id: checkin.shift_id,
        nfc_tag_id: checkin.nfc_tag_id,
        location_id: checkin.location_id,
        changed_by,
        previous_at,
    };
    let event = match payload.previous_at {
        None => Event::CheckinRecorded(payload),
        Some(_) => Event::CheckinCorrected(payload),
    };
    let event = NewEvent::at_revision(checkin.revision, event, checkin.id, checkin.company_id);
    outbox::record(conn, [event]).await
}

async fn log_change(
    txn: &DatabaseTransaction,
    checkin: &checkin::Model,
    change: &str,
    previous_at: Option<OffsetDateTime>,
    by: Uuid,
    reason: String,
) -> Result<(), StoreError> {
    checkin_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        company_id: Set(checkin.company_id),
        checkin_id: Set(checkin.id),
        change: Set(change.to_owned()),
        previous_at: Set(previous_at),
        at: Set(checkin.at),
        changed_by: Set(by),
        reason: Set(reason),
        changed_at: Set(OffsetDateTime::now_utc()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Check-in `id`, if `viewer` may see it.
fn visible(tenant: &Tenant, viewer: Viewer, id: Uuid) -> Select<checkin::Entity> {
    of_company(tenant)
        .filter(checkin::Column::Id.eq(id))
        .filter(seen_by(viewer))
}

pub async fn get(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    id: Uuid,
) -> Result<checkin::Model, StoreError> {
    visible(tenant, viewer, id)
        .one(&db.read(tenant).await?)
        .await?
        .ok_or(StoreError::NotFound("check-in"))
}

/// A page of the check-ins `viewer` may see, in the order they were recorded.
pub async fn list(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    filter: CheckinFilter,
    cursor: &Cursor<Uuid>,
) -> Result<Vec<checkin::Model>, StoreError> {
    let mut query = of_company(tenant).filter(seen_by(viewer));
    if let Some(employee_id) = filter.employee_id {
        query = query.filter(checkin::Column::EmployeeId.eq(employee_id));
    }
    if let Some(from) = filter.from {
        query = query.filter(checkin::Column::LocalDate.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(checkin::Column::LocalDate.lte(to));
    }
    Ok(cursor
        .page_by(query, checkin::Column::Id)
        .all(&db.read(tenant).await?)
        .await?)
}

/// Moves check-in `id` to `at`, as `by` (an administrator or the employee's manager)
/// asked for `reason`; its shift must still not overlap another, and an "in" stays
/// before its "out". The change is kept in the check-in's history.
#[tracing::instrument(skip(db))]
pub async fn correct(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    by: Uuid,
    id: Uuid,
    at: OffsetDateTime,
    reason: String,
) -> Result<checkin::Model, StoreError> {
    let txn = db.begin_write(tenant).await?;
    let row = visible(tenant, viewer, id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("check-in"))?;
    if !may_record_for(viewer, &txn, row.employee_id).await? {
        return Err(StoreError::Forbidden(
            "only an administrator or the employee's manager corrects a check-in",
        ));
    }
    if at > OffsetDateTime::now_utc() + CLOCK_SKEW {
        return Err(Invalid::new("at", "a check-in cannot be moved ahead of time").into());
    }
    let zone = rules(&txn, tenant).await?.zone();
    // The shift as it would be: its "in" row and its bounds.
    let (shift, start, end) = match row.kind {
        Kind::In => (row.clone(), at, row.ended_at),
        Kind::Out => {
            let shift = of_company(tenant)
                .filter(checkin::Column::Id.eq(row.shift_id.unwrap_or_default()))
                .lock_exclusive()
                .one(&txn)
                .await?
                .ok_or(StoreError::NotFound("check-in"))?;
            let start = shift.at;
            (shift, start, Some(at))
        }
    };
    if end.is_some_and(|end| end <= start) {
        return Err(Invalid::new("at", "a check-out must come after its check-in").into());
    }
    // Another shift still open reaches on from its start.
    let open = match end {
        Some(end) => open_shift(&txn, tenant, row.employee_id)
            .await?
            .is_some_and(|open| open.id != shift.id && open.at < end),
        None => false,
    };
    if open || meets_closed_shift(&txn, tenant, row.employee_id, Some(shift.id), start, end).await?
    {
        return Err(Invalid::new("at", "the shift would overlap another of the employee's").into());
    }
    let now = OffsetDateTime::now_utc();
    let local_date = zone.date_of(start);
    let previous_at = row.at;
    let revision = row.revision + 1;
    let mut changed = row.into_active_model();
    changed.at = Set(at);
    changed.local_date = Set(local_date);
    changed.updated_at = Set(now);
    changed.revision = Set(revision);
    let changed = changed.update(&txn).await?;
    // The other half of the shift follows: the "in" learns its end, the "out" its day.
    let other = match changed.kind {
        Kind::In => changed.closed_by,
        Kind::Out => Some(shift.id),
    };
    if let Some(other) = other {
        let mut update = checkin::Entity::update_many()
            .col_expr(checkin::Column::LocalDate, Expr::value(local_date))
            .col_expr(checkin::Column::UpdatedAt, Expr::value(now))
            .filter(checkin::Column::Id.eq(other));
        if changed.shift_id.is_some() {
            update = update.col_expr(checkin::Column::EndedAt, Expr::value(at));
        }
        update.exec(&txn).await?;
    }
    log_change(&txn, &changed, "corrected", Some(previous_at), by, reason).await?;
    record_event(&txn, &changed, by, Some(previous_at)).await?;
    outbox::commit(db, txn).await?;
    Ok(changed)
}

/// The recorded and corrected changes of check-in `id`, oldest first.
pub async fn history(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    id: Uuid,
) -> Result<Vec<checkin_change::Model>, StoreError> {
    let txn = db.read(tenant).await?;
    visible(tenant, viewer, id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound("check-in"))?;
    Ok(checkin_change::Entity::find()
        .filter(checkin_change::Column::CompanyId.eq(tenant.company_id()))
        .filter(checkin_change::Column::CheckinId.eq(id))
        .order_by_asc(checkin_change::Column::Id)
        .all(&txn)
        .await?)
}

/// The shifts that started between `from` and `to` (days in the company's zone), of
/// `employees` only if given (a subquery of their ids): each with its employee and
/// day, read from their "in" rows, which hold their end.
pub(crate) async fn shifts(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    employees: Option<SelectStatement>,
    from: Date,
    to: Date,
) -> Result<Vec<(Uuid, Date, Shift)>, StoreError> {
    let mut query = of_company(tenant)
        .select_only()
        .columns([
            checkin::Column::EmployeeId,
            checkin::Column::LocalDate,
            checkin::Column::At,
            checkin::Column::EndedAt,
        ])
        .filter(checkin::Column::Kind.eq(Kind::In.as_str()))
        .filter(checkin::Column::LocalDate.between(from, to));
    if let Some(employees) = employees {
        query = query.filter(checkin::Column::EmployeeId.in_subquery(employees));
    }
    Ok(query
        .into_tuple::<(Uuid, Date, OffsetDateTime, Option<OffsetDateTime>)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(employee_id, day, started_at, ended_at)| {
            (
                employee_id,
                day,
                Shift {
                    started_at,
                    ended_at,
                },
            )
        })
        .collect())
}
