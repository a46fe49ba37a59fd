//! Invariant 2 for org: every change other services may care about records its event
//! in the same transaction, numbered in its aggregate's order, with the state it
//! committed.

use std::time::{Duration, Instant};

use roster::SERVICES;
use roster_bus::outbox;
use roster_events::{Envelope, Event};
use roster_testing::{TestApp, Topology, topology_tests};
use serde_json::json;

use crate::accounts::sign_up;

/// A service's published events, once `count` of them are there.
pub async fn published(app: &TestApp, service: &str, count: usize) -> Vec<Envelope> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events: Vec<Envelope> = outbox::published_after(app.db(service), None, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        if events.len() >= count {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "only {} events: {events:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn org_records_every_change(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, SERVICES).await else {
        return;
    };
    let company = sign_up(&app, "Acme", "ada@acme.test").await;
    let admin = &company.admin;
    let id = |answer: roster_testing::TestResponse| {
        assert!(answer.status.is_success(), "{:?}", answer.body);
        answer.body["id"].as_str().unwrap().to_owned()
    };
    let team = id(app
        .post("/api/v1/org/teams", admin, &json!({"name": "Ops"}))
        .await);
    app.patch(
        &format!("/api/v1/org/teams/{team}"),
        admin,
        &json!({"name": "Operations"}),
    )
    .await;
    let calendar = id(app
        .post(
            "/api/v1/org/holiday-calendars",
            admin,
            &json!({"name": "Lisbon", "is_default": true}),
        )
        .await);
    let location = id(app
        .post(
            "/api/v1/org/locations",
            admin,
            &json!({"name": "Office", "latitude": 38.7, "longitude": -9.1, "radius_m": 100,
                    "holiday_calendar_id": calendar}),
        )
        .await);
    app.post(
        "/api/v1/org/holidays",
        admin,
        &json!({"date": "2026-12-25", "name": "Christmas"}),
    )
    .await;
    app.patch(
        "/api/v1/org/company/settings",
        admin,
        &json!({"timezone": "Europe/Lisbon"}),
    )
    .await;
    app.delete(&format!("/api/v1/org/teams/{team}"), admin)
        .await;

    // company created, calendar "Public holidays" created; team created, updated;
    // Lisbon created and the old default updated; location created; Lisbon updated
    // (its holiday); company updated; team deleted.
    let events = published(&app, "org", 10).await;
    let summary: Vec<(String, String, u64)> = events
        .iter()
        .map(|e| (e.kind.clone(), e.aggregate_id.to_string(), e.sequence))
        .collect();
    let of = |kind: &str| summary.iter().filter(|(k, _, _)| k == kind).count();
    assert_eq!(of("org.company.created"), 1, "{summary:?}");
    assert_eq!(of("org.holiday_calendar.created"), 2, "{summary:?}");
    assert_eq!(of("org.team.created"), 1, "{summary:?}");
    assert_eq!(of("org.location.created"), 1, "{summary:?}");
    let team_events: Vec<(&str, u64)> = summary
        .iter()
        .filter(|(_, aggregate, _)| *aggregate == team)
        .map(|(kind, _, sequence)| (kind.as_str(), *sequence))
        .collect();
    assert_eq!(
        team_events,
        vec![
            ("org.team.created", 1),
            ("org.team.updated", 2),
            ("org.team.deleted", 3)
        ]
    );
    let lisbon: Vec<Event> = events
        .iter()
        .filter(|e| e.aggregate_id.to_string() == calendar)
        .map(|e| Event::decode(e).unwrap())
        .collect();
    match lisbon.last() {
        Some(Event::CalendarUpdated(c)) => {
            assert!(c.is_default);
            assert_eq!(c.holidays.len(), 1);
            assert_eq!(c.holidays[0].name, "Christmas");
        }
        other => panic!("the calendar's last event: {other:?}"),
    }
    let settings = events
        .iter()
        .rev()
        .find(|e| e.kind == "org.company.updated")
        .map(|e| Event::decode(e).unwrap());
    match settings {
        Some(Event::CompanyUpdated(c)) => {
            assert_eq!(c.settings.timezone, "Europe/Lisbon");
            assert_eq!(c.settings.working_days, vec![1, 2, 3, 4, 5]);
        }
        other => panic!("the company's last event: {other:?}"),
    }
    let at_location: Vec<(&str, u64)> = summary
        .iter()
        .filter(|(_, aggregate, _)| *aggregate == location)
        .map(|(kind, _, sequence)| (kind.as_str(), *sequence))
        .collect();
    assert_eq!(at_location, vec![("org.location.created", 1)]);
}

topology_tests!(org_records_every_change);
