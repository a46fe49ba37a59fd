//! Data at scale, for trying Roster out with a realistic load and for measuring it:
//! companies with departments of up to a thousand people in squads of ten, each squad
//! led by a manager who reports to the administrator; an office with a tag at its
//! door; and `days` of history: a shift every working day by the tag (a few days
//! missed), leave taken, tasks given by the managers.
//!
//! The companies and their people are made through the public API, as the demo
//! company is, so every service learns of them through its events. The history is
//! brought in through each owning service's import, many rows per statement: made
//! one request at a time it would take hours at this scale.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode};
use roster_storage::StoreError;
use roster_storage::{ServiceDb, Tenant};
use serde_json::json;
use time::macros::time;
use time::{Date, OffsetDateTime, Time, Weekday};
use uuid::Uuid;

use crate::client::Client;

/// What to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub companies: u32,
    /// In all, the administrators included, shared evenly among the companies.
    pub employees: u32,
    /// Days of history before today.
    pub days: u32,
}

/// The most people in a department: its team.
const DEPARTMENT: usize = 1000;
/// People in a squad, its manager included.
const SQUAD: usize = 10;
/// Hires in flight: each hashes a password, which is meant to be slow.
const HIRES_IN_FLIGHT: usize = 8;
/// Days a seeded employee has of annual leave at the start of the history.
const OPENING_DAYS: i64 = 10;
/// How long an import waits for a service to learn of a company it was just told of.
const REPLICA_WAIT: Duration = Duration::from_secs(30);

impl Plan {
    /// The people of each company.
    fn sizes(self) -> anyhow::Result<Vec<usize>> {
        if self.employees < self.companies {
            bail!(
                "{} employees cannot staff {} companies: each needs at least its administrator",
                self.employees,
                self.companies
            );
        }
        let (each, rest) = (
            self.employees / self.companies,
            self.employees % self.companies,
        );
        Ok((0..self.companies)
            .map(|c| (each + u32::from(c < rest)) as usize)
            .collect())
    }
}

/// A seeded company.
#[derive(Debug, Clone)]
pub struct Company {
    pub id: Uuid,
    /// Its departments' teams: the first holds the administrator too.
    pub departments: Vec<Uuid>,
    /// Everyone: the administrator, the managers, their reports.
    pub people: Vec<Member>,
    /// The tag at the office door, and its UID.
    pub tag: (Uuid, String),
}

impl Company {
    pub fn admin(&self) -> &Member {
        &self.people[0]
    }
}

/// Someone of a seeded company, and whom they report to.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    pub email: String,
    pub manager_id: Option<Uuid>,
}

/// What seeding made.
#[derive(Debug)]
pub struct Seeded {
    pub companies: Vec<Company>,
    /// Every account's password.
    pub password: String,
    pub checkins: u64,
    pub tasks: u64,
    pub leave: u64,
    pub took: Duration,
}

impl Seeded {
    /// What was made, and how long it took, on one line.
    pub fn summary(&self) -> String {
        let people: usize = self.companies.iter().map(|c| c.people.len()).sum();
        format!(
            "Seeded {} compan{}, {people} employees, {} check-ins, {} tasks and {} leave records in {:.1} s.",
            self.companies.len(),
            if self.companies.len() == 1 {
                "y"
            } else {
                "ies"
            },
            self.checkins,
            self.tasks,
            self.leave,
            self.took.as_secs_f64()
        )
    }
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.summary())?;
        write!(f, "Every account's password: {}", self.password)?;
        for company in &self.companies {
            write!(f, "\n  admin  {}", company.admin().email)?;
        }
        Ok(())
    }
}

