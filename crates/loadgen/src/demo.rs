//! The demo company: an admin, a manager and two employees reporting to the manager, in
//! two teams, a task in each status, an office with a tag at its door and the last
//! working week of check-ins (the last day of one report still open: a forgotten
//! check-out for the manager to mend), leave types with opening balances, a request
//! awaiting the manager and one approved. Seeded through the public API of a running Roster, as a client would, so
//! it goes through every service's own rules and the saga that creates employees, on
//! any topology.

use std::fmt;

use anyhow::{Context as _, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::client::Client;

pub const COMPANY: &str = "Roster Demo";

/// Someone in the demo company.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub role: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub surname: &'static str,
    pub position: &'static str,
}

pub const ADMIN: Person = Person {
    role: "admin",
    email: "admin@demo.example.com",
    name: "Ada",
    surname: "Lovelace",
    position: "Founder",
};

pub const MANAGER: Person = Person {
    role: "manager",
    email: "maria@demo.example.com",
    name: "Maria",
    surname: "Garcia",
    position: "Head of Operations",
};

/// The manager's reports, each in their own team.
pub const REPORTS: [(Person, &str); 2] = [
    (
        Person {
            role: "employee",
            email: "alex@demo.example.com",
            name: "Alex",
            surname: "Kim",
            position: "Engineer",
        },
        "Engineering",
    ),
    (
        Person {
            role: "employee",
            email: "sam@demo.example.com",
            name: "Sam",
            surname: "Okafor",
            position: "Support specialist",
        },
        "Support",
    ),
];

/// What seeding did.
#[derive(Debug)]
pub enum Seeded {
    /// The company was made; every account has this password.
    Created { password: String },
    /// A company of the demo's name is there: it was seeded before.
    Exists,
}

impl fmt::Display for Seeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = match self {
            Self::Exists => {
                return write!(
                    f,
                    "The demo company \"{COMPANY}\" exists already ({}); its password was printed when it was seeded.",
                    ADMIN.email
                );
            }
            Self::Created { password } => password,
        };
        writeln!(
            f,
            "Demo company \"{COMPANY}\" seeded. Every account's password: {password}"
        )?;
        writeln!(f, "  admin     {}", ADMIN.email)?;
        write!(f, "  manager   {}", MANAGER.email)?;
        for (person, team) in REPORTS {
            write!(
                f,
                "\n  employee  {} (reports to {}, team {team})",
                person.email, MANAGER.name
            )?;
        }
        write!(
            f,
            "\n  office    Lisbon office, NFC tag {DOOR_TAG} at its door"
        )
    }
}

