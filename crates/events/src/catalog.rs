//! Every event Roster publishes, and the versions of each that consumers accept.
//!
//! To change a payload's shape, add a version: keep decoding the old one (into the
//! new shape, with what it lacks filled in) so events already in outboxes, streams
//! and dead letters still decode, and encode the new one.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{Envelope, Payload, Undecodable, payload};

/// Each event type with the payload versions this build decodes.
pub const CATALOG: &[(&str, &[u16])] = &[
    ("auth.account.created", &[1]),
    ("auth.account.updated", &[1]),
    ("auth.account.cancelled", &[1]),
    ("org.company.created", &[1]),
    ("org.company.updated", &[1]),
    ("org.company.removed", &[1]),
    ("org.team.created", &[1]),
    ("org.team.updated", &[1]),
    ("org.team.deleted", &[1]),
    ("org.location.created", &[1]),
    ("org.location.updated", &[1]),
    ("org.location.deleted", &[1]),
    ("org.holiday_calendar.created", &[1]),
    ("org.holiday_calendar.updated", &[1]),
    ("org.holiday_calendar.deleted", &[1]),
    ("people.employee.created", &[1]),
    ("people.employee.updated", &[1]),
    ("people.employee.deactivated", &[1]),
    ("people.employee.reactivated", &[1]),
    ("presence.checkin.recorded", &[1]),
    ("presence.checkin.corrected", &[1]),
    ("tasks.task.created", &[1]),
    ("tasks.task.updated", &[1]),
    ("leave.request.created", &[1]),
    ("leave.request.updated", &[1]),
];

/// An employee as people holds them, without what is secret (the salary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    pub id: Uuid,
    pub company_id: Uuid,
    pub email: String,
    pub name: String,
    pub surname: String,
    /// `admin`, `manager` or `employee`.
    pub role: String,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub manager_id: Option<Uuid>,
    pub hire_date: Option<Date>,
    /// `active` or `inactive`.
    pub status: String,
    /// Sorted.
    pub team_ids: Vec<Uuid>,
}

impl Employee {
    /// The status of an employee who works for the company (`inactive` otherwise).
    pub const ACTIVE: &str = "active";

    pub fn is_active(&self) -> bool {
        self.status == Self::ACTIVE
    }
}

/// A company with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub settings: CompanySettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanySettings {
    /// An IANA time zone, such as `Europe/Lisbon`.
    pub timezone: String,
    /// ISO weekdays (1 = Monday ... 7 = Sunday) that are worked, ascending.
    pub working_days: Vec<u8>,
    pub locale: String,
    pub currency: String,
    pub fiscal_year_start_month: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: Uuid,
    pub name: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub radius_m: i32,
    pub holiday_calendar_id: Option<Uuid>,
}

/// A holiday calendar with all its holidays, in date order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub id: Uuid,
    pub name: String,
    pub is_default: bool,
    pub holidays: Vec<Holiday>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub id: Uuid,
    pub date: Date,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub active: bool,
}

/// A check-in or check-out as it now is: recorded, or corrected (with when it was
/// before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkin {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// `in` or `out`.
    pub kind: String,
    /// `nfc`, `geo` or `manual`.
    pub method: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The day its shift counts on, in the company's time zone.
    pub local_date: Date,
    /// For an `out`, the `in` it closes.
    pub shift_id: Option<Uuid>,
    pub nfc_tag_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    /// Who recorded or corrected it: the employee, or their manager or an
    /// administrator by hand.
    pub changed_by: Uuid,
    /// For a correction, the time it had before.
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_at: Option<OffsetDateTime>,
}

/// A task as it now is, with who changed it and whom it was assigned to before, so a
/// consumer can tell an assignment or an unassignment from any other change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: Uuid,
    pub title: String,
    /// `todo`, `in_progress`, `done` or `cancelled`.
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub creator_id: Uuid,
    pub due_date: Option<Date>,
    /// The assignee before this change (for a new task, none).
    pub previous_assignee_id: Option<Uuid>,
    /// The employee who made the change; none when Roster made it (the assignee left).
    pub changed_by: Option<Uuid>,
}

