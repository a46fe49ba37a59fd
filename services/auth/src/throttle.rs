//! Login throttling. Failures are counted per (account, client) pair and per client,
//! where a client is an IPv4 address or an IPv6 /64 (the addresses one host may
//! pick from). Past its allowance, each further failure doubles the wait before the
//! next attempt (1 s, 2 s, 4 s, ... up to `auth.login_backoff_max_secs`); a
//! success clears the pair; counts are forgotten after `auth.login_window_secs`
//! without a failure. Nothing is counted per account alone: an attacker elsewhere
//! never locks the real user out, and the right password from an address that has
//! not failed always gets in.
//!
//! Counts live in the auth process's memory: a restart forgets them, and several auth
//! processes count apart.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roster_config::AuthConfig;

/// Entries kept before forgotten ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct Throttle {
    pairs: Counter<(String, Option<IpAddr>)>,
    clients: Counter<IpAddr>,
    signups: Counter<IpAddr>,
}

/// Failures per key, each past the allowance doubling the wait.
#[derive(Debug)]
struct Counter<K> {
    allowed: u32,
    longest: Duration,
    forget: Duration,
    map: Mutex<HashMap<K, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The client a login comes from: its address, or for IPv6 its /64.
fn client(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

impl Throttle {
    pub fn new(config: &AuthConfig) -> Self {
        let longest = Duration::from_secs(config.login_backoff_max_secs);
        let forget = Duration::from_secs(config.login_window_secs);
        Self {
            pairs: Counter::new(config.login_attempts_per_account_address, longest, forget),
            clients: Counter::new(config.login_attempts_per_address, longest, forget),
            signups: Counter::new(config.signups_per_address, longest, forget),
        }
    }

    /// Counts a signup from `address`: `Err(seconds to wait)` when the client signed
    /// up too many companies lately (then it is not counted).
    pub fn signup(&self, address: Option<IpAddr>) -> Result<(), u64> {
        self.signup_at(address, Instant::now())
    }

    fn signup_at(&self, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let Some(address) = address.map(client) else {
            return Ok(());
        };
        if let Some(wait) = self.signups.wait(&address, now) {
            return Err(wait.as_secs_f64().ceil() as u64);
        }
        self.signups.count(address, now);
        Ok(())
    }

    /// `Err(seconds to wait)` when this email has failed too often from this client,
    /// or this client too often for any email.
    pub fn check(&self, email: &str, address: Option<IpAddr>) -> Result<(), u64> {
        self.check_at(email, address, Instant::now())
    }

    fn check_at(&self, email: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let address = address.map(client);
        let pair = self.pairs.wait(&(email.to_owned(), address), now);
        let alone = address.and_then(|a| self.clients.wait(&a, now));
        match pair.max(alone) {
            Some(wait) => Err(wait.as_secs_f64().ceil() as u64),
            None => Ok(()),
        }
    }

    pub fn failed(&self, email: &str, address: Option<IpAddr>) {
        self.failed_at(email, address, Instant::now());
    }

    fn failed_at(&self, email: &str, address: Option<IpAddr>, now: Instant) {
        let address = address.map(client);
        self.pairs.count((email.to_owned(), address), now);
        if let Some(address) = address {
            self.clients.count(address, now);
        }
    }

    /// A successful login clears the failures of its email from its client.
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        self.pairs
            .lock()
            .remove(&(email.to_owned(), address.map(client)));
    }
}

impl<K: Hash + Eq> Counter<K> {
    fn new(allowed: u32, longest: Duration, forget: Duration) -> Self {
        Self {
            allowed,
            longest,
            forget,
            map: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The wait after `count` failures: none within the allowance, then 1 s doubling
    /// with each failure, up to the longest.
    fn backoff(&self, count: u32) -> Duration {
        match count.checked_sub(self.allowed) {
            None => Duration::ZERO,
            Some(past) => Duration::from_secs(1u64 << past.min(32)).min(self.longest),
        }
    }

    /// How long `key` must wait, if it must.
    fn wait<Q: Hash + Eq + ?Sized>(&self, key: &Q, now: Instant) -> Option<Duration>
    where
        K: Borrow<Q>,
    {
        let map = self.lock();
        let failures = map.get(key)?;
        let until = failures.last + self.backoff(failures.count);
        (failures.count >= self.allowed && until > now).then(|| until - now)
    }

    fn count(&self, key: K, now: Instant) {
        let forget = self.forget;
        let mut map = self.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, f| f.last + forget > now);
        }
        let failures = map.entry(key).or_insert(Failures {
            count: 0,
            last: now,
        });
        if failures.last + forget <= now {
            failures.count = 0;
        }
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(&AuthConfig {
            login_attempts_per_account_address: 2,
            login_attempts_per_address: 5,
            login_backoff_max_secs: 8,
            login_window_secs: 60,
            ..AuthConfig::default()
        })
    }

