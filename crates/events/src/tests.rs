use time::macros::date;

use super::*;

fn employee(status: &str) -> Employee {
    Employee {
        id: Uuid::now_v7(),
        company_id: Uuid::now_v7(),
        email: "ana@example.com".into(),
        name: "Ana".into(),
        surname: "Silva".into(),
        role: "employee".into(),
        position: Some("Nurse".into()),
        phone: None,
        manager_id: Some(Uuid::now_v7()),
        hire_date: Some(date!(2026 - 01 - 05)),
        status: status.into(),
        team_ids: vec![Uuid::now_v7()],
    }
}

/// One event of every kind.
fn every_event() -> Vec<Event> {
    let company = Company {
        id: Uuid::now_v7(),
        name: "Acme".into(),
        settings: CompanySettings {
            timezone: "Europe/Lisbon".into(),
            working_days: vec![1, 2, 3, 4, 5],
            locale: "pt-PT".into(),
            currency: "EUR".into(),
            fiscal_year_start_month: 1,
        },
    };
    let team = Team {
        id: Uuid::now_v7(),
        parent_id: None,
        name: "Support".into(),
    };
    let location = Location {
        id: Uuid::now_v7(),
        name: "Lisbon office".into(),
        address: None,
        latitude: 38.7,
        longitude: -9.1,
        radius_m: 150,
        holiday_calendar_id: None,
    };
    let calendar = Calendar {
        id: Uuid::now_v7(),
        name: "Portugal".into(),
        is_default: true,
        holidays: vec![Holiday {
            id: Uuid::now_v7(),
            date: date!(2026 - 12 - 25),
            name: "Christmas".into(),
        }],
    };
    let account = Account {
        id: Uuid::now_v7(),
        email: "ana@example.com".into(),
        role: "admin".into(),
        active: true,
    };
    let removed = Removed { id: Uuid::now_v7() };
    let checkin = Checkin {
        id: Uuid::now_v7(),
        employee_id: Uuid::now_v7(),
        kind: "in".into(),
        method: "nfc".into(),
        at: time::macros::datetime!(2026-12-01 08:30 UTC),
        local_date: date!(2026 - 12 - 01),
        shift_id: None,
        nfc_tag_id: Some(Uuid::now_v7()),
        location_id: None,
        changed_by: Uuid::now_v7(),
        previous_at: None,
    };
    let task = Task {
        id: Uuid::now_v7(),
        title: "File the report".into(),
        status: "todo".into(),
        assignee_id: Some(Uuid::now_v7()),
        creator_id: Uuid::now_v7(),
        due_date: Some(date!(2026 - 12 - 15)),
        previous_assignee_id: None,
        changed_by: Some(Uuid::now_v7()),
    };
    let leave = LeaveRequest {
        id: Uuid::now_v7(),
        employee_id: Uuid::now_v7(),
        leave_type_id: Uuid::now_v7(),
        leave_type_name: "Annual".into(),
        start_date: date!(2026 - 12 - 16),
        end_date: date!(2026 - 12 - 18),
        days: 3000,
        status: "pending".into(),
        previous_status: None,
        manager_id: Some(Uuid::now_v7()),
        changed_by: Some(Uuid::now_v7()),
    };
    vec![
        Event::AccountCreated(account.clone()),
        Event::AccountUpdated(account),
        Event::AccountCancelled(removed.clone()),
        Event::CompanyCreated(company.clone()),
        Event::CompanyUpdated(company),
        Event::CompanyRemoved(removed.clone()),
        Event::TeamCreated(team.clone()),
        Event::TeamUpdated(team),
        Event::TeamDeleted(removed.clone()),
        Event::LocationCreated(location.clone()),
        Event::LocationUpdated(location),
        Event::LocationDeleted(removed.clone()),
        Event::CalendarCreated(calendar.clone()),
        Event::CalendarUpdated(calendar),
        Event::CalendarDeleted(removed),
        Event::EmployeeCreated(employee("active")),
        Event::EmployeeUpdated(employee("active")),
        Event::EmployeeDeactivated(employee("inactive")),
        Event::EmployeeReactivated(employee("active")),
        Event::CheckinRecorded(checkin.clone()),
        Event::CheckinCorrected(Checkin {
            previous_at: Some(checkin.at),
            at: checkin.at + time::Duration::minutes(5),
            ..checkin
        }),
        Event::TaskCreated(task.clone()),
        Event::TaskUpdated(Task {
            assignee_id: None,
            previous_assignee_id: task.assignee_id,
            changed_by: None,
            ..task
        }),
        Event::LeaveRequested(leave.clone()),
        Event::LeaveRequestUpdated(LeaveRequest {
            status: "approved".into(),
            previous_status: Some("pending".into()),
            ..leave
        }),
    ]
}

fn envelope(event: Event) -> Envelope {
    NewEvent {
        event,
        aggregate_id: Uuid::now_v7(),
        sequence: 3,
        company_id: Uuid::now_v7(),
    }
    .into_envelope(Some(TraceContext {
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        request_id: Some("r-1".into()),
    }))
}

#[test]
fn every_event_survives_the_wire_and_the_catalog_lists_exactly_them() {
    let events = every_event();
    let mut kinds: Vec<&str> = Vec::new();
    for event in events {
        let sent = envelope(event.clone());
        let received = Envelope::from_json(sent.to_json().as_bytes()).unwrap();
        assert_eq!(received, sent);
        assert_eq!(Event::decode(&received).unwrap(), event, "{}", sent.kind);
        assert_eq!(received.id.get_version_num(), 7);
        kinds.push(CATALOG.iter().find(|(k, _)| *k == sent.kind).unwrap().0);
    }
    let mut catalog: Vec<&str> = CATALOG.iter().map(|(k, _)| *k).collect();
    kinds.sort_unstable();
    catalog.sort_unstable();
    assert_eq!(kinds, catalog);
}

#[test]
fn what_cannot_be_decoded_says_why() {
    let mut unknown = envelope(Event::EmployeeCreated(employee("active")));
    unknown.kind = "people.employee.merged".into();
    assert_eq!(
        Event::decode(&unknown).unwrap_err().to_string(),
        "unknown event type people.employee.merged: this version of Roster does not know it"
    );

    let mut newer = envelope(Event::EmployeeCreated(employee("active")));
    newer.version = 9;
    assert_eq!(
        Event::decode(&newer).unwrap_err().to_string(),
        "people.employee.created version 9 is unknown: this version of Roster handles v1"
    );

    let mut broken = envelope(Event::EmployeeCreated(employee("active")));
    broken.payload = Payload::of(&serde_json::json!({ "id": "not a uuid" }));
    assert!(matches!(
        Event::decode(&broken),
        Err(Undecodable::BadPayload { version: 1, .. })
    ));

    assert!(matches!(
        Envelope::from_json(b"{\"id\": 1}"),
        Err(Undecodable::NotAnEnvelope(_))
    ));
}

#[test]
fn an_envelope_names_its_producer_aggregate_and_trace() {
    let e = envelope(Event::EmployeeDeactivated(employee("inactive")));
    assert_eq!(e.producer(), "people");
    assert_eq!(e.aggregate(), "people.employee");
    assert_eq!(
        e.trace.as_ref().and_then(TraceContext::trace_id),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    let calendar = envelope(Event::CalendarDeleted(Removed { id: Uuid::nil() }));
    assert_eq!(calendar.aggregate(), "org.holiday_calendar");
}
