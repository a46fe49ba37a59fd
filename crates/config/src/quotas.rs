//! `[quotas]`: what one company may hold and ask of the shared process. Anyone can
//! sign a company up, so no company's records or requests are unbounded.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotasConfig {
    /// Active employees per company.
    pub employees: u64,
    pub teams: u64,
    pub locations: u64,
    /// NFC tags registered per company.
    pub nfc_tags: u64,
    pub leave_types: u64,
    pub webhooks: u64,
    /// Requests per minute per company in each process: a bucket that holds ten
    /// seconds of them and refills evenly; past it a request waits its turn, up to a
    /// second, then 429 with `Retry-After`. 0 sets no limit.
    pub requests_per_minute: u64,
    /// Of those, the requests that change something (every method but GET and
    /// HEAD), in a bucket of their own alike: what a write sets off (events,
    /// notifications, webhook posts) costs the shared process many times a read.
    pub writes_per_minute: u64,
}

impl Default for QuotasConfig {
    fn default() -> Self {
        Self {
            employees: 10_000,
            teams: 1_000,
            locations: 500,
            nfc_tags: 10_000,
            leave_types: 100,
            webhooks: 20,
            requests_per_minute: 60_000,
            writes_per_minute: 6_000,
        }
    }
}