/// A leave request as it now is, with the status it had before this change, who made
/// the change, and whom it awaits: enough for a consumer to tell a new request from a
/// decision or a cancellation, and to know whom to tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveRequest {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub leave_type_id: Uuid,
    pub leave_type_name: String,
    pub start_date: Date,
    pub end_date: Date,
    /// Working days, in thousandths of a day.
    pub days: i64,
    /// `pending`, `approved`, `rejected` or `cancelled`.
    pub status: String,
    /// The status before this change (for a new request, none).
    pub previous_status: Option<String>,
    /// The employee's manager when the request was made: who is to decide it (an
    /// administrator may too).
    pub manager_id: Option<Uuid>,
    /// Who made the change; none when Roster did (the employee left).
    pub changed_by: Option<Uuid>,
}

/// The aggregate that an event removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub id: Uuid,
}

/// Every event, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    AccountCreated(Account),
    AccountUpdated(Account),
    AccountCancelled(Removed),
    CompanyCreated(Company),
    CompanyUpdated(Company),
    CompanyRemoved(Removed),
    TeamCreated(Team),
    TeamUpdated(Team),
    TeamDeleted(Removed),
    LocationCreated(Location),
    LocationUpdated(Location),
    LocationDeleted(Removed),
    CalendarCreated(Calendar),
    CalendarUpdated(Calendar),
    CalendarDeleted(Removed),
    EmployeeCreated(Employee),
    EmployeeUpdated(Employee),
    /// The employee left: their status is `inactive`.
    EmployeeDeactivated(Employee),
    /// The employee is back: their status is `active` again.
    EmployeeReactivated(Employee),
    CheckinRecorded(Checkin),
    CheckinCorrected(Checkin),
    TaskCreated(Task),
    TaskUpdated(Task),
    LeaveRequested(LeaveRequest),
    LeaveRequestUpdated(LeaveRequest),
}

impl Event {
    /// The type, version and payload it is published as.
    pub fn encode(&self) -> (&'static str, u16, Payload) {
        let (kind, payload) = match self {
            Self::AccountCreated(p) => ("auth.account.created", Payload::of(p)),
            Self::AccountUpdated(p) => ("auth.account.updated", Payload::of(p)),
            Self::AccountCancelled(p) => ("auth.account.cancelled", Payload::of(p)),
            Self::CompanyCreated(p) => ("org.company.created", Payload::of(p)),
            Self::CompanyUpdated(p) => ("org.company.updated", Payload::of(p)),
            Self::CompanyRemoved(p) => ("org.company.removed", Payload::of(p)),
            Self::TeamCreated(p) => ("org.team.created", Payload::of(p)),
            Self::TeamUpdated(p) => ("org.team.updated", Payload::of(p)),
            Self::TeamDeleted(p) => ("org.team.deleted", Payload::of(p)),
            Self::LocationCreated(p) => ("org.location.created", Payload::of(p)),
            Self::LocationUpdated(p) => ("org.location.updated", Payload::of(p)),
            Self::LocationDeleted(p) => ("org.location.deleted", Payload::of(p)),
            Self::CalendarCreated(p) => ("org.holiday_calendar.created", Payload::of(p)),
            Self::CalendarUpdated(p) => ("org.holiday_calendar.updated", Payload::of(p)),
            Self::CalendarDeleted(p) => ("org.holiday_calendar.deleted", Payload::of(p)),
            Self::EmployeeCreated(p) => ("people.employee.created", Payload::of(p)),
            Self::EmployeeUpdated(p) => ("people.employee.updated", Payload::of(p)),
            Self::EmployeeDeactivated(p) => ("people.employee.deactivated", Payload::of(p)),
            Self::EmployeeReactivated(p) => ("people.employee.reactivated", Payload::of(p)),
            Self::CheckinRecorded(p) => ("presence.checkin.recorded", Payload::of(p)),
            Self::CheckinCorrected(p) => ("presence.checkin.corrected", Payload::of(p)),
            Self::TaskCreated(p) => ("tasks.task.created", Payload::of(p)),
            Self::TaskUpdated(p) => ("tasks.task.updated", Payload::of(p)),
            Self::LeaveRequested(p) => ("leave.request.created", Payload::of(p)),
            Self::LeaveRequestUpdated(p) => ("leave.request.updated", Payload::of(p)),
        };
        (kind, 1, payload)
    }