/// A password for the demo accounts: 20 characters from an unambiguous alphabet
/// (100 bits), in groups of five.
pub fn password() -> anyhow::Result<String> {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).context("cannot draw a password")?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    Ok(chars
        .chunks(5)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

fn employee(person: &Person, password: &str, teams: &[&str], manager: Option<&str>) -> Value {
    json!({
        "email": person.email, "name": person.name, "surname": person.surname,
        "role": person.role, "position": person.position, "password": password,
        "team_ids": teams, "manager_id": manager,
    })
}

/// Seeds the demo company through the API at `base` (`http://host:port`), every
/// account with `password` (the caller checks it was not seeded before).
pub async fn seed(base: &str, password: String) -> anyhow::Result<Seeded> {
    let mut client = Client::new(base);
    let signup = json!({
        "company_name": COMPANY, "admin_email": ADMIN.email, "admin_password": password,
        "admin_name": ADMIN.name, "admin_surname": ADMIN.surname,
    });
    let (status, answer) = client
        .send(Method::POST, "/api/v1/auth/signup", &signup)
        .await?;
    let admin = match (status, answer["employee_id"].as_str()) {
        (StatusCode::CREATED, Some(id)) => id.to_owned(),
        _ => bail!("signup answered {status}: {}", answer["detail"]),
    };
    client.login(ADMIN.email, &password).await?;
    client
        .update(
            &format!("/api/v1/people/employees/{admin}"),
            &json!({"position": ADMIN.position}),
        )
        .await?;
    let mut teams = Vec::with_capacity(REPORTS.len());
    for (_, team) in REPORTS {
        teams.push(
            client
                .create("/api/v1/org/teams", &json!({"name": team}))
                .await?,
        );
    }
    let team_ids: Vec<&str> = teams.iter().map(String::as_str).collect();
    let manager = client
        .create(
            "/api/v1/people/employees",
            &employee(&MANAGER, &password, &team_ids, None),
        )
        .await?;
    let mut reports = Vec::with_capacity(REPORTS.len());
    for ((person, _), team) in REPORTS.iter().zip(&team_ids) {
        reports.push(
            client
                .create(
                    "/api/v1/people/employees",
                    &employee(person, &password, &[team], Some(&manager)),
                )
                .await?,
        );
    }
    let assignees = [
        Some(reports[0].as_str()),
        Some(reports[1].as_str()),
        Some(manager.as_str()),
        None,
    ];
    for ((title, steps), assignee) in TASKS.iter().zip(assignees) {
        let body = json!({"title": title, "assignee_id": assignee});
        let task = client.create_when_known("/api/v1/tasks", &body).await?;
        for status in *steps {
            client
                .update(&format!("/api/v1/tasks/{task}"), &json!({"status": status}))
                .await?;
        }
    }
    let office = client
        .create(
            "/api/v1/org/locations",
            &json!({"name": "Lisbon office", "address": "Avenida da Liberdade 110, Lisboa",
                    "latitude": 38.7197, "longitude": -9.1426, "radius_m": 150}),
        )
        .await?;
    client
        .create_when_known(
            "/api/v1/presence/nfc-tags",
            &json!({"uid": DOOR_TAG, "label": "Front door", "location_id": office}),
        )
        .await?;
    let people = [
        admin.as_str(),
        manager.as_str(),
        reports[0].as_str(),
        reports[1].as_str(),
    ];
    let forgetful = reports[1].as_str();
    for (at, kind, who) in week_of_checkins(time::OffsetDateTime::now_utc(), &people, forgetful) {
        let body = json!({"kind": kind, "method": "manual", "employee_id": who, "at": at,
                          "reason": "Recorded from the paper sign-in sheet"});
        client
            .create_when_known("/api/v1/presence/checkins", &body)
            .await?;
    }
    seed_leave(base, &client, &people, &password).await?;
    Ok(Seeded::Created { password })
}

/// Leave: an annual type accruing monthly and a sick type credited yearly without
/// approval; an opening balance for everyone; a request of Alex's awaiting Maria, and
/// one of Sam's approved.
async fn seed_leave(
    base: &str,
    admin: &Client,
    people: &[&str],
    password: &str,
) -> anyhow::Result<()> {
    let annual = leave_types(admin).await?;
    for person in people {
        let body = json!({"employee_id": person, "leave_type_id": annual, "days": 10,
                          "kind": "allocation", "note": "Opening balance"});
        admin
            .create_when_known("/api/v1/leave/adjustments", &body)
            .await?;
    }
    let (first, second) = leave_weeks(time::OffsetDateTime::now_utc().date());
    let mut requests = Vec::new();
    for ((person, _), (start, end)) in REPORTS.iter().zip([first, second]) {
        let mut client = Client::new(base);
        client.login(person.email, password).await?;
        let body = json!({"leave_type_id": annual, "start_date": start.to_string(),
                          "end_date": end.to_string(), "reason": "Family visit"});
        requests.push(
            client
                .create_when_known("/api/v1/leave/requests", &body)
                .await?,
        );
    }
    let approve = format!("/api/v1/leave/requests/{}/approve", requests[1]);
    let (status, answer) = admin
        .send(Method::POST, &approve, &json!({"comment": "Enjoy"}))
        .await?;
    if status != StatusCode::OK {
        bail!("POST {approve} answered {status}: {}", answer["detail"]);
    }
    Ok(())
}

/// Makes the company's leave types: an annual one accruing monthly, and a sick one
/// credited yearly without approval; answers the annual type's id.
pub(crate) async fn leave_types(admin: &Client) -> anyhow::Result<String> {
    let annual = admin
        .create(
            "/api/v1/leave/types",
            &json!({"name": "Annual leave", "paid": true, "annual_allowance_days": 25,
                    "accrual": "monthly", "carry_forward_max_days": 5,
                    "carry_forward_expiry_months": 3}),
        )
        .await?;
    admin
        .create(
            "/api/v1/leave/types",
            &json!({"name": "Sick leave", "paid": true, "annual_allowance_days": 10,
                    "accrual": "yearly", "requires_approval": false}),
        )
        .await?;
    Ok(annual)
}

/// Two spans of leave ahead of `today`: Monday to Wednesday of the week after next,
/// and the Thursday and Friday of the week after that.
fn leave_weeks(today: time::Date) -> ((time::Date, time::Date), (time::Date, time::Date)) {
    use time::{Duration, Weekday};
    let monday = std::iter::successors(Some(today + Duration::days(8)), |d| d.next_day())
        .find(|d| d.weekday() == Weekday::Monday)
        .unwrap_or(today);
    (
        (monday, monday + Duration::days(2)),
        (monday + Duration::days(10), monday + Duration::days(11)),
    )
}

/// The UID of the tag at the office door.
pub const DOOR_TAG: &str = "04:A2:2B:1C:5D:80";

/// The check-ins of the last five working days before `now` (UTC, Monday to Friday),
/// oldest first: each person in between 8:00 and 9:30 and out eight to nine hours
/// later, except `forgetful`'s last day, which has no check-out.
fn week_of_checkins<'p>(
    now: time::OffsetDateTime,
    people: &[&'p str],
    forgetful: &str,
) -> Vec<(String, &'static str, &'p str)> {
    use time::{Duration, Time, Weekday};
    let mut days: Vec<time::Date> =
        std::iter::successors(now.date().previous_day(), |d| d.previous_day())
            .filter(|d| !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday))
            .take(5)
            .collect();
    days.reverse();
    let mut checkins = Vec::new();
    let rfc3339 = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    for (d, day) in days.iter().enumerate() {
        for (p, person) in people.iter().enumerate() {
            // A spread that differs per person and day, the same on every run.
            let spread = i64::try_from((d * 7 + p * 13) % 10).unwrap_or(0);
            let start =
                day.with_time(Time::MIDNIGHT).assume_utc() + Duration::minutes(8 * 60 + spread * 9);
            checkins.push((rfc3339(start), "in", *person));
            if *person == forgetful && d + 1 == days.len() {
                continue;
            }
            let end = start + Duration::minutes(8 * 60 + spread * 6);
            checkins.push((rfc3339(end), "out", *person));
        }
    }
    checkins
}