/// Seeds `plan` into the Roster serving at `base`, whose services' databases are
/// `databases`.
pub async fn seed(
    base: &str,
    databases: &[ServiceDb],
    plan: Plan,
    password: &str,
) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let sizes = plan.sizes()?;
    let (presence, tasks, leave) = (
        database(databases, roster_presence::SERVICE.name)?,
        database(databases, roster_tasks::SERVICE.name)?,
        database(databases, roster_leave::SERVICE.name)?,
    );
    // A tag of this run in every email, so that seeding again adds companies.
    let run = Uuid::new_v4().simple().to_string();
    let hiring = bar(plan.employees.into(), "hiring")?;
    let mut companies = Vec::with_capacity(sizes.len());
    let mut admins = Vec::with_capacity(sizes.len());
    for (c, size) in sizes.iter().enumerate() {
        let domain = format!("c{}-{}.example.com", c + 1, &run[..6]);
        let (company, admin) = company(base, c, *size, &domain, password, &hiring).await?;
        companies.push(company);
        admins.push(admin);
    }
    hiring.finish();
    let today = OffsetDateTime::now_utc().date();
    let history = History::new(today, plan.days);
    let importing = bar(companies.len() as u64, "history")?;
    let (mut checkins, mut task_rows, mut leave_rows) = (0, 0, 0);
    for (c, (company, admin)) in companies.iter().zip(&admins).enumerate() {
        let tenant = Tenant::of_company(company.id);
        let annual = crate::demo::leave_types(admin).await?;
        let annual = annual.parse().context("a leave type id")?;
        let kept = history.of(c as u64, company, annual);
        leave_rows += when_known(|| {
            roster_leave::store::import::leave(leave, &tenant, &kept.openings, &kept.leave)
        })
        .await
        .context("leave: cannot import")?;
        let shifts = history.shifts(c as u64, company, &kept.leave);
        checkins += when_known(|| {
            roster_presence::store::import::shifts(presence, &tenant, company.admin().id, &shifts)
        })
        .await
        .context("presence: cannot import")?;
        task_rows +=
            roster_tasks::store::import::tasks(tasks, &tenant, history.tasks(c as u64, company))
                .await
                .map_err(|e| anyhow::anyhow!("tasks: cannot import: {e}"))?;
        importing.inc(1);
    }
    importing.finish();
    // The imports grew the tables far past what the planner's statistics describe.
    for db in databases {
        db.refresh_statistics()
            .await
            .with_context(|| format!("{}: cannot refresh its statistics", db.service()))?;
    }
    Ok(Seeded {
        companies,
        password: password.to_owned(),
        checkins,
        tasks: task_rows,
        leave: leave_rows,
        took: started.elapsed(),
    })
}

/// The database of `service` among `databases`.
pub fn database<'d>(databases: &'d [ServiceDb], service: &str) -> anyhow::Result<&'d ServiceDb> {
    databases
        .iter()
        .find(|db| db.service() == service)
        .with_context(|| format!("{service} is not running here"))
}

/// A progress bar on stderr (hidden where stderr is not a terminal).
fn bar(len: u64, what: &'static str) -> anyhow::Result<ProgressBar> {
    let style = ProgressStyle::with_template(
        "{prefix:>8} [{bar:40}] {pos}/{len} {per_sec} {elapsed_precise} left {eta}",
    )
    .context("the progress bar's template")?
    .progress_chars("=> ");
    Ok(ProgressBar::new(len).with_style(style).with_prefix(what))
}

