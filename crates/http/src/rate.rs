//! Requests per company (`quotas.requests_per_minute`, and `quotas.writes_per_minute`
//! for those that change something): a bucket per company and kind that holds
//! [`BURST`] of its rate and refills evenly, so one company's flood never takes the
//! shared process from the others. Counted in each process's memory.
//!
//! Past its bucket, a request waits its turn, at most [`MOST_WAIT`], rather than being
//! refused: a client that sends as fast as it is answered is slowed to the rate
//! instead of being answered refusals as fast as it can ask (which would cost the
//! process nearly as much as serving it). Only past that wait is it refused, 429 with
//! `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How much of its rate a company may spend at once, after being quiet.
pub const BURST: Duration = Duration::from_secs(10);

/// The longest a request waits its turn before it is refused.
pub const MOST_WAIT: Duration = Duration::from_secs(1);

/// Each kind's buckets are split into shards by company, so that companies' requests
/// rarely wait on each other's lock.
const SHARDS: usize = 16;

/// Buckets a shard keeps before the full ones (companies quiet for [`BURST`]) are
/// swept.
const SWEEP_AT: usize = 1_000;

/// A request past its company's quota, which may come back after `retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverRate {
    /// The quota it is past: `requests_per_minute` or `writes_per_minute`.
    pub quota: &'static str,
    pub retry_after_secs: u64,
}

#[derive(Debug)]
pub struct CompanyRate {
    requests: Buckets,
    writes: Buckets,
}

impl CompanyRate {
    /// `requests_per_minute` requests per company, of which `writes_per_minute` may
    /// change something; 0 sets no limit.
    pub fn new(requests_per_minute: u64, writes_per_minute: u64) -> Self {
        Self {
            requests: Buckets::new("requests_per_minute", requests_per_minute),
            writes: Buckets::new("writes_per_minute", writes_per_minute),
        }
    }

    /// Takes one request of `company_id`'s (a `write` takes from both buckets): how
    /// long it waits its turn, or that it is refused.
    pub fn take(&self, company_id: Uuid, write: bool) -> Result<Duration, OverRate> {
        self.take_at(company_id, write, Instant::now())
    }

    fn take_at(&self, company_id: Uuid, write: bool, now: Instant) -> Result<Duration, OverRate> {
        let for_write = if write {
            self.writes.take(company_id, now)?
        } else {
            Duration::ZERO
        };
        match self.requests.take(company_id, now) {
            Ok(wait) => Ok(wait.max(for_write)),
            Err(over) => {
                if write {
                    self.writes.give_back(company_id);
                }
                Err(over)
            }
        }
    }
}

/// One kind's buckets.
#[derive(Debug)]
struct Buckets {
    quota: &'static str,
    /// Tokens a second; 0 sets no limit.
    per_second: f64,
    shards: [Mutex<HashMap<Uuid, Bucket>>; SHARDS],
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Below zero: requests waiting their turn.
    tokens: f64,
    at: Instant,
}

impl Buckets {
    fn new(quota: &'static str, per_minute: u64) -> Self {
        Self {
            quota,
            per_second: per_minute as f64 / 60.0,
            shards: Default::default(),
        }
    }

    fn capacity(&self) -> f64 {
        (self.per_second * BURST.as_secs_f64()).max(1.0)
    }

    fn shard(&self, company_id: Uuid) -> &Mutex<HashMap<Uuid, Bucket>> {
        let low = company_id.as_u128() as usize;
        &self.shards[low % SHARDS]
    }

