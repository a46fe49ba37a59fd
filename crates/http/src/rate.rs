//! Requests per company (`quotas.requests_per_minute`): a bucket per company that
//! holds a minute's requests and refills evenly, so one company's burst never takes
//! the shared process from the others. Counted in each process's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use uuid::Uuid;

/// Buckets kept before the full ones (companies quiet for a minute) are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct CompanyRate {
    per_minute: u64,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl CompanyRate {
    /// `per_minute` requests per company; 0 sets no limit.
    pub fn new(per_minute: u64) -> Self {
        Self {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Takes one request of `company_id`'s: `Err(seconds to wait)` when its bucket
    /// is empty.
    pub fn take(&self, company_id: Uuid) -> Result<(), u64> {
        self.take_at(company_id, Instant::now())
    }

    fn take_at(&self, company_id: Uuid, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = self.per_minute as f64;
        let per_second = capacity / 60.0;
        let refilled = |bucket: &Bucket| {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            (bucket.tokens + elapsed * per_second).min(capacity)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, bucket| refilled(bucket) < capacity);
        }
        let bucket = buckets.entry(company_id).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let tokens = refilled(bucket);
        *bucket = Bucket { tokens, at: now };
        if tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(((1.0 - tokens) / per_second).ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_company_past_its_minute_waits_while_the_others_go_on() {
        let rate = CompanyRate::new(60);
        let (busy, quiet) = (Uuid::now_v7(), Uuid::now_v7());
        let start = Instant::now();
        for _ in 0..60 {
            assert_eq!(rate.take_at(busy, start), Ok(()));
        }
        assert_eq!(rate.take_at(busy, start), Err(1));
        assert_eq!(rate.take_at(quiet, start), Ok(()));
        // One a second comes back.
        let later = start + Duration::from_secs(1);
        assert_eq!(rate.take_at(busy, later), Ok(()));
        assert_eq!(rate.take_at(busy, later), Err(1));
        assert!(CompanyRate::new(0).take_at(busy, start).is_ok());
    }
}
