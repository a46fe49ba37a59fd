//! The tasks service's rules: the status workflow and the values a task holds. No I/O.

use sea_orm::DeriveValueType;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use roster_contracts::{Invalid, Name, OptionalText};

/// The longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// The longest description, in characters.
pub const DESCRIPTION_MAX: usize = 10_000;

/// Where a task stands: `todo -> in_progress -> done`, or `cancelled` from either open
/// state. `done` and `cancelled` are final.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, DeriveValueType,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(
    value_type = "String",
    from_str = "roster_contracts::from_text",
    to_str = "roster_contracts::StoredText::text"
)]
pub enum Status {
    Todo,
    InProgress,
    Done,
    Cancelled,
}

impl Status {
    pub const ALL: [Self; 4] = [Self::Todo, Self::InProgress, Self::Done, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status stored as `value`, if it is one.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether work on the task is still to be done.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Todo | Self::InProgress)
    }

    /// Whether a task may go from this status to `next` (staying is always allowed).
    pub fn may_become(self, next: Self) -> bool {
        self == next
            || matches!(
                (self, next),
                (Self::Todo, Self::InProgress)
                    | (Self::InProgress, Self::Done)
                    | (Self::Todo | Self::InProgress, Self::Cancelled)
            )
    }
}

roster_contracts::stored_text!(Status);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_moves_forward_and_cancels_open_tasks_only() {
        use Status::*;
        let allowed: Vec<(Status, Status)> = Status::ALL
            .into_iter()
            .flat_map(|from| Status::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from != to && from.may_become(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (Todo, InProgress),
                (Todo, Cancelled),
                (InProgress, Done),
                (InProgress, Cancelled)
            ]
        );
        assert!(Done.may_become(Done));
    }

    #[test]
    fn statuses_read_back_as_stored() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("blocked"), None);
    }
}
