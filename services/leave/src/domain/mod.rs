//! The leave service's rules: amounts of days, the working days a request takes, what
//! each accrual period credits, and what the turns of the year expire (`year_end`).
//! No I/O.

use std::fmt;

use time::{Date, Month};

mod year_end;

pub use roster_contracts::{Invalid, Name, OptionalText};
pub use year_end::{CarryForward, Expiry, Line, periods_of_turns, turns};

/// An amount of leave in thousandths of a day: exact for half days and for a twelfth
/// of an allowance to the thousandth, on both backends (no decimal type in SQLite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Days(i64);

impl Days {
    pub const ZERO: Self = Self(0);
    pub const HALF: Self = Self(500);
    pub const ONE: Self = Self(1000);
    /// The most a policy may grant in a year.
    pub const MAX_ALLOWANCE: Self = Self(366_000);

    pub const fn from_thousandths(thousandths: i64) -> Self {
        Self(thousandths)
    }

    pub const fn thousandths(self) -> i64 {
        self.0
    }

    /// Days given as a number in the API, to the thousandth; refused when negative
    /// or above `max`.
    pub fn parse(field: &'static str, days: f64, max: Self) -> Result<Self, Invalid> {
        let thousandths = (days * 1000.0).round();
        if !thousandths.is_finite() || thousandths < 0.0 || thousandths > max.0 as f64 {
            return Err(Invalid::new(
                field,
                format!("between 0 and {} days", max.as_f64()),
            ));
        }
        Ok(Self(thousandths as i64))
    }

    /// As a number of days, for the API.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// This amount scaled by `part / whole` (pro rata), to the nearest thousandth.
    pub fn share(self, part: i64, whole: i64) -> Self {
        if whole <= 0 {
            return Self::ZERO;
        }
        let scaled = i128::from(self.0) * i128::from(part);
        let rounded = (scaled + i128::from(whole) / 2) / i128::from(whole);
        Self(i64::try_from(rounded).unwrap_or(i64::MAX))
    }
}

impl std::ops::Add for Days {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Days {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Neg for Days {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl std::iter::Sum for Days {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_f64())
    }
}

roster_contracts::stored_enum! {
    /// How a leave type's allowance is credited.
    pub enum Accrual {
        /// Never by itself: only allocations and adjustments.
        None => "none",
        /// A twelfth of the allowance at the start of each month.
        Monthly => "monthly",
        /// The whole allowance at the start of each year.
        Yearly => "yearly",
    }
}

/// A span an accrual credits once per employee and type: a month or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month(i32, Month),
    Year(i32),
}

impl Period {
    /// Its first day.
    pub fn start(self) -> Date {
        let (year, month) = match self {
            Self::Month(year, month) => (year, month),
            Self::Year(year) => (year, Month::January),
        };
        Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN)
    }

    /// Its last day.
    pub fn end(self) -> Date {
        let last = match self {
            Self::Month(year, month) => {
                Date::from_calendar_date(year, month, month.length(year)).ok()
            }
            Self::Year(year) => Date::from_calendar_date(year, Month::December, 31).ok(),
        };
        last.unwrap_or(Date::MAX)
    }

    /// The period after this one.
    fn next(self) -> Self {
        match self {
            Self::Month(year, Month::December) => Self::Month(year + 1, Month::January),
            Self::Month(year, month) => Self::Month(year, month.next()),
            Self::Year(year) => Self::Year(year + 1),
        }
    }

    /// The period of `accrual` that `day` falls in; none for no accrual.
    pub fn of(accrual: Accrual, day: Date) -> Option<Self> {
        match accrual {
            Accrual::None => None,
            Accrual::Monthly => Some(Self::Month(day.year(), day.month())),
            Accrual::Yearly => Some(Self::Year(day.year())),
        }
    }

    /// As stored, and unique per employee and type: `2026-11` or `2026`.
    pub fn key(self) -> String {
        match self {
            Self::Month(year, month) => format!("{year}-{:02}", u8::from(month)),
            Self::Year(year) => year.to_string(),
        }
    }
}

/// The periods due on `today` for someone accruing since `from` (their hire date, or
/// when the leave type began, whichever is later): every period from the one holding
/// `from` to the one holding `today`. A run credits those not credited yet, so a
/// missed period is caught up.
pub fn periods_due(accrual: Accrual, from: Date, today: Date) -> Vec<Period> {
    let (Some(first), Some(last)) = (Period::of(accrual, from), Period::of(accrual, today)) else {
        return Vec::new();
    };
    std::iter::successors(Some(first), |p| Some(p.next()))
        .take_while(|p| *p <= last)
        .collect()
}

