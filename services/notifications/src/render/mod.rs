//! What a notification says, rendered from a template with the event's data (never
//! by pasting strings together). Each kind has a default title and body; a company
//! may word any kind its own way (`store::templates`), within what `wording` allows:
//! every render, the defaults' too, is measured before it runs and runs on a budget
//! of instructions and output, so no company's wording can stall the renders of
//! the others that share the notifications consumer.

mod wording;

use std::io;

use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value, context};
use roster_events::{Employee, LeaveRequest, Task};
use roster_replica::Person;
use serde::Serialize;
use time::{Date, Month};
use uuid::Uuid;

pub use wording::MAX_FIELD;

/// A kind of notification and its default templates.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub kind: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    /// What the templates of this kind are given, with made-up values: a company's
    /// own wording is checked against it before it is kept.
    pub sample: fn() -> Value,
}

/// The longest title and body a company may write.
pub const MAX_TITLE: usize = 300;
pub const MAX_BODY: usize = 10_000;

/// The most bytes a title and a body may render to, whatever values they are
/// given: a wording that could write more is refused when it is saved.
pub const MAX_TITLE_OUTPUT: usize = 8 * 1024;
pub const MAX_BODY_OUTPUT: usize = 64 * 1024;

/// The instructions one render may run. A wording within `wording`'s rules runs
/// about one per value and piece of text, so this is a second fence, never reached
/// by a wording that was kept.
const FUEL: u64 = 50_000;

/// A task was assigned to you.
pub const TASK_ASSIGNED: Template = Template {
    kind: "task.assigned",
    title: "New task: {{ task.title }}",
    body: "You were assigned \"{{ task.title }}\"{% if task.due_date %}, due {{ task.due_date }}{% endif %}.",
    sample: task_sample,
};

/// A task you created lost its assignee, who left.
pub const TASK_UNASSIGNED: Template = Template {
    kind: "task.unassigned",
    title: "Unassigned: {{ task.title }}",
    body: "\"{{ task.title }}\" has no assignee any more: the person it was assigned to left. It needs someone new.",
    sample: task_sample,
};

/// A report asks for leave: it awaits your approval.
pub const LEAVE_AWAITING: Template = Template {
    kind: "leave.awaiting_approval",
    title: "Leave to approve: {{ employee.name }} {{ employee.surname }}",
    body: "{{ employee.name }} {{ employee.surname }} asks for {{ days }} days of {{ request.leave_type_name }}, {{ request.start_date }} to {{ request.end_date }}. It awaits your approval.",
    sample: leave_sample,
};

/// Your leave request was approved, rejected or cancelled (by someone else).
pub const LEAVE_DECIDED: Template = Template {
    kind: "leave.decided",
    title: "Leave {{ request.status }}: {{ request.leave_type_name }}",
    body: "Your {{ request.leave_type_name }} from {{ request.start_date }} to {{ request.end_date }} ({{ days }} days) was {{ request.status }}.",
    sample: leave_sample,
};

/// Welcome on onboarding.
pub const WELCOME: Template = Template {
    kind: "welcome",
    title: "Welcome, {{ employee.name }}!",
    body: "Your Roster account is ready, {{ employee.name }} {{ employee.surname }}. Your tasks, leave and check-ins are all here.",
    sample: employee_sample,
};

/// Every kind of notification.
pub const ALL: [&Template; 5] = [
    &WELCOME,
    &TASK_ASSIGNED,
    &TASK_UNASSIGNED,
    &LEAVE_AWAITING,
    &LEAVE_DECIDED,
];

/// The kind named `kind`, if there is one.
pub fn kind(kind: &str) -> Option<&'static Template> {
    ALL.into_iter().find(|t| t.kind == kind)
}

