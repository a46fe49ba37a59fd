//! The org service's rules: validated values and the team-tree invariant. No I/O.

mod geo;
mod settings;
mod text;
mod tree;

pub use geo::Geofence;
pub use settings::{Currency, Locale, Month, Timezone, WorkingDays};
pub use text::{Name, OptionalText};
pub use tree::would_create_cycle;

/// A value that breaks a rule, named by the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
