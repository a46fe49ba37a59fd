//! What a company's wording may do, and the most it can write.
//!
//! A wording is text with values in it, not a program: it may show the values its
//! kind is given, pass them through a few filters, compare them and choose between
//! texts (`{% if %}`). It may not loop, assign, call functions or repeat text (`*`),
//! so the work of a render grows with the wording's length and nothing else, and
//! the longest text it can write is known before it is kept: every value given is
//! at most [`MAX_FIELD`] characters (longer ones are cut when the context is made),
//! so the bound below holds for any event, not only for the sample it is tried on.

use minijinja::Value;
use minijinja::machinery::{WhitespaceConfig, ast, parse};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;

/// The longest a value given to a wording may be, in characters.
pub const MAX_FIELD: usize = 200;

/// The most bytes a given text value can take (four per character).
const FIELD_BYTES: usize = MAX_FIELD * 4;
/// The most bytes a number, a boolean or none prints as.
const SCALAR_BYTES: usize = 40;

/// The filters a wording may use and how much longer each can make its input.
const FILTERS: &str = "upper, lower, title, capitalize, trim, string, escape, default, length";

/// How much a part of a wording can write: up to so many bytes, or a group of
/// values (a task, an employee, a list), which may be tested or counted but not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Text(usize),
    Group,
}

/// The most bytes `source` can render to when given values shaped as `sample`, or
/// why it may not be kept: a construct it may not use, a name its kind is not given.
pub fn measure(source: &str, sample: &Value) -> Result<usize, String> {
    let tree = parse(source, "wording", SyntaxConfig, WhitespaceConfig::default())
        .map_err(|e| e.detail().map_or_else(|| e.to_string(), str::to_owned))?;
    Measure { sample }.stmt(&tree)
}

struct Measure<'s> {
    sample: &'s Value,
}

/// A value a wording reads: a name its kind is given (and the sample's value of
/// it), or something computed of a known size.
enum Read {
    Given(String, Value),
    Computed(Size),
}

