//! Login throttling: failed attempts counted per email and per client address in a
//! fixed window; past the limit, 429 with `Retry-After` until the window ends.
//!
//! Counts live in the auth process's memory: a restart forgets them, and several auth
//! processes count apart.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roster_config::AuthConfig;

/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct Throttle {
    emails: Counter<String>,
    addresses: Counter<IpAddr>,
}

/// Failures per key in fixed windows, up to a limit.
#[derive(Debug)]
struct Counter<K> {
    window: Duration,
    limit: u32,
    map: Mutex<HashMap<K, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Throttle {
    pub fn new(config: &AuthConfig) -> Self {
        let window = Duration::from_secs(config.login_window_secs);
        Self {
            emails: Counter::new(window, config.login_attempts_per_email),
            addresses: Counter::new(window, config.login_attempts_per_address),
        }
    }

    /// `Err(seconds to wait)` when the email or the address has failed too often.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), u64> {
        let now = Instant::now();
        let email_wait = self.emails.wait(email, now);
        let address_wait = address.and_then(|a| self.addresses.wait(&a, now));
        match email_wait.max(address_wait) {
            Some(wait) => Err(wait.as_secs().max(1)),
            None => Ok(()),
        }
    }

    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        self.emails.count(email.to_owned(), now);
        if let Some(address) = address {
            self.addresses.count(address, now);
        }
    }

    /// A successful login clears the email's failures.
    pub fn succeeded(&self, email: &str) {
        self.emails.lock().remove(email);
    }
}

impl<K: Hash + Eq> Counter<K> {
    fn new(window: Duration, limit: u32) -> Self {
        Self {
            window,
            limit,
            map: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Window>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long `key` must wait, if it is over the limit.
    fn wait<Q: Hash + Eq + ?Sized>(&self, key: &Q, now: Instant) -> Option<Duration>
    where
        K: Borrow<Q>,
    {
        let map = self.lock();
        let entry = map.get(key)?;
        let ends = entry.started + self.window;
        (entry.failures >= self.limit && ends > now).then(|| ends - now)
    }

    fn count(&self, key: K, now: Instant) {
        let window = self.window;
        let mut map = self.lock();
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
