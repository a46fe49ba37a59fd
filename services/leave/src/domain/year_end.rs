//! The turns of the year of one balance: at each New Year what exceeds the
//! carry-forward cap expires, and where the policy sets a time, carried days not taken
//! by then expire too. Computed from the balance's other lines alone, each turn after
//! the ones before it (a turn's closing balance counts the expiries of the turns
//! before), so a catch-up of several years closes each as it would have been closed
//! on time, and a line written late into a closed year settles that year again.

use time::{Date, Month};

use super::Days;

/// A line of a balance as the turns see it: every line but expiries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Its effective date.
    pub on: Date,
    pub amount: Days,
    /// Whether it is leave taken (or given back): what draws on carried days.
    pub taken: bool,
}

/// What a leave type carries into the next year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarryForward {
    /// The most that carries; the rest of the closing balance expires.
    pub cap: Days,
    /// Months into the new year after which carried days not taken expire; none:
    /// they never do.
    pub expiry_months: Option<i32>,
}

/// What one turn expires: its period key (`2025` for the close of 2025, `2025-carried`
/// for what was carried from 2025 and not taken in time), its effective date, the days
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    pub period: String,
    pub on: Date,
    pub amount: Days,
    pub note: String,
}

/// The first day of the month `months` after January of `year`.
pub fn months_into(year: i32, months: i32) -> Option<Date> {
    let (year, month) = (year + months.div_euclid(12), months.rem_euclid(12) + 1);
    Date::from_calendar_date(year, Month::try_from(u8::try_from(month).ok()?).ok()?, 1).ok()
}

/// At the turn of a year, what of `closing` (the balance on its last day) expires: all
/// above `cap`, which carries into the next year. A balance under the cap (or owed)
/// carries whole.
pub fn expires_at_year_end(closing: Days, cap: Days) -> Days {
    if closing > cap {
        closing - cap
    } else {
        Days::ZERO
    }
}

/// What expires of `carried` days once their time is up: what was not taken since
/// the year began (leave taken draws on carried days first).
pub fn carried_left(carried: Days, taken_since: Days) -> Days {
    if carried > taken_since {
        carried - taken_since
    } else {
        Days::ZERO
    }
}

/// One turn of the year: the year it closes, the New Year after it and that year's
/// last day, and when what it carried expires if that time has come.
struct Turn {
    closed: i32,
    new_year: Date,
    last_day: Date,
    until: Option<Date>,
}

/// The period key of the close of year `closed`.
fn closing_period(closed: i32) -> String {
    closed.to_string()
}

/// The period key of the expiry of what year `closed` carried.
fn carried_period(closed: i32) -> String {
    format!("{closed}-carried")
}

/// The turns due by `today` of a balance accruing since `accrual_start`, carried days
/// expiring `expiry_months` into the new year.
fn turns_due(
    accrual_start: Date,
    expiry_months: Option<i32>,
    today: Date,
) -> impl Iterator<Item = Turn> {
    (accrual_start.year() + 1..=today.year()).filter_map(move |year| {
        Some(Turn {
            closed: year - 1,
            new_year: months_into(year, 0)?,
            last_day: Date::from_calendar_date(year - 1, Month::December, 31).ok()?,
            until: expiry_months
                .and_then(|months| months_into(year, months))
                .filter(|until| *until <= today),
        })
    })
}

/// The period keys of every turn due by `today` (each close, and each expiry of what
/// was carried once its time has come), whatever the balance holds: what the
/// ledger's expiry lines are keyed by.
pub fn periods_of_turns(
    accrual_start: Date,
    expiry_months: Option<i32>,
    today: Date,
) -> Vec<String> {
    turns_due(accrual_start, expiry_months, today)
        .flat_map(|turn| {
            let carried = turn.until.map(|_| carried_period(turn.closed));
            std::iter::once(closing_period(turn.closed)).chain(carried)
        })
        .collect()
}

