//! Attendance recorded elsewhere (a former system, paper sheets, or the history
//! `roster seed` makes) brought in as whole shifts of the past, in bulk: each a
//! check-in and its check-out, as [`super::checkins::record`] would have left them.
//! They publish no events: imported history was told where it happened. Each
//! check-in is at [`roster_events::IMPORTED_REVISION`], so its first correction here
//! is its first event.

use std::collections::HashMap;

use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;
use uuid::Uuid;

use super::checkins::rules;
use super::entities::{checkin, nfc_tag};
use crate::domain::{Invalid, Kind, Method};

/// A shift that ended: in at `started_at`, out at `ended_at`, both by the tag at
/// `nfc_tag_id` when there is one, else recorded by hand.
#[derive(Debug, Clone, Copy)]
pub struct PastShift {
    pub employee_id: Uuid,
    pub started_at: OffsetDateTime,
    pub ended_at: OffsetDateTime,
    pub nfc_tag_id: Option<Uuid>,
}

/// Why a shift recorded by hand is in the history.
const IMPORTED: &str = "imported";

/// Writes `shifts` of the company in one transaction, recorded by `by`; answers the
/// rows written (two per shift). The shifts must not overlap one another nor what the
/// employees have recorded; each must have ended, after it started, and its tag must
/// be one of the company's.
pub async fn shifts(
    db: &ServiceDb,
    tenant: &Tenant,
    by: Uuid,
    shifts: &[PastShift],
) -> Result<u64, StoreError> {
    let now = OffsetDateTime::now_utc();
    if let Some(bad) = shifts
        .iter()
        .find(|s| s.ended_at <= s.started_at || s.ended_at > now)
    {
        return Err(Invalid::new(
            "ended_at",
            format!(
                "a shift of the past ends after it starts and before now ({} to {})",
                bad.started_at, bad.ended_at
            ),
        )
        .into());
    }
    let txn = db.begin_write(tenant).await?;
    let zone = rules(&txn, tenant).await?.zone();
    let tags: HashMap<Uuid, Option<Uuid>> = nfc_tag::Entity::find()
        .filter(nfc_tag::Column::CompanyId.eq(tenant.company_id()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|t| (t.id, t.location_id))
        .collect();
    let mut rows = Vec::with_capacity(shifts.len() * 2);
    for shift in shifts {
        let location_id = match shift.nfc_tag_id {
            Some(tag) => *tags
                .get(&tag)
                .ok_or_else(|| Invalid::new("nfc_tag_id", "no such tag in the company"))?,
            None => None,
        };
        let (method, reason) = match shift.nfc_tag_id {
            Some(_) => (Method::Nfc, None),
            None => (Method::Manual, Some(IMPORTED.to_owned())),
        };
        let (in_id, out_id) = (Uuid::now_v7(), Uuid::now_v7());
        let row = |id, kind: Kind, at| checkin::ActiveModel {
            id: Set(id),
            company_id: Set(tenant.company_id()),
            employee_id: Set(shift.employee_id),
            kind: Set(kind),
            method: Set(method),
            at: Set(at),
            local_date: Set(zone.date_of(shift.started_at)),
            nfc_tag_id: Set(shift.nfc_tag_id),
            location_id: Set(location_id),
            latitude: Set(None),
            longitude: Set(None),
            recorded_by: Set(by),
            reason: Set(reason.clone()),
            shift_id: Set(None),
            closed_by: Set(None),
            ended_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            revision: Set(roster_events::IMPORTED_REVISION),
        };
        let mut started = row(in_id, Kind::In, shift.started_at);
        started.closed_by = Set(Some(out_id));
        started.ended_at = Set(Some(shift.ended_at));
        let mut ended = row(out_id, Kind::Out, shift.ended_at);
        ended.shift_id = Set(Some(in_id));
        rows.push(started);
        rows.push(ended);
    }
    let written = roster_storage::insert_all(&txn, rows).await?;
    txn.commit().await?;
    Ok(written)
}