/// What `period` credits someone accruing since `from`: the allowance's share for the
/// period (all of it for a year; for a month, what brings the year's credits so far
/// to that many twelfths, so twelve months credit the allowance exactly), pro rata
/// for the days of the period from `from` when they began within it.
pub fn credit(allowance: Days, accrual: Accrual, period: Period, from: Date) -> Days {
    let whole = match (accrual, period) {
        (Accrual::None, _) => return Days::ZERO,
        (Accrual::Monthly, Period::Month(_, month)) => {
            let nth = i64::from(u8::from(month));
            allowance.share(nth, 12) - allowance.share(nth - 1, 12)
        }
        (Accrual::Monthly, Period::Year(_)) => allowance.share(1, 12),
        (Accrual::Yearly, _) => allowance,
    };
    let (start, end) = (period.start(), period.end());
    if from <= start {
        return whole;
    }
    if from > end {
        return Days::ZERO;
    }
    let span = (end - start).whole_days() + 1;
    let left = (end - from).whole_days() + 1;
    whole.share(left, span)
}

/// Which halves of its first and last day a request leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Halves {
    /// The first day is taken from noon: its afternoon only.
    pub start_afternoon: bool,
    /// The last day is taken until noon: its morning only.
    pub end_morning: bool,
}

/// The working days from `start` to `end` (inclusive): the days whose ISO weekday is
/// in `working_days` and that are not in `holidays`, a half for a halved first or last
/// day. Refused when the span is backwards, longer than a year, halves one day twice,
/// or holds no working day.
pub fn working_days(
    start: Date,
    end: Date,
    halves: Halves,
    working_days: &[u8],
    holidays: &[Date],
) -> Result<Days, Invalid> {
    if end < start {
        return Err(Invalid::new("end_date", "on or after the start date"));
    }
    if (end - start).whole_days() > 366 {
        return Err(Invalid::new("end_date", "a request spans a year at most"));
    }
    if start == end && halves.start_afternoon && halves.end_morning {
        return Err(Invalid::new(
            "end_half",
            "a single day is taken as a morning or an afternoon, not both",
        ));
    }
    let works = |day: Date| {
        working_days.contains(&day.weekday().number_from_monday()) && !holidays.contains(&day)
    };
    let mut days = Days::ZERO;
    let mut day = Some(start);
    while let Some(current) = day.filter(|d| *d <= end) {
        if works(current) {
            let halved = (current == start && halves.start_afternoon)
                || (current == end && halves.end_morning);
            days = days + if halved { Days::HALF } else { Days::ONE };
        }
        day = current.next_day();
    }
    if days == Days::ZERO {
        return Err(Invalid::new(
            "start_date",
            "the span holds no working day (weekends and holidays do not count)",
        ));
    }
    Ok(days)
}

roster_contracts::stored_enum! {
    /// Where a request stands: `pending -> approved | rejected`, and `cancelled` from
    /// `pending` or `approved` (which gives the days back). `rejected` and `cancelled`
    /// are final.
    pub enum Status {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
}

impl Status {
    /// Whether a request may go from this status to `next`.
    pub fn may_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (
                Self::Pending,
                Self::Approved | Self::Rejected | Self::Cancelled
            ) | (Self::Approved, Self::Cancelled)
        )
    }

    /// The statuses of requests that hold days: pending ones set aside, approved ones
    /// taken.
    pub const HOLDING: [Self; 2] = [Self::Pending, Self::Approved];
}

