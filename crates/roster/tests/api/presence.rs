//! Presence over HTTP on every topology: the tag registry, check-ins by tag, geofence
//! and hand, each employee's state (one open shift, no "out" without an "in"), the day
//! a shift counts on in the company's zone, corrections kept in history, and the
//! attendance of a day and of a month, as each caller may see it.

use std::time::{Duration, Instant};

use roster_events::Event;
use roster_storage::Scope;
use roster_testing::{StatusCode, TestApp, Topology, topology_tests};
use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

use crate::accounts::{SignedUp, sign_up};
use crate::replicas::in_step;
use crate::tasks::{Crew, crew};

/// Waits until presence holds the company's settings at `timezone` and `locations`
/// locations (org's events arrive within moments).
pub async fn org_in_step(app: &TestApp, company_id: &str, timezone: &str, locations: usize) {
    let company: Uuid = company_id.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let txn = app.db("presence").read(Scope::AllCompanies).await.unwrap();
        let rules = roster_replica::company_rules(&txn, company).await.unwrap();
        let places = roster_replica::places(&txn, company).await.unwrap();
        drop(txn);
        if rules.is_some_and(|r| r.timezone == timezone) && places.len() == locations {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "presence never received org's company and locations"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn check(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let answer = app.post("/api/v1/presence/checkins", token, &body).await;
    (answer.status, answer.body)
}

/// Records a check-in that must be taken; answers it.
async fn recorded(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, checkin) = check(app, token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{checkin:?}");
    checkin
}

fn problem_field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or_default()
}

/// Signs Acme up and sets its zone.
pub async fn acme_in(app: &TestApp, timezone: &str) -> SignedUp {
    let acme = sign_up(app, "Acme", "ada@acme.test").await;
    let settings = app
        .patch(
            "/api/v1/org/company/settings",
            &acme.admin,
            &json!({"timezone": timezone}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{:?}", settings.body);
    acme
}

async fn presence_is_checked_and_counted(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = acme_in(&app, "Europe/Berlin").await;
    let admin = acme.admin.as_str();
    let office = app
        .post(
            "/api/v1/org/locations",
            admin,
            &json!({"name": "Lisbon office", "latitude": 38.7223, "longitude": -9.1393, "radius_m": 150}),
        )
        .await;
    assert_eq!(office.status, StatusCode::CREATED, "{:?}", office.body);
    let office_id = office.body["id"].as_str().unwrap().to_owned();
    let team = app
        .post("/api/v1/org/teams", admin, &json!({"name": "Floor"}))
        .await;
    let team_id = team.body["id"].as_str().unwrap().to_owned();
    let Crew {
        max_id,
        max,
        eve_id,
        eve,
        zed_id,
        zed,
        ..
    } = crew(
        &app,
        admin,
        [json!({}), json!({"team_ids": [team_id]}), json!({})],
    )
    .await;
    in_step(&app).await;
    org_in_step(&app, &acme.company_id, "Europe/Berlin", 1).await;

    // The registry: administrators only; one UID once, whatever its spelling.
    let tag = json!({"uid": "04:a2:2b:1c", "label": "Front door", "location_id": office_id});
    let forbidden = app.post("/api/v1/presence/nfc-tags", &eve, &tag).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let made = app.post("/api/v1/presence/nfc-tags", admin, &tag).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["uid"], "04A22B1C");
    let again = app
        .post(
            "/api/v1/presence/nfc-tags",
            admin,
            &json!({"uid": "04A22B1C", "label": "Twin"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    for (bad, field) in [
        (json!({"uid": "xyz", "label": "Bad"}), "uid"),
        (json!({"uid": "0102", "label": ""}), "label"),
        (
            json!({"uid": "0102", "label": "Lost", "location_id": Uuid::now_v7()}),
            "location_id",
        ),
    ] {
        let refused = app.post("/api/v1/presence/nfc-tags", admin, &bad).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(problem_field(&refused.body), field, "{:?}", refused.body);
    }

    // Eve: an "out" without an "in", an unknown tag, a position out of every fence.
    let (status, body) = check(
        &app,
        &eve,
        json!({"kind": "out", "method": "nfc", "nfc_tag_uid": "04A22B1C"}),
    )
    .await;
    assert_eq!(
        (status, problem_field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "kind"),
        "{body:?}"
    );
    let (status, body) = check(
        &app,
        &eve,
        json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "DEADBEEF"}),
    )
    .await;
    assert_eq!(
        (status, problem_field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "nfc_tag_uid"),
        "{body:?}"
    );
    let (status, body) = check(
        &app,
        &eve,
        json!({"kind": "in", "method": "geo", "latitude": 41.1579, "longitude": -8.6291}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Lisbon office"),
        "{body:?}"
    );
    // Only a manual check-in is someone else's, and only by hand is a time given.
    let (status, _) = check(&app, &eve, json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "04A22B1C", "at": "2026-01-01T08:00:00Z"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // In by tag; a second "in" is refused; out by geofence, a hundred metres away.
    let (status, checked_in) = check(
        &app,
        &eve,
        json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "04:A2:2B:1C"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{checked_in:?}");
    assert_eq!(checked_in["location_id"], office_id.as_str());
    assert_eq!(checked_in["employee_id"], eve_id.as_str());
    let (status, _) = check(
        &app,
        &eve,
        json!({"kind": "in", "method": "geo", "latitude": 38.7223, "longitude": -9.1393}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, checked_out) = check(
        &app,
        &eve,
        json!({"kind": "out", "method": "geo", "latitude": 38.7232, "longitude": -9.1393}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{checked_out:?}");
    assert_eq!(checked_out["checkin_id"], checked_in["id"]);
    assert_eq!(checked_out["shift_date"], checked_in["shift_date"]);

    // A manual check-in: not by the employee, nor by someone else's manager; by
    // Eve's manager with a reason, kept in history. A night shift in Berlin time.
    let night_in = json!({"kind": "in", "method": "manual", "employee_id": eve_id,
                          "at": "2026-11-20T21:30:00Z", "reason": "Forgot her badge"});
    let (status, _) = check(&app, &eve, night_in.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = check(&app, &zed, json!({"kind": "in", "method": "manual", "employee_id": eve_id, "at": "2026-11-20T21:30:00Z", "reason": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = check(&app, &max, json!({"kind": "in", "method": "manual", "employee_id": eve_id, "at": "2026-11-20T21:30:00Z"})).await;
    assert_eq!(
        (status, problem_field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason")
    );
    let (status, body) = check(&app, &max, json!({"kind": "in", "method": "manual", "employee_id": eve_id, "at": "2099-01-01T08:00:00Z", "reason": "Later"})).await;
    assert_eq!(
        (status, problem_field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "at")
    );
    let (status, night) = check(&app, &max, night_in).await;
    assert_eq!(status, StatusCode::CREATED, "{night:?}");
    // 22:30 in Berlin on the 20th.
    assert_eq!(night["shift_date"], "2026-11-20");
    let (status, morning) = check(
        &app,
        &max,
        json!({"kind": "out", "method": "manual", "employee_id": eve_id,
        "at": "2026-11-21T05:45:00Z", "reason": "Forgot her badge"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{morning:?}");
    assert_eq!(morning["shift_date"], "2026-11-20");
    // A shift may not start inside another.
    let (status, body) = check(
        &app,
        &max,
        json!({"kind": "in", "method": "manual", "employee_id": eve_id,
        "at": "2026-11-21T01:00:00Z", "reason": "Double"}),
    )
    .await;
    assert_eq!(
        (status, problem_field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "at"),
        "{body:?}"
    );

    // The manager corrects the check-out: the history keeps both, and the day counts
    // the corrected time (21:30 to 06:00 UTC: 510 minutes).
    let morning_id = morning["id"].as_str().unwrap();
    let by_eve = app
        .patch(
            &format!("/api/v1/presence/checkins/{morning_id}"),
            &eve,
            &json!({"at": "2026-11-21T06:00:00Z", "reason": "Mine"}),
        )
        .await;
    assert_eq!(by_eve.status, StatusCode::FORBIDDEN);
    let before_in = app
        .patch(
            &format!("/api/v1/presence/checkins/{morning_id}"),
            &max,
            &json!({"at": "2026-11-20T20:00:00Z", "reason": "Wrong"}),
        )
        .await;
    assert_eq!(before_in.status, StatusCode::UNPROCESSABLE_ENTITY);
    let corrected = app
        .patch(
            &format!("/api/v1/presence/checkins/{morning_id}"),
            &max,
            &json!({"at": "2026-11-21T06:00:00Z", "reason": "Left at seven"}),
        )
        .await;
    assert_eq!(corrected.status, StatusCode::OK, "{:?}", corrected.body);
    let history = app
        .get(
            &format!("/api/v1/presence/checkins/{morning_id}/history"),
            &eve,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let changes: Vec<(&str, &str)> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["change"].as_str().unwrap(), c["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        [
            ("recorded", "Forgot her badge"),
            ("corrected", "Left at seven")
        ]
    );
    assert_eq!(history.body[1]["previous_at"], "2026-11-21T05:45:00Z");
    // Each recording and correction is an event, numbered in the check-in's order.
    let morning_uuid: Uuid = morning_id.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let events: Vec<Event> = crate::producers::published(&app, "presence", 1)
            .await
            .iter()
            .filter(|e| e.aggregate_id == morning_uuid)
            .map(|e| Event::decode(e).unwrap())
            .collect();
        if events.len() >= 2 || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let [
        Event::CheckinRecorded(recorded),
        Event::CheckinCorrected(corrected),
    ] = &events[..]
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        (recorded.kind.as_str(), recorded.method.as_str()),
        ("out", "manual")
    );
    assert_eq!(recorded.at, datetime!(2026-11-21 05:45 UTC));
    assert_eq!(corrected.at, datetime!(2026-11-21 06:00 UTC));
    assert_eq!(corrected.previous_at, Some(recorded.at));
    assert!(recorded.shift_id.is_some());
    assert_eq!(recorded.changed_by.to_string(), max_id);
    assert_eq!(corrected.changed_by.to_string(), max_id);

    let day = app
        .get("/api/v1/presence/attendance?date=2026-11-20", &max)
        .await;
    assert_eq!(day.status, StatusCode::OK, "{:?}", day.body);
    let names: Vec<&str> = day.body["employees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // A manager sees themselves and their reports; Zed is not Max's.
    assert_eq!(names, ["Eve", "Max"]);
    let eves = &day.body["employees"][0];
    assert_eq!(eves["worked_minutes"], 510);
    assert_eq!(eves["first_in"], "2026-11-20T21:30:00Z");
    assert_eq!(eves["last_out"], "2026-11-21T06:00:00Z");
    assert_eq!(eves["missing_checkout"], false);
    // The 21st had no shift of its own: the night counts on the 20th.
    let next = app
        .get(
            &format!("/api/v1/presence/attendance?date=2026-11-21&employee_id={eve_id}"),
            admin,
        )
        .await;
    assert_eq!(next.body["employees"][0]["worked_minutes"], 0);
    assert_eq!(next.body["employees"][0]["first_in"], Value::Null);

    // Today: Eve's tag shift; Zed checks in and does not check out.
    let (status, _) = check(
        &app,
        &zed,
        json!({"kind": "in", "method": "geo", "latitude": 38.7223, "longitude": -9.1393}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let today = app.get("/api/v1/presence/attendance", admin).await;
    assert_eq!(today.status, StatusCode::OK);
    let rows = today.body["employees"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let row = |id: &str| rows.iter().find(|r| r["employee_id"] == id).unwrap();
    assert_eq!(row(&eve_id)["first_in"], checked_in["at"]);
    assert_eq!(row(&eve_id)["last_out"], checked_out["at"]);
    assert_eq!(row(&zed_id)["checked_in"], true);
    assert_eq!(row(&zed_id)["missing_checkout"], false);
    assert_eq!(row(&acme.admin_id)["first_in"], Value::Null);

    // An employee sees their own check-ins only; a manager their reports' too.
    let own = app.get("/api/v1/presence/checkins", &zed).await;
    assert_eq!(own.body["items"].as_array().unwrap().len(), 1);
    let theirs = app
        .get(
            &format!(
                "/api/v1/presence/checkins?employee_id={eve_id}&from=2026-11-20&to=2026-11-20"
            ),
            &max,
        )
        .await;
    assert_eq!(
        theirs.body["items"].as_array().unwrap().len(),
        2,
        "{:?}",
        theirs.body
    );
    let hidden = app
        .get(
            &format!(
                "/api/v1/presence/checkins/{}",
                checked_in["id"].as_str().unwrap()
            ),
            &zed,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // The month of the team: Eve only, two days present, the night's minutes.
    let month = app
        .get(
            &format!("/api/v1/presence/attendance/month?month=2026-11&team_id={team_id}"),
            admin,
        )
        .await;
    assert_eq!(month.status, StatusCode::OK, "{:?}", month.body);
    let members = month.body["employees"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["employee_id"], eve_id.as_str());
    assert_eq!(members[0]["days"][0]["date"], "2026-11-20");
    assert_eq!(members[0]["days"][0]["worked_minutes"], 510);
    let bad = app
        .get("/api/v1/presence/attendance/month?month=2026-13", admin)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A deleted tag checks nobody in.
    let tag_id = made.body["id"].as_str().unwrap();
    let gone = app
        .delete(&format!("/api/v1/presence/nfc-tags/{tag_id}"), admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let (status, body) = check(
        &app,
        &eve,
        json!({"kind": "in", "method": "nfc", "nfc_tag_uid": "04A22B1C"}),
    )
    .await;
    assert_eq!(
        (status, problem_field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "nfc_tag_uid")
    );
}

/// Moves check-in `id` to `at` as `token`; answers the status and the field refused.
async fn correct(app: &TestApp, token: &str, id: &Value, at: &str) -> (StatusCode, String) {
    let answer = app
        .patch(
            &format!("/api/v1/presence/checkins/{}", id.as_str().unwrap()),
            token,
            &json!({"at": at, "reason": "Moved"}),
        )
        .await;
    (answer.status, problem_field(&answer.body).to_owned())
}

/// Whether shifts meet is decided against the employee's whole history, whichever
/// of their shifts is met: earlier ones, later ones, and one still open.
async fn shifts_never_overlap(topology: Topology) {
    let Some(app) = TestApp::spawn(topology, roster::SERVICES).await else {
        return;
    };
    let acme = acme_in(&app, "Europe/Lisbon").await;
    let admin = acme.admin.as_str();
    let Crew { max, eve_id, .. } = crew(&app, admin, [json!({}), json!({}), json!({})]).await;
    in_step(&app).await;
    org_in_step(&app, &acme.company_id, "Europe/Lisbon", 0).await;
    let by_hand = |kind: &str, at: &str| json!({"kind": kind, "method": "manual", "employee_id": eve_id, "at": at, "reason": "By hand"});

    // Three days of 8:00 to 16:00.
    let mut shifts = Vec::new();
    for day in 10..=12 {
        let [shift_in, shift_out] = [("in", 8), ("out", 16)]
            .map(|(kind, hour)| by_hand(kind, &format!("2026-11-{day}T{hour:02}:00:00Z")));
        let shift_in = recorded(&app, &max, shift_in).await["id"].clone();
        let shift_out = recorded(&app, &max, shift_out).await["id"].clone();
        shifts.push((shift_in, shift_out));
    }
    let [(_, out_10), (_, _), (in_12, out_12)] = &shifts[..] else {
        unreachable!()
    };

    // A shift may start inside none of them, the last one or an earlier one.
    for at in ["2026-11-12T12:00:00Z", "2026-11-11T12:00:00Z"] {
        let (status, body) = check(&app, &max, by_hand("in", at)).await;
        assert_eq!(
            (status, problem_field(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "at"),
            "{at}: {body:?}"
        );
    }
    // Nor be moved into the one before it or the one after it.
    for (id, at) in [
        (in_12, "2026-11-11T15:00:00Z"),
        (out_10, "2026-11-11T09:00:00Z"),
    ] {
        assert_eq!(
            correct(&app, &max, id, at).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "at".to_owned()),
            "{at}"
        );
    }
    assert_eq!(
        correct(&app, &max, out_10, "2026-11-10T18:00:00Z").await,
        (StatusCode::OK, String::new())
    );

    // An open shift reaches on: no closed one may be moved past its start.
    recorded(&app, &max, by_hand("in", "2026-11-13T08:00:00Z")).await;
    assert_eq!(
        correct(&app, &max, out_12, "2026-11-13T09:00:00Z").await,
        (StatusCode::UNPROCESSABLE_ENTITY, "at".to_owned())
    );
    assert_eq!(
        correct(&app, &max, out_12, "2026-11-12T17:00:00Z").await,
        (StatusCode::OK, String::new())
    );
    recorded(&app, &max, by_hand("out", "2026-11-13T16:00:00Z")).await;
    let month = app
        .get("/api/v1/presence/attendance/month?month=2026-11", admin)
        .await;
    assert_eq!(month.status, StatusCode::OK, "{:?}", month.body);
    let eves = month.body["employees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["employee_id"] == eve_id.as_str())
        .unwrap();
    let minutes: Vec<i64> = eves["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["worked_minutes"].as_i64().unwrap())
        .collect();
    assert_eq!(minutes, [600, 480, 540, 480]);
}

topology_tests!(presence_is_checked_and_counted, shifts_never_overlap);
