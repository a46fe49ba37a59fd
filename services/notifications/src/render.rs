//! What a notification says, rendered from a template with the event's data (never
//! by pasting strings together). Each kind has a default title and body.

use minijinja::{Environment, Value};

/// A kind of notification and its default templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    pub kind: &'static str,
    pub title: &'static str,
    pub body: &'static str,
}

/// A task was assigned to you.
pub const TASK_ASSIGNED: Template = Template {
    kind: "task.assigned",
    title: "New task: {{ task.title }}",
    body: "You were assigned \"{{ task.title }}\"{% if task.due_date %}, due {{ task.due_date }}{% endif %}.",
};

/// A task you created lost its assignee, who left.
pub const TASK_UNASSIGNED: Template = Template {
    kind: "task.unassigned",
    title: "Unassigned: {{ task.title }}",
    body: "\"{{ task.title }}\" has no assignee any more: the person it was assigned to left. It needs someone new.",
};

/// A report asks for leave: it awaits your approval.
pub const LEAVE_AWAITING: Template = Template {
    kind: "leave.awaiting_approval",
    title: "Leave to approve: {{ employee.name }} {{ employee.surname }}",
    body: "{{ employee.name }} {{ employee.surname }} asks for {{ days }} days of {{ request.leave_type_name }}, {{ request.start_date }} to {{ request.end_date }}. It awaits your approval.",
};

/// Your leave request was approved or rejected.
pub const LEAVE_DECIDED: Template = Template {
    kind: "leave.decided",
    title: "Leave {{ request.status }}: {{ request.leave_type_name }}",
    body: "Your {{ request.leave_type_name }} from {{ request.start_date }} to {{ request.end_date }} ({{ days }} days) was {{ request.status }}.",
};

/// Welcome on onboarding.
pub const WELCOME: Template = Template {
    kind: "welcome",
    title: "Welcome, {{ employee.name }}!",
    body: "Your Roster account is ready, {{ employee.name }} {{ employee.surname }}. Your tasks, leave and check-ins are all here.",
};

/// Renders a template's title and body with `context`.
pub fn render(template: &Template, context: &Value) -> Result<(String, String), minijinja::Error> {
    let env = Environment::new();
    Ok((
        env.render_str(template.title, context)?,
        env.render_str(template.body, context)?,
    ))
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    #[test]
    fn templates_render_what_they_are_given_as_it_is() {
        let task = context! { title => "Fix \"the\" <door>", due_date => "2026-12-15" };
        let (title, body) = render(&TASK_ASSIGNED, &context! { task }).unwrap();
        assert_eq!(title, "New task: Fix \"the\" <door>");
        assert_eq!(
            body,
            "You were assigned \"Fix \"the\" <door>\", due 2026-12-15."
        );
        let task = context! { title => "Plan", due_date => () };
        let (_, body) = render(&TASK_ASSIGNED, &context! { task }).unwrap();
        assert_eq!(body, "You were assigned \"Plan\".");
    }
}