    fn at(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_pair_past_its_allowance_waits_twice_as_long_each_time() {
        let throttle = throttle();
        let start = Instant::now();
        let attacker = at("203.0.113.7");
        for _ in 0..2 {
            assert_eq!(throttle.check_at("a@x.io", attacker, start), Ok(()));
            throttle.failed_at("a@x.io", attacker, start);
        }
        assert_eq!(throttle.check_at("a@x.io", attacker, start), Err(1));
        // Another account from the attacker's address is within its allowance.
        assert_eq!(throttle.check_at("b@x.io", attacker, start), Ok(()));
        let later = start + Duration::from_secs(1);
        assert_eq!(throttle.check_at("a@x.io", attacker, later), Ok(()));
        throttle.failed_at("a@x.io", attacker, later);
        assert_eq!(throttle.check_at("a@x.io", attacker, later), Err(2));
        // Up to the longest wait, however many failures.
        for _ in 0..10 {
            throttle.failed_at("a@x.io", attacker, later);
        }
        assert_eq!(throttle.check_at("a@x.io", attacker, later), Err(8));
        // The real user from an address that has not failed is never throttled.
        assert_eq!(
            throttle.check_at("a@x.io", at("198.51.100.9"), later),
            Ok(())
        );
        // Quiet for the window: forgotten.
        let quiet = later + Duration::from_secs(61);
        throttle.failed_at("a@x.io", attacker, quiet);
        assert_eq!(throttle.check_at("a@x.io", attacker, quiet), Ok(()));
    }

    #[test]
    fn a_success_clears_its_pair_and_a_client_failing_everywhere_waits() {
        let throttle = throttle();
        let now = Instant::now();
        let address = at("10.0.0.1");
        throttle.failed_at("a@x.io", address, now);
        throttle.failed_at("a@x.io", address, now);
        throttle.succeeded("a@x.io", address);
        assert_eq!(throttle.check_at("a@x.io", address, now), Ok(()));
        // Spraying: one failure each for many accounts.
        for n in 0..3 {
            throttle.failed_at(&format!("{n}@x.io"), address, now);
        }
        assert_eq!(throttle.check_at("z@x.io", address, now), Err(1));
        assert_eq!(throttle.check_at("z@x.io", None, now), Ok(()));
    }

    #[test]
    fn a_client_signing_up_company_after_company_waits() {
        let throttle = Throttle::new(&AuthConfig {
            signups_per_address: 2,
            ..AuthConfig::default()
        });
        let now = Instant::now();
        let address = at("203.0.113.9");
        assert_eq!(throttle.signup_at(address, now), Ok(()));
        assert_eq!(throttle.signup_at(address, now), Ok(()));
        assert_eq!(throttle.signup_at(address, now), Err(1));
        assert_eq!(throttle.signup_at(at("203.0.113.10"), now), Ok(()));
        let later = now + Duration::from_secs(1);
        assert_eq!(throttle.signup_at(address, later), Ok(()));
        assert_eq!(throttle.signup_at(address, later), Err(2));
    }

    #[test]
    fn an_ipv6_host_counts_as_its_slash_64() {
        let throttle = throttle();
        let now = Instant::now();
        throttle.failed_at("a@x.io", at("2001:db8::1"), now);
        throttle.failed_at("a@x.io", at("2001:db8::2:3"), now);
        assert!(
            throttle
                .check_at("a@x.io", at("2001:db8::ffff"), now)
                .is_err()
        );
        assert_eq!(
            throttle.check_at("a@x.io", at("2001:db8:0:1::1"), now),
            Ok(())
        );
        // An IPv4 address written as IPv6 is that IPv4 address.
        throttle.failed_at("b@x.io", at("192.0.2.1"), now);
        throttle.failed_at("b@x.io", at("::ffff:192.0.2.1"), now);
        assert!(throttle.check_at("b@x.io", at("192.0.2.1"), now).is_err());
    }
}