roster_contracts::stored_enum! {
    /// What a line of a balance's ledger records.
    pub enum LedgerKind {
        /// Days given by an administrator (an opening balance, a grant).
        Allocation => "allocation",
        /// Days the type's accrual credited for a period.
        Accrual => "accrual",
        /// Days an approved request takes (given back, negated, when it is cancelled).
        Taken => "taken",
        /// A correction by an administrator, either way.
        Adjustment => "adjustment",
        /// Days that lapsed: what a closed year carried past its limit or its expiry.
        Expiry => "expiry",
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const WEEKDAYS: [u8; 5] = [1, 2, 3, 4, 5];

    fn days(n: f64) -> Days {
        Days::parse("days", n, Days::MAX_ALLOWANCE).unwrap()
    }

    #[test]
    fn a_request_counts_working_days_only() {
        // Monday 2026-12-21 to Monday 2026-12-28, Christmas on the Friday.
        let christmas = [date!(2026 - 12 - 25)];
        let counted = working_days(
            date!(2026 - 12 - 21),
            date!(2026 - 12 - 28),
            Halves::default(),
            &WEEKDAYS,
            &christmas,
        );
        assert_eq!(counted, Ok(days(5.0)));
        // Three days, Wednesday to Friday.
        let three = working_days(
            date!(2026 - 12 - 02),
            date!(2026 - 12 - 04),
            Halves::default(),
            &WEEKDAYS,
            &[],
        );
        assert_eq!(three, Ok(days(3.0)));
    }

    #[test]
    fn half_days_count_half() {
        let halves = Halves {
            start_afternoon: true,
            end_morning: true,
        };
        let counted = working_days(
            date!(2026 - 12 - 02),
            date!(2026 - 12 - 04),
            halves,
            &WEEKDAYS,
            &[],
        );
        assert_eq!(counted, Ok(days(2.0)));
        let morning = Halves {
            start_afternoon: false,
            end_morning: true,
        };
        let one = date!(2026 - 12 - 02);
        assert_eq!(
            working_days(one, one, morning, &WEEKDAYS, &[]),
            Ok(Days::HALF)
        );
        assert!(working_days(one, one, halves, &WEEKDAYS, &[]).is_err());
    }

    #[test]
    fn spans_without_work_or_backwards_are_refused() {
        let saturday = date!(2026 - 12 - 05);
        let sunday = date!(2026 - 12 - 06);
        let refused = working_days(saturday, sunday, Halves::default(), &WEEKDAYS, &[]);
        assert_eq!(refused.map_err(|e| e.field), Err("start_date"));
        let backwards = working_days(sunday, saturday, Halves::default(), &WEEKDAYS, &[]);
        assert_eq!(backwards.map_err(|e| e.field), Err("end_date"));
        // A company that works Sundays counts them.
        assert_eq!(
            working_days(saturday, sunday, Halves::default(), &[7], &[]),
            Ok(Days::ONE)
        );
    }

    #[test]
    fn missed_periods_are_due_until_today() {
        let due = periods_due(
            Accrual::Monthly,
            date!(2026 - 10 - 15),
            date!(2027 - 01 - 02),
        );
        let keys: Vec<String> = due.into_iter().map(Period::key).collect();
        assert_eq!(keys, ["2026-10", "2026-11", "2026-12", "2027-01"]);
        let years = periods_due(
            Accrual::Yearly,
            date!(2025 - 03 - 01),
            date!(2026 - 12 - 01),
        );
        assert_eq!(years, [Period::Year(2025), Period::Year(2026)]);
        assert!(
            periods_due(Accrual::None, date!(2025 - 03 - 01), date!(2026 - 12 - 01)).is_empty()
        );
    }

    #[test]
    fn credits_are_pro_rata_from_the_start() {
        let allowance = days(24.0);
        let november = Period::Month(2026, Month::November);
        assert_eq!(
            credit(allowance, Accrual::Monthly, november, date!(2026 - 01 - 01)),
            days(2.0)
        );
        // Hired on the 16th of a 30-day month: 15 days of 30.
        assert_eq!(
            credit(allowance, Accrual::Monthly, november, date!(2026 - 11 - 16)),
            days(1.0)
        );
        // Hired on the 1st of July: 184 days of 365.
        let year = credit(
            allowance,
            Accrual::Yearly,
            Period::Year(2026),
            date!(2026 - 07 - 01),
        );
        assert_eq!(year, Days::from_thousandths(12_099));
        assert_eq!(
            credit(
                allowance,
                Accrual::None,
                Period::Year(2026),
                date!(2026 - 01 - 01)
            ),
            Days::ZERO
        );
        // Twelve months of a 25-day allowance come to 25 days exactly.
        let months: Days = periods_due(
            Accrual::Monthly,
            date!(2026 - 01 - 01),
            date!(2026 - 12 - 31),
        )
        .into_iter()
        .map(|p| credit(days(25.0), Accrual::Monthly, p, date!(2026 - 01 - 01)))
        .sum();
        assert_eq!(months, days(25.0));
    }

    #[test]
    fn days_parse_to_the_thousandth() {
        assert_eq!(days(2.5).thousandths(), 2500);
        assert_eq!(
            Days::parse("d", -1.0, Days::MAX_ALLOWANCE).map_err(|e| e.field),
            Err("d")
        );
        assert!(Days::parse("d", f64::NAN, Days::MAX_ALLOWANCE).is_err());
        assert!(Days::parse("d", 400.0, Days::MAX_ALLOWANCE).is_err());
        assert_eq!(days(1.5).to_string(), "1.5");
    }

    #[test]
    fn requests_are_decided_once_and_cancelled_while_they_hold_days() {
        use Status::*;
        let allowed: Vec<(Status, Status)> = Status::ALL
            .into_iter()
            .flat_map(|from| Status::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from.may_become(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (Pending, Approved),
                (Pending, Rejected),
                (Pending, Cancelled),
                (Approved, Cancelled)
            ]
        );
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn periods_have_keys_and_bounds() {
        let february = Period::Month(2028, Month::February);
        assert_eq!(february.key(), "2028-02");
        assert_eq!(february.end(), date!(2028 - 02 - 29));
        assert_eq!(Period::Year(2026).key(), "2026");
        assert_eq!(Period::Year(2026).start(), date!(2026 - 01 - 01));
    }
}