/// Every turn due by `today` of a balance accruing since `accrual_start`, in order,
/// from its `lines` (every line but expiries). A year-end with no line on or before
/// its last day closes nothing.
pub fn turns(
    lines: &[Line],
    policy: CarryForward,
    accrual_start: Date,
    today: Date,
) -> Vec<Expiry> {
    let mut expiries: Vec<Expiry> = Vec::new();
    for Turn {
        closed,
        new_year,
        last_day,
        until,
    } in turns_due(accrual_start, policy.expiry_months, today)
    {
        if !lines.iter().any(|l| l.on <= last_day) {
            continue;
        }
        let kept: Days = lines
            .iter()
            .filter(|l| l.on <= last_day)
            .map(|l| l.amount)
            .sum();
        let gone: Days = expiries
            .iter()
            .filter(|e| e.on <= last_day)
            .map(|e| e.amount)
            .sum();
        let closing = kept - gone;
        let expired = expires_at_year_end(closing, policy.cap);
        let carried = closing - expired;
        expiries.push(Expiry {
            period: closing_period(closed),
            on: new_year,
            amount: expired,
            note: format!(
                "{closed} closed at {closing} days: {carried} carried forward, {expired} expired"
            ),
        });
        if let Some(until) = until {
            let taken: Days = lines
                .iter()
                .filter(|l| l.taken && l.on >= new_year && l.on < until)
                .map(|l| l.amount)
                .sum();
            let left = carried_left(carried, -taken);
            expiries.push(Expiry {
                period: carried_period(closed),
                on: until,
                amount: left,
                note: format!(
                    "{left} of the {carried} days carried from {closed} were not taken by {until}"
                ),
            });
        }
    }
    expiries
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn days(n: f64) -> Days {
        Days::from_thousandths((n * 1000.0).round() as i64)
    }

    fn credit(on: Date, n: f64) -> Line {
        Line {
            on,
            amount: days(n),
            taken: false,
        }
    }

    fn taken(on: Date, n: f64) -> Line {
        Line {
            on,
            amount: -days(n),
            taken: true,
        }
    }

    #[test]
    fn what_carries_and_what_expires() {
        assert_eq!(expires_at_year_end(days(12.5), days(5.0)), days(7.5));
        assert_eq!(expires_at_year_end(days(3.0), days(5.0)), Days::ZERO);
        assert_eq!(expires_at_year_end(-days(2.0), days(5.0)), Days::ZERO);
        assert_eq!(expires_at_year_end(days(4.0), Days::ZERO), days(4.0));
        assert_eq!(carried_left(days(5.0), days(2.0)), days(3.0));
        assert_eq!(carried_left(days(5.0), days(8.0)), Days::ZERO);
    }

    /// Two years caught up at once close as they would have on time: 2025's closing
    /// balance counts what expired at the close of 2024.
    #[test]
    fn a_catch_up_closes_each_year_after_the_one_before() {
        let policy = CarryForward {
            cap: days(5.0),
            expiry_months: None,
        };
        let lines = [
            credit(date!(2024 - 01 - 01), 24.0),
            taken(date!(2024 - 06 - 03), 2.0),
            credit(date!(2025 - 01 - 01), 24.0),
            taken(date!(2025 - 03 - 03), 10.0),
        ];
        let turns = turns(&lines, policy, date!(2024 - 01 - 01), date!(2026 - 02 - 01));
        let amounts: Vec<(String, Days)> =
            turns.iter().map(|t| (t.period.clone(), t.amount)).collect();
        // 2024: 22, 17 expire, 5 carried; 2025: 5 + 24 - 10 = 19, 14 expire.
        assert_eq!(
            amounts,
            [
                ("2024".to_owned(), days(17.0)),
                ("2025".to_owned(), days(14.0))
            ]
        );
        assert_eq!(
            turns[1].note,
            "2025 closed at 19 days: 5 carried forward, 14 expired"
        );
    }

    /// Carried days not taken by the policy's time expire then; leave taken in the new
    /// year draws on them first, and a return gives back what it took.
    #[test]
    fn carried_days_expire_unless_taken_in_time() {
        let policy = CarryForward {
            cap: days(5.0),
            expiry_months: Some(3),
        };
        let lines = [
            credit(date!(2025 - 01 - 01), 8.0),
            taken(date!(2026 - 02 - 02), 3.0),
            taken(date!(2026 - 03 - 02), 1.0),
            Line {
                on: date!(2026 - 03 - 02),
                amount: days(1.0),
                taken: true,
            },
            taken(date!(2026 - 04 - 06), 1.0),
        ];
        let turns = turns(&lines, policy, date!(2025 - 01 - 01), date!(2026 - 05 - 01));
        assert_eq!(turns.len(), 2);
        assert_eq!(
            (turns[0].amount, turns[0].on),
            (days(3.0), date!(2026 - 01 - 01))
        );
        assert_eq!(turns[1].period, "2025-carried");
        assert_eq!(
            (turns[1].amount, turns[1].on),
            (days(2.0), date!(2026 - 04 - 01))
        );
        // Before April, the carried days have not had their time.
        let early = super::turns(&lines, policy, date!(2025 - 01 - 01), date!(2026 - 03 - 31));
        assert_eq!(early.len(), 1);
    }

    /// The keys every turn due is closed under: a close a year, and the expiry of
    /// what it carried once the policy's months are up.
    #[test]
    fn the_periods_of_the_turns_due() {
        let start = date!(2024 - 01 - 01);
        assert_eq!(
            periods_of_turns(start, Some(3), date!(2026 - 02 - 01)),
            ["2024", "2024-carried", "2025"]
        );
        assert_eq!(
            periods_of_turns(start, None, date!(2026 - 05 - 01)),
            ["2024", "2025"]
        );
        assert!(periods_of_turns(start, Some(3), date!(2024 - 12 - 31)).is_empty());
    }

    #[test]
    fn a_year_without_lines_closes_nothing() {
        let policy = CarryForward {
            cap: Days::ZERO,
            expiry_months: None,
        };
        let lines = [credit(date!(2026 - 01 - 01), 2.0)];
        let turns = turns(&lines, policy, date!(2024 - 01 - 01), date!(2027 - 01 - 01));
        assert_eq!(turns.len(), 1);
        assert_eq!(turns[0].period, "2026");
    }
}
