//! Login throttling: failed attempts counted per email and per client address in a
//! fixed window; past the limit, 429 with `Retry-After` until the window ends.
//!
//! Counts live in the auth process's memory: a restart forgets them, and several auth
//! processes count apart.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roster_config::AuthConfig;

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    per_email: u32,
    per_address: u32,
    emails: Mutex<HashMap<String, Window>>,
    addresses: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Throttle {
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            window: Duration::from_secs(config.login_window_secs),
            per_email: config.login_attempts_per_email,
            per_address: config.login_attempts_per_address,
            emails: Mutex::default(),
            addresses: Mutex::default(),
        }
    }

    /// `Err(seconds to wait)` when the email or the address has failed too often.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let email_wait = wait(&self.emails, email, self.per_email, self.window, now);
        let address_wait =
            address.and_then(|a| wait(&self.addresses, &a, self.per_address, self.window, now));
        match email_wait.max(address_wait) {
            Some(wait) => Err(wait.as_secs().max(1)),
            None => Ok(()),
        }
    }

    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        count(&self.emails, email.to_owned(), self.window, now);
        if let Some(address) = address {
            count(&self.addresses, address, self.window, now);
        }
    }

    /// A successful login clears the email's failures.
    pub fn succeeded(&self, email: &str) {
        self.emails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(email);
    }
}

fn wait<K: std::hash::Hash + Eq + ?Sized, Q: std::hash::Hash + Eq + std::borrow::Borrow<K>>(
    map: &Mutex<HashMap<Q, Window>>,
    key: &K,
    limit: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    let entry = map.get(key)?;
    let ends = entry.started + window;
    (entry.failures >= limit && ends > now).then(|| ends - now)
}

fn count<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Window>>,
    key: K,
    window: Duration,
    now: Instant,
) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= SWEEP_AT {
        map.retain(|_, w| w.started + window > now);
    }
    let entry = map.entry(key).or_insert(Window {
        started: now,
        failures: 0,
    });
    if entry.started + window <= now {
        *entry = Window {
            started: now,
            failures: 0,
        };
    }
    entry.failures += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_limit_are_throttled_per_email_and_address() {
        let config = AuthConfig {
            login_attempts_per_email: 2,
            login_attempts_per_address: 3,
            ..AuthConfig::default()
        };
        let throttle = Throttle::new(&config);
        let address = Some(IpAddr::from([10, 0, 0, 1]));
        throttle.failed("a@x.io", address);
        assert!(throttle.check("a@x.io", address).is_ok());
        throttle.failed("a@x.io", address);
        let wait = throttle.check("a@x.io", address).unwrap_err();
        assert!(wait > 0 && wait <= config.login_window_secs);
        // Another email from the same address: the address's limit is next.
        assert!(throttle.check("b@x.io", address).is_ok());
        throttle.failed("b@x.io", address);
        assert!(throttle.check("c@x.io", address).is_err());
        assert!(throttle.check("c@x.io", None).is_ok());
        throttle.succeeded("a@x.io");
        assert!(throttle.check("a@x.io", None).is_ok());
    }
}
