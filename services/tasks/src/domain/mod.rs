//! The tasks service's rules: the status workflow and the values a task holds. No I/O.

pub use roster_contracts::{Invalid, Name, OptionalText};

/// The longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// The longest description, in characters.
pub const DESCRIPTION_MAX: usize = 10_000;

roster_contracts::stored_enum! {
    /// Where a task stands: `todo -> in_progress -> done`, or `cancelled` from either
    /// open state. `done` and `cancelled` are final.
    pub enum Status {
        Todo => "todo",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
}

impl Status {
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
