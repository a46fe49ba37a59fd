//! The ledger against a plain model of the rules: random sequences of grants,
//! corrections, requests, approvals, cancellations and accrual runs over five years
//! (run on time, late, or caught up several years at once), applied to leave's store
//! and to the model below. After each step both accept or refuse alike and agree on
//! the balance and on what the turns of the year expired.
//!
//! The model is written from the rules as ARCHITECTURE.md states them, not from the
//! code: a yearly allowance credited each New Year; requests counted in weekdays,
//! refused when they overlap one held or exceed the balance less what is pending;
//! approval checking the balance again; at each New Year what exceeds the cap
//! expires, counting the expiries before it, and carried days not taken within the
//! policy's months expire then; a line written late into a closed year changes what
//! that year expired.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config as Cases, TestCaseError, TestRunner};
use roster_http::Viewer;
use roster_leave::domain::{Accrual, Days, Halves};
use roster_leave::store::{accrual, ledger, requests, types};
use roster_storage::{Scope, ServiceDb, Tenant};
use roster_testing::{TestApp, Topology};
use serde_json::json;
use time::{Date, Duration, Month, OffsetDateTime, Weekday};
use uuid::Uuid;

use crate::accounts::sign_up;
use crate::consistency::ledger_sum;
use crate::tasks::person;

/// The first year of every balance: the type accrues from its New Year.
const FIRST_YEAR: i32 = 2022;
/// Days from the first New Year to the last day an accrual run may be as of.
const SPAN: u16 = 5 * 365 - 31;

fn first_day() -> Date {
    Date::from_calendar_date(FIRST_YEAR, Month::January, 1).unwrap()
}

fn day(offset: u16) -> Date {
    first_day() + Duration::days(i64::from(offset))
}

#[derive(Debug, Clone)]
enum Op {
    /// The accrual job as of a day.
    Run(u16),
    /// An administrator grants whole days.
    Grant(u8),
    /// An administrator corrects the balance (either way).
    Correct(i8),
    /// The employee asks for a span: its first day and its length in days.
    Request(u16, u8),
    /// The manager approves, or the administrator cancels, the nth request made.
    Approve(u8),
    Cancel(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..SPAN).prop_map(Op::Run),
        1 => (1u8..=10).prop_map(Op::Grant),
        1 => (-5i8..=5).prop_filter("a correction changes something", |d| *d != 0).prop_map(Op::Correct),
        3 => ((0..SPAN + 60), 1u8..=7).prop_map(|(d, n)| Op::Request(d, n)),
        2 => any::<u8>().prop_map(Op::Approve),
        1 => any::<u8>().prop_map(Op::Cancel),
    ]
}

/// A type's policy, as the case draws it.
#[derive(Debug, Clone, Copy)]
struct Policy {
    allowance: i64,
    cap: i64,
    expiry_months: Option<i32>,
    requires_approval: bool,
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        5i64..=25,
        0i64..=10,
        prop::option::of(1i32..=6),
        any::<bool>(),
    )
        .prop_map(
            |(allowance, cap, expiry_months, requires_approval)| Policy {
                allowance: allowance * 1000,
                cap: cap * 1000,
                expiry_months,
                requires_approval,
            },
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Pending,
    Approved,
    Done,
}

#[derive(Debug, Clone)]
struct Request {
    id: Uuid,
    start: Date,
    end: Date,
    days: i64,
    held: Held,
}

/// The rules, plainly: lines by effective date, requests, and the latest day the job
/// ran as of.
#[derive(Debug)]
struct Model {
    policy: Policy,
    today: Date,
    ran_until: Option<Date>,
    credited: BTreeSet<i32>,
    /// (effective date, thousandths, whether it is leave taken or given back)
    lines: Vec<(Date, i64, bool)>,
    requests: Vec<Request>,
}

impl Model {
    fn weekdays(start: Date, end: Date) -> i64 {
        let mut count = 0;
        let mut at = start;
        while at <= end {
            if !matches!(at.weekday(), Weekday::Saturday | Weekday::Sunday) {
                count += 1000;
            }
            at = at.next_day().unwrap();
        }
        count
    }

