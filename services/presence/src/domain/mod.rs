//! The presence service's rules: check-in kinds and methods, tag ids, the day a shift
//! counts on in the company's time zone, and a day's attendance from its shifts. No I/O.

use time::{Date, Duration, OffsetDateTime};

pub use roster_contracts::{Invalid, Name, OptionalText};

/// The longest tag label, in characters.
pub const LABEL_MAX: usize = 100;
/// The longest reason for a manual check-in or a correction, in characters.
pub const REASON_MAX: usize = 500;
/// How far ahead of the server's clock a recorded time may be (clocks drift).
pub const CLOCK_SKEW: Duration = Duration::minutes(2);

roster_contracts::stored_enum! {
    /// Whether a check-in starts or ends a shift.
    pub enum Kind {
        In => "in",
        Out => "out",
    }
}

roster_contracts::stored_enum! {
    /// How a check-in was made.
    pub enum Method {
        /// A tag of the company's registry was read.
        Nfc => "nfc",
        /// The device's position fell within a location's geofence.
        Geo => "geo",
        /// A manager or administrator recorded it, with a reason.
        Manual => "manual",
    }
}

/// An NFC tag's UID as stored: hex digits in upper case, without separators
/// (`04:a2:2b:1c` and `04A22B1C` are one tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagUid(String);

impl TagUid {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, Invalid> {
        let hex: String = value
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = (4..=64).contains(&hex.len())
            && hex.len().is_multiple_of(2)
            && hex.chars().all(|c| c.is_ascii_hexdigit());
        match valid {
            true => Ok(Self(hex)),
            false => Err(Invalid::new(
                field,
                "an NFC tag UID is 2 to 32 bytes in hex, such as 04:A2:2B:1C",
            )),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A position a device reported, checked for range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

impl Position {
    pub fn parse(latitude: Option<f64>, longitude: Option<f64>) -> Result<Self, Invalid> {
        let (Some(latitude), Some(longitude)) = (latitude, longitude) else {
            return Err(Invalid::new(
                "latitude",
                "a geofence check-in needs latitude and longitude",
            ));
        };
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(Invalid::new("latitude", "between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(Invalid::new("longitude", "between -180 and 180"));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }
}

/// One shift: a check-in and, once it was recorded, its check-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
}

/// A person's attendance on one day: the shifts that started on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayAttendance {
    pub first_in: Option<OffsetDateTime>,
    pub last_out: Option<OffsetDateTime>,
    /// Minutes of the shifts that ended.
    pub worked_minutes: i64,
    /// A shift of the day is still open and the day is over.
    pub missing_checkout: bool,
    /// A shift of the day is still open and the day is today: at work now.
    pub open: bool,
}

impl DayAttendance {
    /// The attendance of `day` from its shifts, as seen on `today` (both in the
    /// company's zone).
    pub fn of(day: Date, today: Date, shifts: &[Shift]) -> Self {
        let mut attendance = Self::default();
        for shift in shifts {
            attendance.first_in = Some(
                attendance
                    .first_in
                    .map_or(shift.started_at, |t| t.min(shift.started_at)),
            );
            match shift.ended_at {
                Some(end) => {
                    attendance.last_out = Some(attendance.last_out.map_or(end, |t| t.max(end)));
                    attendance.worked_minutes += (end - shift.started_at).whole_minutes();
                }
                None if day < today => attendance.missing_checkout = true,
                None => attendance.open = true,
            }
        }
        attendance
    }

    pub fn present(&self) -> bool {
        self.first_in.is_some()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn tag_uids_are_stored_one_way() {
        assert_eq!(
            TagUid::parse("uid", "04:a2:2b:1c").map(TagUid::into_inner),
            Ok("04A22B1C".to_owned())
        );
        assert_eq!(
            TagUid::parse("uid", "04A22B1C"),
            TagUid::parse("uid", "04-a2-2b-1c")
        );
        for bad in ["", "04", "04A", "ZZZZ", &"AB".repeat(33)] {
            assert!(TagUid::parse("uid", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_shift_across_midnight_counts_whole_on_its_first_day() {
        let day = date!(2026 - 11 - 30);
        let night = Shift {
            started_at: datetime!(2026-11-30 22:00 UTC),
            ended_at: Some(datetime!(2026-12-01 06:30 UTC)),
        };
        let attendance = DayAttendance::of(day, date!(2026 - 12 - 01), &[night]);
        assert_eq!(attendance.worked_minutes, 510);
        assert_eq!(attendance.first_in, Some(night.started_at));
        assert_eq!(attendance.last_out, night.ended_at);
        assert!(!attendance.missing_checkout && !attendance.open);
    }

    #[test]
    fn an_open_shift_is_missing_its_checkout_once_the_day_is_over() {
        let day = date!(2026 - 11 - 30);
        let shifts = [
            Shift {
                started_at: datetime!(2026-11-30 08:00 UTC),
                ended_at: Some(datetime!(2026-11-30 12:00 UTC)),
            },
            Shift {
                started_at: datetime!(2026-11-30 13:00 UTC),
                ended_at: None,
            },
        ];
        let today = DayAttendance::of(day, day, &shifts);
        assert!(today.open && !today.missing_checkout);
        assert_eq!(today.worked_minutes, 240);
        let later = DayAttendance::of(day, date!(2026 - 12 - 01), &shifts);
        assert!(later.missing_checkout && !later.open);
        assert_eq!(later.first_in, Some(datetime!(2026-11-30 08:00 UTC)));
        assert_eq!(later.last_out, Some(datetime!(2026-11-30 12:00 UTC)));
        assert!(!DayAttendance::of(day, day, &[]).present());
    }

    #[test]
    fn positions_are_checked_for_range() {
        assert!(Position::parse(Some(38.7), Some(-9.1)).is_ok());
        assert!(Position::parse(Some(91.0), Some(0.0)).is_err());
        assert!(Position::parse(Some(0.0), Some(-181.0)).is_err());
        assert!(Position::parse(None, Some(0.0)).is_err());
    }

    #[test]
    fn kinds_and_methods_read_back_as_stored() {
        for kind in [Kind::In, Kind::Out] {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for method in [Method::Nfc, Method::Geo, Method::Manual] {
            assert_eq!(Method::parse(method.as_str()), Some(method));
        }
        assert_eq!(Method::parse("kiosk"), None);
    }
}
