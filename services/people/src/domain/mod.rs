//! People's rules, without I/O: statuses, phones, salaries.

use roster_contracts::Invalid;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use roster_contracts::{Email, Name, OptionalText, would_create_cycle};

pub const NAME_MAX: usize = 100;
pub const POSITION_MAX: usize = 100;

roster_contracts::stored_enum! {
    /// Whether an employee works here.
    pub enum Status {
        Active => "active",
        /// Deactivated (a soft delete): kept for history, cannot log in.
        Inactive => "inactive",
    }
}

/// A phone number: digits with an optional leading `+` and spaces, dashes, dots or
/// parentheses between them; 6 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        let rest = value.strip_prefix('+').unwrap_or(value);
        let digits = rest.chars().filter(char::is_ascii_digit).count();
        let allowed = rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        match allowed && (6..=20).contains(&digits) {
            true => Ok(Self(value.to_owned())),
            false => Err(Invalid::new(
                field,
                "must be a phone number such as +351 912 345 678",
            )),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A yearly gross salary. Sealed at rest; shown only to administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Salary {
    /// A decimal amount with at most two decimals, such as `"55000.00"`.
    pub amount: String,
    /// ISO 4217, such as `EUR`.
    pub currency: String,
}

impl Salary {
    pub fn parse(field: &'static str, value: Salary) -> Result<Self, Invalid> {
        let amount = value.amount.trim();
        let (units, cents) = amount.split_once('.').unwrap_or((amount, ""));
        let valid_amount = !units.is_empty()
            && units.len() <= 12
            && units.chars().all(|c| c.is_ascii_digit())
            && cents.len() <= 2
            && cents.chars().all(|c| c.is_ascii_digit());
        if !valid_amount {
            return Err(Invalid::new(
                field,
                "amount must be a non-negative decimal with at most two decimals, such as \"55000.00\"",
            ));
        }
        let currency = value.currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Invalid::new(
                field,
                "currency must be an ISO 4217 code such as EUR",
            ));
        }
        Ok(Self {
            amount: format!("{units}.{cents:0<2}"),
            currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked() {
        assert!(Phone::parse("phone", "+351 912 345 678").is_ok());
        assert!(Phone::parse("phone", "(555) 123-4567").is_ok());
        assert!(Phone::parse("phone", "12345").is_err());
        assert!(Phone::parse("phone", "call me").is_err());
    }

    #[test]
    fn salaries_are_normalised() {
        let salary = |amount: &str, currency: &str| {
            Salary::parse(
                "salary",
                Salary {
                    amount: amount.into(),
                    currency: currency.into(),
                },
            )
        };
        assert_eq!(salary("55000", "eur").unwrap().amount, "55000.00");
        assert_eq!(salary("55000.5", "EUR").unwrap().amount, "55000.50");
        assert!(salary("-1", "EUR").is_err());
        assert!(salary("1.234", "EUR").is_err());
        assert!(salary("100", "EURO").is_err());
    }
}