impl Measure<'_> {
    fn stmts(&self, stmts: &[ast::Stmt<'_>]) -> Result<usize, String> {
        stmts
            .iter()
            .try_fold(0usize, |total, s| Ok(total.saturating_add(self.stmt(s)?)))
    }

    fn stmt(&self, stmt: &ast::Stmt<'_>) -> Result<usize, String> {
        use ast::Stmt;
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitRaw(raw) => Ok(raw.raw.len()),
            Stmt::EmitExpr(emit) => self.text(&emit.expr),
            Stmt::IfCond(cond) => {
                self.expr(&cond.expr)?;
                Ok(self
                    .stmts(&cond.true_body)?
                    .max(self.stmts(&cond.false_body)?))
            }
            Stmt::ForLoop(_) => Err(not_available("a loop (for)")),
            Stmt::Set(_) | Stmt::SetBlock(_) => Err(not_available("an assignment (set)")),
            Stmt::WithBlock(_) => Err(not_available("a with block")),
            Stmt::AutoEscape(_) => Err(not_available("an autoescape block")),
            Stmt::FilterBlock(_) => Err(not_available("a filter block")),
            Stmt::Do(_) => Err(not_available("a do statement")),
        }
    }

    /// The size of `expr`, which must be text (something a wording can show).
    fn text(&self, expr: &ast::Expr<'_>) -> Result<usize, String> {
        match self.expr(expr)? {
            Size::Text(n) => Ok(n),
            Size::Group => Err(format!(
                "`{}` is a group of values: show one of them (such as `task.title`), or test or count it",
                describe(expr)
            )),
        }
    }

    fn expr(&self, expr: &ast::Expr<'_>) -> Result<Size, String> {
        use ast::{BinOpKind as Op, Expr, UnaryOpKind};
        Ok(match expr {
            Expr::Const(c) => match c.value.kind() {
                ValueKind::Seq | ValueKind::Map => Size::Group,
                _ => Size::Text(c.value.to_string().len()),
            },
            Expr::Var(_) | Expr::GetAttr(_) | Expr::GetItem(_) => match self.read(expr)? {
                Read::Given(name, value) => given(&name, &value)?,
                Read::Computed(size) => size,
            },
            Expr::Slice(slice) => {
                for bound in [&slice.start, &slice.stop, &slice.step]
                    .into_iter()
                    .flatten()
                {
                    self.text(bound)?;
                }
                self.expr(&slice.expr)?
            }
            Expr::UnaryOp(op) => {
                let inner = self.text(&op.expr)?;
                Size::Text(match op.op {
                    UnaryOpKind::Not => SCALAR_BYTES,
                    UnaryOpKind::Neg => inner.saturating_add(1),
                })
            }
            Expr::BinOp(op) => match op.op {
                Op::Mul | Op::Pow => {
                    return Err(not_available("`*` and `**` (a wording cannot repeat text)"));
                }
                Op::Concat | Op::Add => {
                    Size::Text(self.text(&op.left)?.saturating_add(self.text(&op.right)?))
                }
                Op::ScAnd | Op::ScOr => larger(self.expr(&op.left)?, self.expr(&op.right)?),
                Op::Sub | Op::Div | Op::FloorDiv | Op::Rem => {
                    self.text(&op.left)?;
                    self.text(&op.right)?;
                    Size::Text(SCALAR_BYTES)
                }
                Op::Eq | Op::Ne | Op::Lt | Op::Lte | Op::Gt | Op::Gte | Op::In => {
                    self.expr(&op.left)?;
                    self.expr(&op.right)?;
                    Size::Text(SCALAR_BYTES)
                }
            },
            Expr::Compare(compare) => {
                self.expr(&compare.expr)?;
                for op in &compare.ops {
                    self.expr(&op.expr)?;
                }
                Size::Text(SCALAR_BYTES)
            }
            Expr::IfExpr(choice) => {
                self.expr(&choice.test_expr)?;
                let otherwise = match &choice.false_expr {
                    Some(e) => self.expr(e)?,
                    None => Size::Text(0),
                };
                larger(self.expr(&choice.true_expr)?, otherwise)
            }
            Expr::Filter(filter) => self.filter(filter)?,
            Expr::Test(test) => {
                self.expr(&test.expr)?;
                self.args(&test.args)?;
                Size::Text(SCALAR_BYTES)
            }
            Expr::Call(_) => return Err(not_available("a function call")),
            Expr::List(list) => {
                for item in &list.items {
                    self.expr(item)?;
                }
                Size::Group
            }
            Expr::Map(map) => {
                for item in map.keys.iter().chain(&map.values) {
                    self.expr(item)?;
                }
                Size::Group
            }
        })
    }

    fn read(&self, expr: &ast::Expr<'_>) -> Result<Read, String> {
        use ast::Expr;
        Ok(match expr {
            Expr::Var(var) => Read::Given(
                var.id.to_owned(),
                self.sample.get_attr(var.id).unwrap_or_default(),
            ),
            Expr::GetAttr(attr) => match self.read(&attr.expr)? {
                Read::Given(name, parent) => Read::Given(
                    format!("{name}.{}", attr.name),
                    parent.get_attr(attr.name).unwrap_or_default(),
                ),
                computed => computed,
            },
            Expr::GetItem(item) => {
                let Expr::Const(key) = &item.subscript_expr else {
                    return Err(not_available(
                        "a lookup by a computed key (name the value, or its position)",
                    ));
                };
                match self.read(&item.expr)? {
                    Read::Given(name, parent) => Read::Given(
                        format!("{name}[{}]", key.value),
                        parent.get_item(&key.value).unwrap_or_default(),
                    ),
                    computed => computed,
                }
            }
            other => Read::Computed(self.expr(other)?),
        })
    }

    fn filter(&self, filter: &ast::Filter<'_>) -> Result<Size, String> {
        let input = match &filter.expr {
            Some(e) => self.expr(e)?,
            None => Size::Text(0),
        };
        let args = self.args(&filter.args)?;
        let text = |factor: usize| match input {
            Size::Text(n) => Ok(Size::Text(n.saturating_mul(factor))),
            Size::Group => Err(format!(
                "the filter `{}` takes a single value, not a group of them",
                filter.name
            )),
        };
        match filter.name {
            "length" | "count" => Ok(Size::Text(SCALAR_BYTES)),
            "trim" | "string" => text(1),
            // A character's upper or title case is at most three characters.
            "upper" | "lower" | "title" | "capitalize" => text(3),
            // The longest escape, `&quot;`, is six bytes for one.
            "escape" | "e" => text(6),
            "default" | "d" => Ok(args.into_iter().fold(input, larger)),
            other => Err(format!(
                "the filter `{other}` is not available in a notification's wording; these are: {FILTERS}"
            )),
        }
    }

    fn args(&self, args: &[ast::CallArg<'_>]) -> Result<Vec<Size>, String> {
        args.iter()
            .map(|arg| match arg {
                ast::CallArg::Pos(e) | ast::CallArg::Kwarg(_, e) => self.expr(e),
                ast::CallArg::PosSplat(_) | ast::CallArg::KwargSplat(_) => {
                    Err(not_available("unpacking arguments (*args, **kwargs)"))
                }
            })
            .collect()
    }
}