/// `value` as a wording is given it: every text in it cut to [`MAX_FIELD`]
/// characters, so what a wording can write is known before it runs.
fn given<T: Serialize>(value: &T) -> Value {
    fn cut(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let Some((end, _)) = s.char_indices().nth(MAX_FIELD) {
                    s.truncate(end);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(cut),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(cut),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(value).unwrap_or_default();
    cut(&mut value);
    Value::from_serialize(&value)
}

/// What a welcome is given: the employee.
pub fn employee_context(employee: &Employee) -> Value {
    context! { employee => given(employee) }
}

/// What a task's notification is given: the task.
pub fn task_context(task: &Task) -> Value {
    context! { task => given(task) }
}

/// What a leave request's notification is given: the request, the employee's names
/// and the days as a person writes them (3, 2.5).
pub fn leave_context(request: &LeaveRequest, employee: Option<&Person>) -> Value {
    context! {
        request => given(request),
        employee => given(&serde_json::json!({
            "name": employee.map(|e| &e.name),
            "surname": employee.map(|e| &e.surname),
        })),
        // Rust prints 3.0 as 3 and 2.5 as 2.5.
        days => (request.days as f64 / 1000.0).to_string(),
    }
}

const SAMPLE_ID: Uuid = Uuid::from_u128(0x0192_f0c8_0000_7000_8000_0000_0000_0001);

fn sample_date() -> Date {
    Date::from_calendar_date(2026, Month::December, 21).unwrap_or(Date::MIN)
}

fn employee_sample() -> Value {
    employee_context(&Employee {
        id: SAMPLE_ID,
        company_id: SAMPLE_ID,
        email: "sam@example.com".to_owned(),
        name: "Sam".to_owned(),
        surname: "Rivera".to_owned(),
        role: "employee".to_owned(),
        position: Some("Engineer".to_owned()),
        phone: Some("+44 20 7946 0000".to_owned()),
        manager_id: Some(SAMPLE_ID),
        hire_date: Some(sample_date()),
        status: "active".to_owned(),
        team_ids: vec![SAMPLE_ID],
    })
}

fn task_sample() -> Value {
    task_context(&Task {
        id: SAMPLE_ID,
        title: "Fix the front door".to_owned(),
        status: "todo".to_owned(),
        assignee_id: Some(SAMPLE_ID),
        creator_id: SAMPLE_ID,
        due_date: Some(sample_date()),
        previous_assignee_id: Some(SAMPLE_ID),
        changed_by: Some(SAMPLE_ID),
    })
}

fn leave_sample() -> Value {
    let request = LeaveRequest {
        id: SAMPLE_ID,
        employee_id: SAMPLE_ID,
        leave_type_id: SAMPLE_ID,
        leave_type_name: "Annual leave".to_owned(),
        start_date: sample_date(),
        end_date: sample_date(),
        days: 3000,
        status: "approved".to_owned(),
        previous_status: Some("pending".to_owned()),
        manager_id: Some(SAMPLE_ID),
        changed_by: Some(SAMPLE_ID),
    };
    let employee = Person {
        id: SAMPLE_ID,
        name: "Sam".to_owned(),
        surname: "Rivera".to_owned(),
    };
    leave_context(&request, Some(&employee))
}

/// Renders a company's (or the default) wording of `template`'s kind with
/// `context`; a name the context lacks renders empty. A wording that breaks the
/// rules of `wording` (one kept before they were), runs out of instructions or
/// writes past its part's limit is an error: the caller falls back to the default.
pub fn render(
    template: &Template,
    title: &str,
    body: &str,
    context: &Value,
) -> Result<(String, String), Error> {
    let env = environment(UndefinedBehavior::Lenient);
    let sample = (template.sample)();
    let part = |source: &str, limit: usize| -> Result<String, Error> {
        measure(source, &sample, limit).map_err(|e| Error::new(ErrorKind::InvalidOperation, e))?;
        let mut out = Capped {
            out: Vec::new(),
            room: limit,
        };
        env.template_from_str(source)?
            .render_captured_to(context, &mut out)?;
        String::from_utf8(out.out)
            .map_err(|_| Error::new(ErrorKind::InvalidOperation, "the render is not text"))
    };
    Ok((part(title, MAX_TITLE_OUTPUT)?, part(body, MAX_BODY_OUTPUT)?))
}

/// The environment every wording renders in: the default filters and tests, on a
/// budget of [`FUEL`] instructions.
fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(FUEL));
    env
}

