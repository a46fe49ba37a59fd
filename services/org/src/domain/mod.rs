//! The org service's rules: validated values and the team-tree invariant. No I/O.

mod geo;
mod settings;

pub use geo::Geofence;
pub use roster_contracts::{Invalid, Name, OptionalText, would_create_cycle};
pub use settings::{Currency, Locale, Month, Timezone, WorkingDays};