    /// What each turn due expired, with its date, in order.
    fn expiries(&self) -> Vec<(Date, i64)> {
        let Some(until) = self.ran_until else {
            return Vec::new();
        };
        let mut expired: Vec<(Date, i64)> = Vec::new();
        for year in FIRST_YEAR + 1..=until.year() {
            let new_year = Date::from_calendar_date(year, Month::January, 1).unwrap();
            let last_day = new_year.previous_day().unwrap();
            if !self.lines.iter().any(|(on, _, _)| *on <= last_day) {
                continue;
            }
            let closing = self
                .lines
                .iter()
                .filter(|(on, _, _)| *on <= last_day)
                .map(|(_, amount, _)| amount)
                .sum::<i64>()
                - expired
                    .iter()
                    .filter(|(on, _)| *on <= last_day)
                    .map(|(_, amount)| amount)
                    .sum::<i64>();
            let gone = (closing - self.policy.cap).max(0);
            expired.push((new_year, gone));
            if let Some(months) = self.policy.expiry_months {
                let deadline = Date::from_calendar_date(
                    year,
                    Month::try_from(u8::try_from(months + 1).unwrap()).unwrap(),
                    1,
                )
                .unwrap();
                if deadline <= until {
                    let taken: i64 = self
                        .lines
                        .iter()
                        .filter(|(on, _, taken)| *taken && *on >= new_year && *on < deadline)
                        .map(|(_, amount, _)| -amount)
                        .sum();
                    expired.push((deadline, (closing - gone - taken).max(0)));
                }
            }
        }
        expired
    }

    fn balance(&self) -> i64 {
        self.lines.iter().map(|(_, amount, _)| amount).sum::<i64>()
            - self
                .expiries()
                .iter()
                .map(|(_, amount)| amount)
                .sum::<i64>()
    }

    fn pending(&self) -> i64 {
        self.requests
            .iter()
            .filter(|r| r.held == Held::Pending)
            .map(|r| r.days)
            .sum()
    }

    fn run(&mut self, at: Date) {
        self.ran_until = self.ran_until.max(Some(at));
        for year in FIRST_YEAR..=at.year() {
            if self.credited.insert(year) {
                let new_year = Date::from_calendar_date(year, Month::January, 1).unwrap();
                self.lines.push((new_year, self.policy.allowance, false));
            }
        }
    }

    /// Whether a request for `start..=end` is taken.
    fn request(&self, start: Date, end: Date) -> Option<i64> {
        let days = Self::weekdays(start, end);
        let overlaps = self.requests.iter().any(|r| {
            matches!(r.held, Held::Pending | Held::Approved) && r.start <= end && start <= r.end
        });
        (days > 0 && !overlaps && days <= self.balance() - self.pending()).then_some(days)
    }

    fn take(&mut self, n: usize, back: bool) {
        let (start, days) = (self.requests[n].start, self.requests[n].days);
        self.lines
            .push((start, if back { days } else { -days }, true));
    }
}

/// Σ of the employee's ledger of the type, and Σ of its expiry lines (as stored).
async fn ledger_sums(db: &ServiceDb, employee: Uuid, kind: Uuid) -> (i64, i64) {
    let txn = db.read(Scope::AllCompanies).await.unwrap();
    (
        ledger_sum(&txn, employee, kind, None).await,
        ledger_sum(&txn, employee, kind, Some("expiry")).await,
    )
}

/// The company and its people the cases share.
struct Setting {
    app: TestApp,
    tenant: Tenant,
    admin_token: String,
    admin_id: Uuid,
}