    /// Decodes every version of every type in [`CATALOG`]; anything else is
    /// [`Undecodable`], with the reason.
    pub fn decode(envelope: &Envelope) -> Result<Self, Undecodable> {
        let known = CATALOG
            .iter()
            .find(|(kind, _)| *kind == envelope.kind)
            .map(|(_, versions)| *versions)
            .ok_or_else(|| Undecodable::UnknownType {
                kind: envelope.kind.clone(),
            })?;
        if !known.contains(&envelope.version) {
            return Err(Undecodable::UnknownVersion {
                kind: envelope.kind.clone(),
                version: envelope.version,
                known: known
                    .iter()
                    .map(|v| format!("v{v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let e = envelope;
        Ok(match e.kind.as_str() {
            "auth.account.created" => Self::AccountCreated(payload(e)?),
            "auth.account.updated" => Self::AccountUpdated(payload(e)?),
            "auth.account.cancelled" => Self::AccountCancelled(payload(e)?),
            "org.company.created" => Self::CompanyCreated(payload(e)?),
            "org.company.updated" => Self::CompanyUpdated(payload(e)?),
            "org.company.removed" => Self::CompanyRemoved(payload(e)?),
            "org.team.created" => Self::TeamCreated(payload(e)?),
            "org.team.updated" => Self::TeamUpdated(payload(e)?),
            "org.team.deleted" => Self::TeamDeleted(payload(e)?),
            "org.location.created" => Self::LocationCreated(payload(e)?),
            "org.location.updated" => Self::LocationUpdated(payload(e)?),
            "org.location.deleted" => Self::LocationDeleted(payload(e)?),
            "org.holiday_calendar.created" => Self::CalendarCreated(payload(e)?),
            "org.holiday_calendar.updated" => Self::CalendarUpdated(payload(e)?),
            "org.holiday_calendar.deleted" => Self::CalendarDeleted(payload(e)?),
            "people.employee.created" => Self::EmployeeCreated(payload(e)?),
            "people.employee.updated" => Self::EmployeeUpdated(payload(e)?),
            "people.employee.deactivated" => Self::EmployeeDeactivated(payload(e)?),
            "people.employee.reactivated" => Self::EmployeeReactivated(payload(e)?),
            "presence.checkin.recorded" => Self::CheckinRecorded(payload(e)?),
            "presence.checkin.corrected" => Self::CheckinCorrected(payload(e)?),
            "tasks.task.created" => Self::TaskCreated(payload(e)?),
            "tasks.task.updated" => Self::TaskUpdated(payload(e)?),
            "leave.request.created" => Self::LeaveRequested(payload(e)?),
            "leave.request.updated" => Self::LeaveRequestUpdated(payload(e)?),
            _ => {
                return Err(Undecodable::UnknownType {
                    kind: envelope.kind.clone(),
                });
            }
        })
    }

    /// The employee an event of people carries.
    pub fn employee(&self) -> Option<&Employee> {
        match self {
            Self::EmployeeCreated(e)
            | Self::EmployeeUpdated(e)
            | Self::EmployeeDeactivated(e)
            | Self::EmployeeReactivated(e) => Some(e),
            _ => None,
        }
    }
}
