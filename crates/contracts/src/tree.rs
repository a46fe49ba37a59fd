use uuid::Uuid;

/// Whether giving `team` the parent `new_parent` would make `team` its own ancestor: in
/// a tree of teams, or of employees and their managers.
///
/// `parent_of` answers each node's current parent. The walk is bounded by the number of
/// nodes it can visit, so a tree already corrupted by a cycle still terminates.
pub fn would_create_cycle(
    team: Uuid,
    new_parent: Uuid,
    teams: usize,
    parent_of: impl Fn(Uuid) -> Option<Uuid>,
) -> bool {
    let mut current = Some(new_parent);
    for _ in 0..=teams {
        match current {
            Some(id) if id == team => return true,
            Some(id) => current = parent_of(id),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn moving_a_team_under_its_descendant_is_a_cycle() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        // a <- b <- c, and d alone.
        let parents = HashMap::from([(b, a), (c, b)]);
        let parent_of = |id: Uuid| parents.get(&id).copied();
        assert!(would_create_cycle(a, c, 4, parent_of));
        assert!(would_create_cycle(a, a, 4, parent_of));
        assert!(!would_create_cycle(c, a, 4, parent_of));
        assert!(!would_create_cycle(a, d, 4, parent_of));
    }

    #[test]
    fn an_existing_cycle_does_not_loop_forever() {
        let (a, b, x) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let parents = HashMap::from([(a, b), (b, a)]);
        assert!(would_create_cycle(x, a, 2, |id| parents.get(&id).copied()));
    }
}