/// Runs an import again while the service does not know the company yet.
async fn when_known<F, Fut>(import: F) -> anyhow::Result<u64>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let deadline = Instant::now() + REPLICA_WAIT;
    loop {
        match import().await {
            Ok(written) => return Ok(written),
            Err(StoreError::Conflict(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => bail!("{e}"),
        }
    }
}

const FIRST_NAMES: [&str; 24] = [
    "Ana", "Ben", "Chen", "Dara", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas", "Kiri", "Lena",
    "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei",
    "Yara",
];
const SURNAMES: [&str; 24] = [
    "Almeida", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "Gomez", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi",
    "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Zhang",
];
const DEPARTMENTS: [&str; 6] = [
    "Operations",
    "Engineering",
    "Sales",
    "Support",
    "Finance",
    "People",
];
const TASKS: [&str; 8] = [
    "Prepare the weekly report",
    "Review the safety checklist",
    "Answer the open tickets",
    "Update the customer records",
    "Plan the next sprint",
    "Check the stock levels",
    "Train the new starter",
    "Tidy the shared drive",
];

/// Signs a company up and staffs it with `size` people; answers it with its
/// administrator's client.
async fn company(
    base: &str,
    c: usize,
    size: usize,
    domain: &str,
    password: &str,
    hiring: &ProgressBar,
) -> anyhow::Result<(Company, Client)> {
    let admin_email = format!("admin@{domain}");
    let mut client = Client::new(base);
    let signup = json!({
        "company_name": format!("{} {}", SURNAMES[c % SURNAMES.len()], ["Logistics", "Foods", "Health", "Retail"][c % 4]),
        "admin_email": admin_email, "admin_password": password,
        "admin_name": FIRST_NAMES[c % FIRST_NAMES.len()], "admin_surname": "Admin",
    });
    let (status, answer) = client
        .send(Method::POST, "/api/v1/auth/signup", &signup)
        .await?;
    let id = |field: &str| answer[field].as_str().and_then(|s| s.parse::<Uuid>().ok());
    let (Some(company_id), Some(admin_id)) = (id("company_id"), id("employee_id")) else {
        bail!("signup answered {status}: {}", answer["detail"]);
    };
    hiring.inc(1);
    client.login(&admin_email, password).await?;
    let office = client
        .create(
            "/api/v1/org/locations",
            &json!({"name": "Head office", "latitude": 38.7197, "longitude": -9.1426, "radius_m": 150}),
        )
        .await?;
    let tag_uid = format!("04{:010X}", c + 1);
    let tag = client
        .create_when_known(
            "/api/v1/presence/nfc-tags",
            &json!({"uid": tag_uid, "label": "Front door", "location_id": office}),
        )
        .await?;
    // Everyone but the administrator, in squads within departments.
    let staff = size - 1;
    let squads = staff.div_ceil(SQUAD);
    let squads_per_department = DEPARTMENT / SQUAD;
    let mut departments = Vec::new();
    let mut squad_teams = Vec::with_capacity(squads);
    for s in 0..squads {
        if s % squads_per_department == 0 {
            let name = DEPARTMENTS[departments.len() % DEPARTMENTS.len()];
            let name = format!("{name} {}", departments.len() / DEPARTMENTS.len() + 1);
            departments.push(
                client
                    .create("/api/v1/org/teams", &json!({"name": name}))
                    .await?,
            );
        }
        let department = departments.last().context("a squad has a department")?;
        let body = json!({"name": format!("Squad {}", s + 1), "parent_id": department});
        squad_teams.push((
            department.clone(),
            client.create("/api/v1/org/teams", &body).await?,
        ));
    }
    if let Some(first) = departments.first() {
        let body = json!({"position": "Founder", "team_ids": [first]});
        let admin = format!("/api/v1/people/employees/{admin_id}");
        client
            .send_when_known(Method::PATCH, &admin, &body, StatusCode::OK)
            .await?;
    }
    let names = |i: usize| (FIRST_NAMES[i % 24], SURNAMES[(i / 24) % 24]);
    let email = |i: usize| {
        let (first, surname) = names(i);
        format!(
            "{}.{}.{i}@{domain}",
            first.to_lowercase(),
            surname.to_lowercase()
        )
    };
    let person = |i: usize, manager: &str| {
        let (department, squad) = &squad_teams[i / SQUAD];
        let (first, surname) = names(i);
        let lead = i.is_multiple_of(SQUAD);
        let hired = OffsetDateTime::now_utc().date()
            - time::Duration::days(400 + (mix(i as u64) % 2000) as i64);
        json!({
            "email": email(i),
            "name": first, "surname": surname, "password": password,
            "role": if lead { "manager" } else { "employee" },
            "position": if lead { "Team lead" } else { "Associate" },
            "team_ids": [department, squad], "manager_id": manager,
            "hire_date": hired.to_string(),
        })
    };
    // Hires person `i` reporting to `manager`.
    let hire = |i: usize, manager: Uuid| {
        let (client, body) = (client.clone(), person(i, &manager.to_string()));
        async move {
            let id = client
                .create_when_known("/api/v1/people/employees", &body)
                .await?;
            hiring.inc(1);
            let id = id.parse::<Uuid>().context("an employee id")?;
            anyhow::Ok(Member {
                id,
                email: email(i),
                manager_id: Some(manager),
            })
        }
    };
    let leads: Vec<Member> =
        futures::stream::iter((0..staff).step_by(SQUAD).map(|i| hire(i, admin_id)))
            .buffered(HIRES_IN_FLIGHT)
            .try_collect()
            .await?;
    let reports = (0..staff)
        .filter(|i| !i.is_multiple_of(SQUAD))
        .map(|i| hire(i, leads[i / SQUAD].id));
    let reports: Vec<Member> = futures::stream::iter(reports)
        .buffered(HIRES_IN_FLIGHT)
        .try_collect()
        .await?;
    let admin = Member {
        id: admin_id,
        email: admin_email,
        manager_id: None,
    };
    let company = Company {
        id: company_id,
        departments: departments
            .iter()
            .map(|d| d.parse().context("a team id"))
            .collect::<anyhow::Result<_>>()?,
        people: std::iter::once(admin).chain(leads).chain(reports).collect(),
        tag: (tag.parse().context("a tag id")?, tag_uid),
    };
    Ok((company, client))
}

/// A well-mixed number of `x` (SplitMix64): the same on every run.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The working days (Monday to Friday) of the history, oldest first.
struct History {
    today: Date,
    days: Vec<Date>,
}

/// A company's balances and leave.
struct Kept {
    openings: Vec<roster_leave::store::import::Opening>,
    leave: Vec<roster_leave::store::import::PastLeave>,
}

impl History {
    fn new(today: Date, days: u32) -> Self {
        let first = today - time::Duration::days(i64::from(days));
        let days = std::iter::successors(Some(first), |d| d.next_day())
            .take_while(|d| *d < today)
            .filter(|d| !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday))
            .collect();
        Self { today, days }
    }

    /// Everyone's opening balance; half of them took one to three days off.
    fn of(&self, c: u64, company: &Company, annual: Uuid) -> Kept {
        use roster_leave::domain::Days;
        use roster_leave::store::import::{Opening, PastLeave};
        let start = self.days.first().copied().unwrap_or(self.today);
        let mut kept = Kept {
            openings: Vec::new(),
            leave: Vec::new(),
        };
        for (i, member) in company.people.iter().enumerate() {
            kept.openings.push(Opening {
                employee_id: member.id,
                leave_type_id: annual,
                days: Days::from_thousandths(OPENING_DAYS * 1000),
                effective_date: start,
            });
            let roll = mix(c << 32 | i as u64);
            let (Some(manager), true, false) = (
                member.manager_id,
                roll.is_multiple_of(2),
                self.days.is_empty(),
            ) else {
                continue;
            };
            let length = 1 + (roll >> 8) as usize % 3;
            let first = (roll >> 16) as usize % self.days.len();
            let last = (first + length - 1).min(self.days.len() - 1);
            kept.leave.push(PastLeave {
                employee_id: member.id,
                leave_type_id: annual,
                start_date: self.days[first],
                end_date: self.days[last],
                decided_by: manager,
            });
        }
        kept
    }

    /// A shift by the door's tag every working day, in between 8:00 and 9:30 and out
    /// eight to nine hours later, but on leave and on one day in thirty.
    fn shifts(
        &self,
        c: u64,
        company: &Company,
        leave: &[roster_leave::store::import::PastLeave],
    ) -> Vec<roster_presence::store::import::PastShift> {
        let off: HashMap<Uuid, (Date, Date)> = leave
            .iter()
            .map(|l| (l.employee_id, (l.start_date, l.end_date)))
            .collect();
        let mut shifts = Vec::with_capacity(company.people.len() * self.days.len());
        for (i, member) in company.people.iter().enumerate() {
            let off = off.get(&member.id);
            for (d, day) in self.days.iter().enumerate() {
                let roll = mix((c << 48) ^ ((i as u64) << 16) ^ d as u64);
                if roll.is_multiple_of(30)
                    || off.is_some_and(|(first, last)| first <= day && day <= last)
                {
                    continue;
                }
                let start = day.with_time(Time::MIDNIGHT).assume_utc()
                    + time::Duration::minutes(8 * 60 + (roll >> 8) as i64 % 90);
                let end = start + time::Duration::minutes(8 * 60 + (roll >> 16) as i64 % 60);
                shifts.push(roster_presence::store::import::PastShift {
                    employee_id: member.id,
                    started_at: start,
                    ended_at: end,
                    nfc_tag_id: Some(company.tag.0),
                });
            }
        }
        shifts
    }

    /// A task every ten days of history for each but the administrator, from their
    /// manager: done or cancelled once a few days past due, under way or to do before.
    fn tasks(&self, c: u64, company: &Company) -> Vec<roster_tasks::store::import::PastTask> {
        use roster_tasks::domain::Status;
        let span = i64::try_from(self.days.len()).unwrap_or(0);
        let per_person = (self.days.len() / 7).max(1);
        let now = OffsetDateTime::now_utc();
        let mut tasks = Vec::new();
        for (i, member) in company.people.iter().enumerate() {
            let Some(manager) = member.manager_id else {
                continue;
            };
            for t in 0..per_person {
                let roll = mix((c << 40) ^ ((i as u64) << 8) ^ t as u64);
                let back = (span * (per_person - t) as i64 / per_person as i64).max(0);
                let created = now - time::Duration::days(back * 7 / 5 + (roll % 3) as i64);
                let due = created.date() + time::Duration::days(7);
                let status = match (due < self.today - time::Duration::days(2), roll >> 8 & 7) {
                    (true, 0) => Status::Cancelled,
                    (true, _) => Status::Done,
                    (false, n) if n % 2 == 0 => Status::InProgress,
                    (false, _) => Status::Todo,
                };
                let updated = match status {
                    Status::Done | Status::Cancelled => {
                        due.with_time(time!(15:00)).assume_utc().min(now)
                    }
                    _ => created,
                };
                tasks.push(roster_tasks::store::import::PastTask {
                    title: TASKS[(roll >> 16) as usize % TASKS.len()].to_owned(),
                    description: None,
                    status,
                    assignee_id: Some(member.id),
                    creator_id: manager,
                    due_date: Some(due),
                    created_at: created,
                    updated_at: updated,
                });
            }
        }
        tasks
    }
}