/// One case: a new employee and a new type, then `ops` on both the store and the model.
async fn case(setting: &Setting, policy: Policy, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (app, tenant) = (&setting.app, &setting.tenant);
    let db = app.db("leave");
    let email = format!("p{}@acme.test", Uuid::now_v7().simple());
    let (employee, _) = person(
        app,
        &setting.admin_token,
        json!({"email": email, "name": "Pat", "role": "employee", "hire_date": "2020-01-01"}),
    )
    .await;
    let employee: Uuid = employee.parse().unwrap();
    crate::eventually("leave knows the new employee", || async {
        let txn = db.read(Scope::AllCompanies).await.unwrap();
        roster_replica::is_active(&txn, tenant.company_id(), employee)
            .await
            .unwrap()
    })
    .await;
    let kind = types::create(
        db,
        tenant,
        types::NewType {
            name: format!("Annual {}", Uuid::now_v7().simple()),
            paid: true,
            annual_allowance: Days::from_thousandths(policy.allowance),
            accrual: Accrual::Yearly,
            carry_forward_max: Days::from_thousandths(policy.cap),
            carry_forward_expiry_months: policy.expiry_months,
            requires_approval: policy.requires_approval,
        },
        roster_config::QuotasConfig::default().leave_types,
    )
    .await
    .unwrap();
    crate::consistency::backdate(db, &kind.id.to_string(), first_day()).await;

    let today = OffsetDateTime::now_utc().date();
    let mut model = Model {
        policy,
        today,
        ran_until: None,
        credited: BTreeSet::new(),
        lines: Vec::new(),
        requests: Vec::new(),
    };
    for (step, op) in ops.into_iter().enumerate() {
        let by = setting.admin_id;
        match &op {
            Op::Run(offset) => {
                let at = day(*offset).midnight().assume_utc() + Duration::hours(12);
                accrual::run(db, at).await.unwrap();
                model.run(day(*offset));
            }
            Op::Grant(_) | Op::Correct(_) => {
                let (kind_of_entry, days) = match op {
                    Op::Grant(days) => (
                        roster_leave::domain::LedgerKind::Allocation,
                        i64::from(days),
                    ),
                    Op::Correct(days) => (
                        roster_leave::domain::LedgerKind::Adjustment,
                        i64::from(days),
                    ),
                    _ => unreachable!(),
                };
                let entry = ledger::NewEntry {
                    employee_id: employee,
                    leave_type_id: kind.id,
                    kind: kind_of_entry,
                    amount: Days::from_thousandths(days * 1000),
                    note: "by the administrator".to_owned(),
                };
                ledger::record(db, tenant, by, entry).await.unwrap();
                model.lines.push((model.today, days * 1000, false));
            }
            Op::Request(offset, length) => {
                let start = day(*offset);
                let end = start + Duration::days(i64::from(*length) - 1);
                let expected = model.request(start, end);
                let made = requests::create(
                    db,
                    tenant,
                    employee,
                    requests::NewRequest {
                        leave_type_id: kind.id,
                        start_date: start,
                        end_date: end,
                        halves: Halves::default(),
                        reason: None,
                    },
                )
                .await;
                prop_assert_eq!(
                    made.is_ok(),
                    expected.is_some(),
                    "step {}: {:?}: {:?}",
                    step,
                    op,
                    made
                );
                if let (Ok(row), Some(days)) = (made, expected) {
                    let held = match policy.requires_approval {
                        true => Held::Pending,
                        false => Held::Approved,
                    };
                    model.requests.push(Request {
                        id: row.id,
                        start,
                        end,
                        days,
                        held,
                    });
                    if held == Held::Approved {
                        model.take(model.requests.len() - 1, false);
                    }
                }
            }
            Op::Approve(n) | Op::Cancel(n) => {
                if model.requests.is_empty() {
                    continue;
                }
                let i = usize::from(*n) % model.requests.len();
                let approve = matches!(op, Op::Approve(_));
                let request = &model.requests[i];
                let expected = match (approve, request.held) {
                    (true, Held::Pending) => request.days <= model.balance(),
                    (false, Held::Pending | Held::Approved) => true,
                    _ => false,
                };
                let decision = match approve {
                    true => requests::Decision::Approve,
                    false => requests::Decision::Cancel,
                };
                let decided =
                    requests::decide(db, tenant, Viewer::Admin, by, request.id, decision, None)
                        .await;
                prop_assert_eq!(
                    decided.is_ok(),
                    expected,
                    "step {}: {:?}: {:?}",
                    step,
                    op,
                    decided
                );
                if expected {
                    let was = model.requests[i].held;
                    model.requests[i].held = match approve {
                        true => Held::Approved,
                        false => Held::Done,
                    };
                    match (approve, was) {
                        (true, _) => model.take(i, false),
                        (false, Held::Approved) => model.take(i, true),
                        _ => {}
                    }
                }
            }
        }
        let (balance, expired) = ledger_sums(db, employee, kind.id).await;
        let want_expired: i64 = model.expiries().iter().map(|(_, amount)| amount).sum();
        prop_assert_eq!(
            (balance, -expired),
            (model.balance(), want_expired),
            "after step {}: {:?}; model: {:?}",
            step,
            op,
            model
        );
    }
    Ok(())
}

/// Random sequences against the model, on SQLite (the rules are the backends'
/// alike; the concurrency suite races them on each).
#[test]
fn the_ledger_follows_a_plain_model_of_the_rules() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let setting = runtime.block_on(async {
        let app = TestApp::spawn(Topology::Sqlite, roster::SERVICES)
            .await
            .expect("SQLite is always there");
        let acme = sign_up(&app, "Acme", "ada@acme.test").await;
        Setting {
            tenant: Tenant::of_company(acme.company_id.parse().unwrap()),
            admin_id: acme.admin_id.parse().unwrap(),
            admin_token: acme.admin,
            app,
        }
    });
    let mut runner = TestRunner::new(Cases {
        cases: 40,
        failure_persistence: None,
        ..Cases::default()
    });
    let strategy = (policy(), prop::collection::vec(op(), 5..30));
    let outcome = runner.run(&strategy, |(policy, ops)| {
        runtime.block_on(case(&setting, policy, ops))
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