    fn take(&self, company_id: Uuid, now: Instant) -> Result<Duration, OverRate> {
        if self.per_second == 0.0 {
            return Ok(Duration::ZERO);
        }
        let (capacity, per_second) = (self.capacity(), self.per_second);
        let refilled = |bucket: &Bucket| {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            (bucket.tokens + elapsed * per_second).min(capacity)
        };
        let mut buckets = self
            .shard(company_id)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, bucket| refilled(bucket) < capacity);
        }
        let bucket = buckets.entry(company_id).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let left = refilled(bucket) - 1.0;
        // Below zero, the tokens owed: the wait until they have come back.
        let wait = (-left).max(0.0) / per_second;
        if wait > MOST_WAIT.as_secs_f64() {
            *bucket = Bucket {
                tokens: left + 1.0,
                at: now,
            };
            return Err(OverRate {
                quota: self.quota,
                retry_after_secs: (wait - MOST_WAIT.as_secs_f64()).ceil().max(1.0) as u64,
            });
        }
        *bucket = Bucket {
            tokens: left,
            at: now,
        };
        Ok(Duration::from_secs_f64(wait))
    }

    /// Returns a token taken for a request refused by the other bucket.
    fn give_back(&self, company_id: Uuid) {
        let mut buckets = self
            .shard(company_id)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = buckets.get_mut(&company_id) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.capacity());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: bool = false;
    const WRITE: bool = true;

    #[test]
    fn a_company_past_its_burst_waits_its_turn_then_is_refused_while_the_others_go_on() {
        // 60 a second: a burst of 600, then up to 60 more waiting their turn.
        let rate = CompanyRate::new(3_600, 0);
        let (busy, quiet) = (Uuid::now_v7(), Uuid::now_v7());
        let start = Instant::now();
        for _ in 0..600 {
            assert_eq!(rate.take_at(busy, READ, start), Ok(Duration::ZERO));
        }
        let mut waits = Vec::new();
        while let Ok(wait) = rate.take_at(busy, READ, start) {
            waits.push(wait);
        }
        assert_eq!(waits.len(), 60);
        assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
        assert_eq!(waits.last(), Some(&Duration::from_secs(1)));
        assert_eq!(
            rate.take_at(busy, READ, start),
            Err(OverRate {
                quota: "requests_per_minute",
                retry_after_secs: 1
            })
        );
        assert_eq!(rate.take_at(quiet, READ, start), Ok(Duration::ZERO));
        // A second later, a second's worth has come back: the next one waits its
        // turn again rather than being refused.
        let later = start + Duration::from_secs(1);
        assert_eq!(
            rate.take_at(busy, READ, later),
            Ok(Duration::from_secs_f64(1.0 / 60.0))
        );
        assert!(CompanyRate::new(0, 0).take_at(busy, WRITE, start).is_ok());
    }

    #[test]
    fn writes_have_their_own_quota_and_a_refused_one_costs_no_read() {
        // 6 writes a second (a burst of 60), 600 requests.
        let rate = CompanyRate::new(36_000, 360);
        let company = Uuid::now_v7();
        let start = Instant::now();
        let admitted = (0..200)
            .filter(|_| rate.take_at(company, WRITE, start).is_ok())
            .count();
        assert_eq!(admitted, 60 + 6);
        assert_eq!(
            rate.take_at(company, WRITE, start).unwrap_err().quota,
            "writes_per_minute"
        );
        // Reads go on: only the admitted writes took from the requests' bucket.
        let reads = (0..10_000)
            .take_while(|_| rate.take_at(company, READ, start) == Ok(Duration::ZERO))
            .count();
        assert_eq!(reads, 6_000 - admitted);
    }

    #[test]
    fn a_write_refused_by_the_requests_bucket_gives_its_write_token_back() {
        // One request a second (a burst of 10); one write in ten seconds.
        let rate = CompanyRate::new(60, 6);
        let company = Uuid::now_v7();
        let start = Instant::now();
        // Ten reads empty the requests' bucket, one more waits a second.
        for _ in 0..11 {
            assert!(rate.take_at(company, READ, start).is_ok());
        }
        // Each write is refused for the requests: had the first kept its write
        // token, the next would be refused for the writes.
        for _ in 0..5 {
            assert_eq!(
                rate.take_at(company, WRITE, start).unwrap_err().quota,
                "requests_per_minute"
            );
        }
    }
}
