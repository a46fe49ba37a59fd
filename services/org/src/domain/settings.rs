use super::Invalid;

/// An IANA time zone name known to the bundled time-zone database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timezone(String);

impl Timezone {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        match jiff::tz::TimeZone::get(value) {
            Ok(_) if !value.is_empty() => Ok(Self(value.to_owned())),
            _ => Err(Invalid::new(
                "timezone",
                format!("`{value}` is not an IANA time zone such as Europe/Paris"),
            )),
        }
    }

    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The days of the week people work, stored as a bit per day (Monday is bit 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingDays(i16);

impl WorkingDays {
    /// Monday to Friday.
    pub fn standard() -> Self {
        Self(0b001_1111)
    }

    pub fn parse(days: &[String]) -> Result<Self, Invalid> {
        let mut bits = 0i16;
        for day in days {
            let index = WEEKDAYS
                .iter()
                .position(|w| w.eq_ignore_ascii_case(day.trim()))
                .ok_or_else(|| {
                    Invalid::new(
                        "working_days",
                        format!("`{day}` is not a day of the week (monday ... sunday)"),
                    )
                })?;
            bits |= 1 << index;
        }
        match bits {
            0 => Err(Invalid::new("working_days", "must name at least one day")),
            bits => Ok(Self(bits)),
        }
    }

    /// From the stored bits; bits outside the week are ignored.
    pub fn from_bits(bits: i16) -> Self {
        Self(bits & 0b111_1111)
    }

    pub fn bits(self) -> i16 {
        self.0
    }

    /// The days as ISO weekday numbers: 1 is Monday, 7 Sunday.
    pub fn iso_days(self) -> Vec<u8> {
        (0u8..7)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| i + 1)
            .collect()
    }

    pub fn names(self) -> Vec<String> {
        WEEKDAYS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, name)| (*name).to_owned())
            .collect()
    }
}

/// A language tag such as `en` or `pt-BR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let (language, region) = match value.split_once('-') {
            Some((l, r)) => (l, Some(r)),
            None => (value, None),
        };
        let language_ok =
            (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_lowercase());
        let region_ok =
            region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()));
        match language_ok && region_ok {
            true => Ok(Self(value.to_owned())),
            false => Err(Invalid::new(
                "locale",
                format!("`{value}` is not a language tag such as en or pt-BR"),
            )),
        }
    }

    pub fn english() -> Self {
        Self("en".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 4217 currency code such as `EUR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        match value.len() == 3 && value.chars().all(|c| c.is_ascii_uppercase()) {
            true => Ok(Self(value.to_owned())),
            false => Err(Invalid::new(
                "currency",
                format!("`{value}` is not an ISO 4217 code such as EUR"),
            )),
        }
    }

    pub fn euro() -> Self {
        Self("EUR".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A month of the year, 1 to 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month(i16);

impl Month {
    pub fn parse(field: &'static str, value: i64) -> Result<Self, Invalid> {
        match i16::try_from(value) {
            Ok(m) if (1..=12).contains(&m) => Ok(Self(m)),
            _ => Err(Invalid::new(field, "must be a month from 1 to 12")),
        }
    }

    pub fn january() -> Self {
        Self(1)
    }

    pub fn get(self) -> i16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_come_from_the_database() {
        assert!(Timezone::parse("Europe/Paris").is_ok());
        assert!(Timezone::parse("America/Argentina/Buenos_Aires").is_ok());
        assert!(Timezone::parse("Mars/Olympus_Mons").is_err());
        assert!(Timezone::parse("").is_err());
    }

    #[test]
    fn working_days_round_trip_through_bits() {
        let days = WorkingDays::parse(&["Sunday".into(), "monday".into()]).unwrap();
        assert_eq!(days.names(), ["monday", "sunday"]);
        assert_eq!(WorkingDays::from_bits(days.bits()), days);
        assert_eq!(WorkingDays::standard().names().len(), 5);
        assert!(WorkingDays::parse(&[]).is_err());
        assert!(WorkingDays::parse(&["funday".into()]).is_err());
    }

    #[test]
    fn locales_currencies_and_months() {
        assert!(Locale::parse("pt-BR").is_ok());
        assert!(Locale::parse("english").is_err());
        assert!(Currency::parse("EUR").is_ok());
        assert!(Currency::parse("eur").is_err());
        assert!(Month::parse("m", 12).is_ok());
        assert!(Month::parse("m", 13).is_err());
    }
}
