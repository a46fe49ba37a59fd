//! Fault injection for the tests that kill a process or fail a step at a chosen point.
//!
//! Compiled in only with the `faults` feature, which only the test suites enable; in
//! any other build [`inject`] does nothing. With the feature, `ROSTER_FAULTS` lists
//! points and what happens there: `people.saga.account_created=abort,people.saga.employee=error`.
//! The points are listed in ARCHITECTURE.md, beside the saga they interrupt.

/// Runs the fault configured at `point`: `abort` ends the process at once (as a kill
/// would), `error` fails the step, `stall:<ms>` holds it up that long (as a slow
/// network or an overloaded machine would).
#[cfg(feature = "faults")]
pub async fn inject(point: &str) -> anyhow::Result<()> {
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
        Some(action) => {
            if let Some(ms) = action.strip_prefix("stall:").and_then(|ms| ms.parse().ok()) {
                tracing::warn!(point, ms, "fault injected: stalling");
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            Ok(())
        }
        None => Ok(()),
    }
}

/// Does nothing: this build has no fault injection.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub async fn inject(_point: &str) -> anyhow::Result<()> {
    Ok(())
}
