//! The demo company: an admin, a manager and two employees reporting to the manager, in
//! two teams, and a task in each status. Seeded through the public API of a running Roster, as a client would, so
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
    /// The demo admin's email is taken: the demo company was seeded before.
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
        Ok(())
    }
}

/// A password for the demo accounts: 20 characters from an unambiguous alphabet
/// (100 bits), in groups of five.
fn password() -> anyhow::Result<String> {
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

/// Seeds the demo company through the API at `base` (`http://host:port`), unless its
/// admin exists already.
pub async fn seed(base: &str) -> anyhow::Result<Seeded> {
    let password = password()?;
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
        (StatusCode::CONFLICT, _) => return Ok(Seeded::Exists),
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
        let task = create_task(&client, title, assignee).await?;
        for status in *steps {
            client
                .update(&format!("/api/v1/tasks/{task}"), &json!({"status": status}))
                .await?;
        }
    }
    Ok(Seeded::Created { password })
}

/// The demo tasks, one in each status: its title and the steps that bring it there.
pub const TASKS: [(&str, &[&str]); 4] = [
    ("Review the onboarding checklist", &[]),
    ("Answer the open support tickets", &["in_progress"]),
    ("Plan the team offsite", &["in_progress", "done"]),
    ("Order new monitors", &["cancelled"]),
];

/// How long a new employee may take to reach the tasks service's replica.
const REPLICA_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Creates a task; an assignee hired a moment ago may not have reached the tasks
/// service yet (it learns of them through events), so a refused assignee is tried
/// again for a while.
async fn create_task(
    client: &Client,
    title: &str,
    assignee: Option<&str>,
) -> anyhow::Result<String> {
    let body = json!({"title": title, "assignee_id": assignee});
    let deadline = std::time::Instant::now() + REPLICA_WAIT;
    loop {
        let (status, answer) = client.send(Method::POST, "/api/v1/tasks", &body).await?;
        match status {
            StatusCode::CREATED => {
                return answer["id"]
                    .as_str()
                    .map(str::to_owned)
                    .context("POST /api/v1/tasks answered no id");
            }
            StatusCode::UNPROCESSABLE_ENTITY if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            _ => bail!("POST /api/v1/tasks answered {status}: {}", answer["detail"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_differ() {
        let (a, b) = (password().unwrap(), password().unwrap());
        assert_eq!(a.len(), 23);
        assert_eq!(a.split('-').count(), 4);
        assert_ne!(a, b);
    }
}
