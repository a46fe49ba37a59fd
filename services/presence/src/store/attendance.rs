//! Attendance: each visible employee's day (first in, last out, worked minutes, a
//! missing check-out), and a month of days per employee for a team.

use std::collections::HashMap;

use roster_http::Viewer;
use roster_replica::{PeopleFilter, Person};
use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::checkins;
use crate::domain::{DayAttendance, Shift};

/// Whose attendance to show, within what the viewer may see.
#[derive(Debug, Clone, Copy, Default)]
pub struct Whom {
    pub team_id: Option<Uuid>,
    pub employee_id: Option<Uuid>,
}

/// One employee's attendance over a span of days (one day, or a month).
#[derive(Debug, Clone)]
pub struct Sheet {
    pub person: Person,
    /// Each day of the span, in order.
    pub days: Vec<(Date, DayAttendance)>,
}

/// The days a report covers.
#[derive(Debug, Clone, Copy)]
pub enum Span {
    /// Today, in the company's zone.
    Today,
    /// From the first day to the last, inclusive.
    Days(Date, Date),
}

/// The attendance of the employees `viewer` may see (narrowed by `whom`) on each
/// day of `span`, with the span's first day.
pub async fn sheets(
    db: &ServiceDb,
    tenant: &Tenant,
    viewer: Viewer,
    whom: Whom,
    span: Span,
) -> Result<(Date, Vec<Sheet>), StoreError> {
    let txn = db.read(tenant).await?;
    let zone = checkins::rules(&txn, tenant).await?.zone();
    let today = zone.date_of(OffsetDateTime::now_utc());
    let (from, to) = match span {
        Span::Today => (today, today),
        Span::Days(from, to) => (from, to),
    };
    let filter = PeopleFilter {
        seen_by_manager: match viewer {
            Viewer::Admin => None,
            Viewer::Member { employee_id } => Some(employee_id),
        },
        team_id: whom.team_id,
        employee_id: whom.employee_id,
    };
    let people = roster_replica::people(&txn, tenant.company_id(), filter).await?;
    // Everyone of a company needs no narrowing; anything narrower narrows the shifts
    // by the same filter, as a subquery, rather than by a list of every id.
    let narrowed =
        filter.seen_by_manager.is_some() || whom.team_id.is_some() || whom.employee_id.is_some();
    let ids = narrowed.then(|| roster_replica::people_ids(tenant.company_id(), filter));
    let mut by_day: HashMap<(Uuid, Date), Vec<Shift>> = HashMap::new();
    for (employee_id, day, shift) in checkins::shifts(&txn, tenant, ids, from, to).await? {
        by_day.entry((employee_id, day)).or_default().push(shift);
    }
    let days: Vec<Date> =
        std::iter::successors(Some(from), |d| d.next_day().filter(|n| *n <= to)).collect();
    let sheets = people
        .into_iter()
        .map(|person| {
            let days = days
                .iter()
                .map(|day| {
                    let shifts = by_day
                        .get(&(person.id, *day))
                        .map_or(&[][..], Vec::as_slice);
                    (*day, DayAttendance::of(*day, today, shifts))
                })
                .collect();
            Sheet { person, days }
        })
        .collect();
    Ok((from, sheets))
}
