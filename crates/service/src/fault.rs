//! Fault injection for the tests that kill a process or fail a step at a chosen point.
//!
//! Compiled in only with the `faults` feature, which only the test suites enable; in
//! any other build [`inject`] does nothing. With the feature, `ROSTER_FAULTS` lists
//! points and what happens there: `people.saga.account_created=abort,people.saga.employee=error`.
//! The points are listed in ARCHITECTURE.md, beside the saga they interrupt.

/// Runs the fault configured at `point`: `abort` ends the process at once (as a kill
/// would), `error` fails the step.
#[cfg(feature = "faults")]
pub fn inject(point: &str) -> anyhow::Result<()> {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    static FAULTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    let faults = FAULTS.get_or_init(|| {
        std::env::var("ROSTER_FAULTS")
            .unwrap_or_default()
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(p, action)| (p.trim().to_owned(), action.trim().to_owned()))
            .collect()
    });
    match faults.get(point).map(String::as_str) {
        Some("abort") => {
            tracing::error!(point, "fault injected: aborting");
            std::process::abort()
        }
        Some("error") => anyhow::bail!("fault injected at {point}"),
        _ => Ok(()),
    }
}

/// Does nothing: this build has no fault injection.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub fn inject(_point: &str) -> anyhow::Result<()> {
    Ok(())
}