/// The size of the value a kind gives as `name` (`sample` is it on made-up data).
fn given(name: &str, sample: &Value) -> Result<Size, String> {
    match sample.kind() {
        ValueKind::Undefined => Err(format!(
            "`{name}` is not given to this kind of notification"
        )),
        ValueKind::String | ValueKind::Bytes => Ok(Size::Text(FIELD_BYTES)),
        ValueKind::None | ValueKind::Bool | ValueKind::Number => Ok(Size::Text(SCALAR_BYTES)),
        _ => Ok(Size::Group),
    }
}

fn larger(a: Size, b: Size) -> Size {
    match (a, b) {
        (Size::Text(a), Size::Text(b)) => Size::Text(a.max(b)),
        _ => Size::Group,
    }
}

fn not_available(what: &str) -> String {
    format!(
        "{what} is not available in a notification's wording: it shows the values its kind is given, filtered, and chooses between texts with {{% if %}}"
    )
}

/// How an expression reads in an error: a name's path, or what kind of thing it is.
fn describe(expr: &ast::Expr<'_>) -> String {
    use ast::Expr;
    match expr {
        Expr::Var(var) => var.id.to_owned(),
        Expr::GetAttr(attr) => format!("{}.{}", describe(&attr.expr), attr.name),
        other => other.description().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn sample() -> Value {
        context! {
            task => context! { title => "Plan", due_date => () },
            employee => context! { name => "Sam", team_ids => vec!["a", "b"] },
        }
    }

    #[test]
    fn a_wording_measures_its_text_and_the_longest_values_it_shows() {
        assert_eq!(measure("Hello", &sample()), Ok(5));
        assert_eq!(measure("{{ task.title }}!", &sample()), Ok(FIELD_BYTES + 1));
        assert_eq!(
            measure("{{ task.title|upper }}", &sample()),
            Ok(3 * FIELD_BYTES)
        );
        // Both branches of a choice are counted at the longer.
        assert_eq!(
            measure(
                "{% if task.title == 'boom' %}{{ task.title ~ employee.name }}{% else %}x{% endif %}",
                &sample()
            ),
            Ok(2 * FIELD_BYTES)
        );
        assert_eq!(
            measure("{{ employee.team_ids|length }} teams", &sample()),
            Ok(SCALAR_BYTES + 6)
        );
        assert_eq!(
            measure("{{ employee.team_ids[0] }}", &sample()),
            Ok(FIELD_BYTES)
        );
    }

    #[test]
    fn loops_assignments_calls_and_repetition_are_refused_by_name() {
        for (source, says) in [
            ("{% for i in employee.team_ids %}x{% endfor %}", "a loop"),
            ("{% set a = task.title %}{{ a }}", "an assignment"),
            ("{{ range(100000) }}", "a function call"),
            ("{{ 'x' * 100000000 }}", "`*`"),
            ("{{ 2 ** 100 }}", "`*`"),
            ("{{ task.title|replace('', task.title) }}", "`replace`"),
            ("{{ task.title|indent(100000) }}", "`indent`"),
            ("{{ task }}", "group of values"),
            ("{{ task.titel }}", "`task.titel` is not given"),
            ("{{ employee[task.title] }}", "computed key"),
            ("{% with a = 1 %}{% endwith %}", "with"),
        ] {
            let error = measure(source, &sample()).unwrap_err();
            assert!(error.contains(says), "{source}: {error}");
        }
    }
}