/// The longest [`settle`] waits.
const SETTLE_WITHIN: Duration = Duration::from_secs(600);

/// Waits until every service's outbox is published (on the embedded bus, applied by
/// every consumer) and notifications has sent what it queued (the welcome of every
/// hire), so that what was seeded is everywhere, and Roster idle, when the command
/// ends. Past [`SETTLE_WITHIN`], says what is left, which goes on once Roster runs
/// again.
pub async fn settle(databases: &[ServiceDb]) -> anyhow::Result<()> {
    let spinner = ProgressBar::new_spinner().with_prefix("settling");
    let deadline = Instant::now() + SETTLE_WITHIN;
    loop {
        let mut events = 0;
        let publishing = databases.iter().filter(|db| {
            roster_catalog::SERVICES
                .iter()
                .any(|s| s.name == db.service() && s.publishes)
        });
        for db in publishing {
            events += roster_bus::outbox::backlog(db)
                .await
                .with_context(|| format!("{}: cannot read its outbox", db.service()))?;
        }
        let mut sending = false;
        if let Ok(db) = database(databases, roster_notifications::SERVICE.name) {
            sending = roster_notifications::store::deliveries::next_due(db)
                .await
                .context("notifications: cannot read its deliveries")?
                .is_some();
        }
        if events == 0 && !sending {
            spinner.finish_and_clear();
            return Ok(());
        }
        let left = format!(
            "{events} events to publish{}",
            if sending { ", deliveries to send" } else { "" }
        );
        if Instant::now() > deadline {
            spinner.finish_and_clear();
            eprintln!("roster: {left} still; they go once Roster runs again");
            return Ok(());
        }
        spinner.set_message(left);
        spinner.tick();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