/// The demo tasks, one in each status: its title and the steps that bring it there.
pub const TASKS: [(&str, &[&str]); 4] = [
    ("Review the onboarding checklist", &[]),
    ("Answer the open support tickets", &["in_progress"]),
    ("Plan the team offsite", &["in_progress", "done"]),
    ("Order new monitors", &["cancelled"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_week_of_checkins_alternates_and_leaves_one_shift_open() {
        // A Monday: the week before is Monday to Friday.
        let now = time::macros::datetime!(2026-11-30 10:00 UTC);
        let checkins = week_of_checkins(now, &["a", "b"], "b");
        assert_eq!(checkins.len(), 5 * 2 * 2 - 1);
        assert!(checkins[0].0.starts_with("2026-11-23T"), "{checkins:?}");
        for person in ["a", "b"] {
            let kinds: Vec<&str> = checkins
                .iter()
                .filter(|c| c.2 == person)
                .map(|c| c.1)
                .collect();
            assert!(
                kinds
                    .chunks(2)
                    .all(|pair| pair[0] == "in" && pair.get(1).is_none_or(|k| *k == "out"))
            );
        }
        assert_eq!(checkins.last().map(|c| (c.1, c.2)), Some(("in", "b")));
        assert!(
            checkins
                .iter()
                .all(|c| !c.0.starts_with("2026-11-28") && !c.0.starts_with("2026-11-29"))
        );
    }

    #[test]
    fn leave_falls_on_working_days_ahead() {
        use time::Weekday;
        let today = time::macros::date!(2026 - 12 - 01);
        let ((a, b), (c, d)) = leave_weeks(today);
        assert_eq!(
            (a.weekday(), b.weekday()),
            (Weekday::Monday, Weekday::Wednesday)
        );
        assert_eq!(
            (c.weekday(), d.weekday()),
            (Weekday::Thursday, Weekday::Friday)
        );
        assert!(a > today + time::Duration::days(7));
    }

    #[test]
    fn passwords_are_long_and_differ() {
        let (a, b) = (password().unwrap(), password().unwrap());
        assert_eq!(a.len(), 23);
        assert_eq!(a.split('-').count(), 4);
        assert_ne!(a, b);
    }
}
