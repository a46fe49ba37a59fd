use crate::Invalid;

/// A display name: trimmed, not empty, at most `max` characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, value: &str, max: usize) -> Result<Self, Invalid> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(Invalid::new(field, "must not be empty"));
        }
        if trimmed.chars().count() > max {
            return Err(Invalid::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Invalid::new(field, "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Free text that may be absent: trimmed, empty becomes absent, at most `max` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalText(Option<String>);

impl OptionalText {
    pub fn parse(field: &'static str, value: Option<&str>, max: usize) -> Result<Self, Invalid> {
        let value = value.map(str::trim).filter(|v| !v.is_empty());
        if value.is_some_and(|v| v.chars().count() > max) {
            return Err(Invalid::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
        Ok(Self(value.map(str::to_owned)))
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("name", "  Sales ", 10).unwrap().into_inner(),
            "Sales"
        );
        assert!(Name::parse("name", "   ", 10).is_err());
        assert!(Name::parse("name", "ééééééééééé", 10).is_err());
        assert!(Name::parse("name", "ééééééééé", 10).is_ok());
        assert!(Name::parse("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn blank_optional_text_is_absent() {
        assert_eq!(
            OptionalText::parse("d", Some("  "), 5)
                .unwrap()
                .into_inner(),
            None
        );
        assert!(OptionalText::parse("d", Some("toolong"), 5).is_err());
    }
}
