//! A calendar date as clients write it. `time` reads year 0 and negative years
//! (`-0044-03-15`), which one backend stores and another refuses, and which no
//! employee's leave, shift or hire falls in: every date a request carries is
//! read as a [`CalendarDate`], so it is refused at the door with the field named.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use time::macros::format_description;
use time::{Date, format_description::BorrowedFormatItem};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// A date in years 1 to 9999, written `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate(Date);

impl CalendarDate {
    /// What a date must look like, as the error and the schema say it.
    pub const RULE: &str = "a date written YYYY-MM-DD, in years 0001 to 9999";

    /// Reads `text` as a date: exactly `YYYY-MM-DD`, a real day, year 1 or later.
    pub fn parse(text: &str) -> Result<Self, String> {
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        match Date::parse(text, FORMAT) {
            Ok(date) if shaped && date.year() >= 1 => Ok(Self(date)),
            _ => Err(format!("must be {}", Self::RULE)),
        }
    }

    pub fn get(self) -> Date {
        self.0
    }
}

impl fmt::Debug for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

impl Serialize for CalendarDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl PartialSchema for CalendarDate {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
            .description(Some(Self::RULE))
            .examples(["2027-01-04"])
            .into()
    }
}

impl ToSchema for CalendarDate {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_days_of_years_one_to_9999_as_yyyy_mm_dd_are_dates() {
        let day = CalendarDate::parse("2027-01-04").unwrap();
        assert_eq!(day.get().to_string(), "2027-01-04");
        assert_eq!(CalendarDate::parse("0001-01-01").unwrap().get().year(), 1);
        for text in [
            "0000-01-01",
            "-0001-01-01",
            "+2027-01-04",
            "2027-1-4",
            "2027-02-30",
            "20270104",
            "2027-01-04T00:00:00Z",
            " 2027-01-04",
            "",
        ] {
            assert!(CalendarDate::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_date_reads_and_writes_as_its_text() {
        let day: CalendarDate = serde_json::from_str("\"2026-12-31\"").unwrap();
        assert_eq!(serde_json::to_string(&day).unwrap(), "\"2026-12-31\"");
        let error = serde_json::from_str::<CalendarDate>("\"0000-12-31\"").unwrap_err();
        assert!(error.to_string().contains("years 0001 to 9999"), "{error}");
    }
}