/// The most `source` can write, if within `limit` and the rules of a wording.
fn measure(source: &str, sample: &Value, limit: usize) -> Result<usize, String> {
    let most = wording::measure(source, sample)?;
    if most > limit {
        return Err(format!(
            "can write up to {most} bytes with the longest values it may be given ({MAX_FIELD} characters each); at most {limit} are allowed"
        ));
    }
    Ok(most)
}

/// A render's output, refused past its room.
struct Capped {
    out: Vec<u8>,
    room: usize,
}

impl io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.room = self
            .room
            .checked_sub(buf.len())
            .ok_or_else(|| io::Error::other("the render writes more than its part may"))?;
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Checks a company's own wording of `template`'s kind: each part within its length,
/// within the rules of a wording and what it may write (`wording`), and only names
/// the kind's templates are given (tried on its sample, where an unknown name is an
/// error rather than an empty string). The error names the part at fault.
pub fn check(template: &Template, title: &str, body: &str) -> Result<(), (&'static str, String)> {
    if title.trim().is_empty() || title.chars().count() > MAX_TITLE {
        return Err(("title", format!("must be 1 to {MAX_TITLE} characters")));
    }
    if body.trim().is_empty() || body.chars().count() > MAX_BODY {
        return Err(("body", format!("must be 1 to {MAX_BODY} characters")));
    }
    let env = environment(UndefinedBehavior::Strict);
    let sample = (template.sample)();
    for (part, text, limit) in [
        ("title", title, MAX_TITLE_OUTPUT),
        ("body", body, MAX_BODY_OUTPUT),
    ] {
        measure(text, &sample, limit).map_err(|e| (part, e))?;
        env.render_str(text, &sample).map_err(|e| {
            (
                part,
                e.detail().map_or_else(|| e.to_string(), str::to_owned),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_what_they_are_given_as_it_is() {
        let task = context! { title => "Fix \"the\" <door>", due_date => "2026-12-15" };
        let (title, body) = render(
            &TASK_ASSIGNED,
            TASK_ASSIGNED.title,
            TASK_ASSIGNED.body,
            &context! { task },
        )
        .unwrap();
        assert_eq!(title, "New task: Fix \"the\" <door>");
        assert_eq!(
            body,
            "You were assigned \"Fix \"the\" <door>\", due 2026-12-15."
        );
        let task = context! { title => "Plan", due_date => () };
        let (_, body) = render(
            &TASK_ASSIGNED,
            TASK_ASSIGNED.title,
            TASK_ASSIGNED.body,
            &context! { task },
        )
        .unwrap();
        assert_eq!(body, "You were assigned \"Plan\".");
    }

    #[test]
    fn every_default_passes_its_own_check() {
        for template in ALL {
            assert_eq!(
                check(template, template.title, template.body),
                Ok(()),
                "{}",
                template.kind
            );
        }
    }

    #[test]
    fn a_wording_with_an_unknown_name_or_bad_syntax_is_refused() {
        let unknown = check(&TASK_ASSIGNED, "{{ task.titel }}", "x").unwrap_err();
        assert_eq!(unknown.0, "title", "{unknown:?}");
        let syntax = check(&WELCOME, "Hi", "{% if %}").unwrap_err();
        assert_eq!(syntax.0, "body", "{syntax:?}");
        assert!(check(&WELCOME, "", "x").is_err());
        assert!(check(&WELCOME, "Hi {{ employee.name }}", "Welcome").is_ok());
    }
}
