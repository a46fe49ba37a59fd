use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt as _};
use roster_http::{ApiResult, Caller, Stopping};
use roster_service::ServiceContext;
use roster_storage::{AppliedWatch, ServiceDb, Tenant};
use roster_tokens::Verifier;
use time::OffsetDateTime;
use uuid::Uuid;

use super::notifications::{Notification, UnreadCount};
use crate::store::entities::notification;
use crate::store::notifications;

/// How far back a stream looks again, in milliseconds of UUID v7 time: a notification
/// whose transaction committed after a later one's still shows.
const LOOKBACK_MS: u64 = 10_000;
/// The longest wait between two looks when nothing wakes the stream (a notification
/// written by another process).
const POLL: Duration = Duration::from_secs(2);
/// The shortest time between two looks when events keep arriving.
const GAP: Duration = Duration::from_millis(50);
/// Rows read at once.
const BATCH: u64 = 200;
/// How often a stream checks that its session still stands.
const SESSION_CHECK: Duration = Duration::from_secs(1);

/// The caller's notifications as they arrive, as server-sent events: first `unread`
/// (`{"unread": n}`), then each new notification as `notification` with its id, so a
/// client that reconnects with `Last-Event-ID` misses none. It ends when the server
/// stops (the client reconnects), and when the caller's session does: revoked
/// (logout, a change of role or email, deactivation) or its token expired, with a
/// last `end` event that says which (the client reconnects with a fresh token).
#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications",
    security(("bearer" = [])),
    params(("Last-Event-ID" = Option<Uuid>, Header, description = "The id of the last notification seen: the stream goes on after it")),
    responses((status = 200, content_type = "text/event-stream",
        description = "`unread`, then a `notification` event for each new notification, and `end` (`{\"reason\": \"revoked\"}` or `\"expired\"`) when the session ends"),
        (status = 401, body = roster_http::Problem)))]
pub(super) async fn stream(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    headers: HeaderMap,
    stopping: Option<Extension<Stopping>>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let tenant = caller.tenant();
    let employee = caller.employee_id();
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok());
    let floor = last_seen.unwrap_or_else(|| v7_floor(now_ms()));
    let unread = notifications::unread_count(&ctx.db, &tenant, employee).await?;
    let mut pending = VecDeque::new();
    pending.push_back(
        Event::default()
            .event("unread")
            .json_data(UnreadCount { unread })
            .unwrap_or_default(),
    );
    let ctx_verifier = ctx.verifier.clone();
    let watch = Watch {
        applied: ctx.db.watch_applied(GAP),
        db: ctx.db,
        tenant,
        employee,
        floor,
        newest_ms: ms_of(floor),
        seen: HashSet::new(),
        pending,
    };
    let stopped: BoxFuture<'static, ()> = match stopping {
        Some(Extension(stopping)) => Box::pin(stopping.wait()),
        None => Box::pin(std::future::pending()),
    };
    let ends: BoxFuture<'static, &'static str> = Box::pin(session_ends(
        ctx_verifier,
        caller.session_id(),
        caller.expires_at(),
    ));
    let events = futures::stream::unfold((watch, Some(ends)), |(mut watch, ends)| async move {
        let mut ends = ends?;
        tokio::select! {
            event = watch.next() => Some((Ok(event), (watch, Some(ends)))),
            why = &mut ends => {
                let end = Event::default()
                    .event("end")
                    .json_data(serde_json::json!({ "reason": why }))
                    .unwrap_or_default();
                Some((Ok(end), (watch, None)))
            }
        }
    })
    .take_until(stopped);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One stream's place.
struct Watch {
    db: ServiceDb,
    tenant: Tenant,
    employee: Uuid,
    applied: AppliedWatch,
    /// Nothing at or below it is shown: what the client saw before, or what was
    /// there when it connected.
    floor: Uuid,
    /// The time of the newest notification shown.
    newest_ms: u64,
    /// What was shown within the look-back.
    seen: HashSet<Uuid>,
    pending: VecDeque<Event>,
}

impl Watch {
    async fn next(&mut self) -> Event {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return event;
            }
            match self.look().await {
                Ok(0) => self.applied.wait(POLL).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "a notification stream cannot read");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Queues what arrived since the last look; answers how many.
    async fn look(&mut self) -> Result<usize, roster_storage::StoreError> {
        let mut after = self
            .floor
            .max(v7_floor(self.newest_ms.saturating_sub(LOOKBACK_MS)));
        let mut found = Vec::new();
        loop {
            let rows =
                notifications::after(&self.db, &self.tenant, self.employee, after, BATCH).await?;
            let full = rows.len() as u64 == BATCH;
            if let Some(last) = rows.last() {
                after = last.id;
            }
            found.extend(rows.into_iter().filter(|n| !self.seen.contains(&n.id)));
            if !full {
                break;
            }
        }
        let count = found.len();
        for row in found {
            self.show(row);
        }
        let oldest = self.newest_ms.saturating_sub(LOOKBACK_MS);
        self.seen.retain(|id| ms_of(*id) >= oldest);
        Ok(count)
    }

    fn show(&mut self, row: notification::Model) {
        self.seen.insert(row.id);
        self.newest_ms = self.newest_ms.max(ms_of(row.id));
        let id = row.id.to_string();
        if let Ok(event) = Event::default()
            .event("notification")
            .id(id)
            .json_data(Notification::from(row))
        {
            self.pending.push_back(event);
        }
    }
}

/// Resolves when session `session_id` ends: `revoked` as soon as this process's
/// verifier refuses it, or `expired` when its token, which expires at `expires_at`
/// (Unix seconds), does.
async fn session_ends(verifier: Verifier, session_id: Uuid, expires_at: i64) -> &'static str {
    loop {
        if verifier.is_revoked(session_id) {
            return "revoked";
        }
        let left = expires_at - OffsetDateTime::now_utc().unix_timestamp();
        let Ok(left @ 1..) = u64::try_from(left) else {
            return "expired";
        };
        tokio::time::sleep(SESSION_CHECK.min(Duration::from_secs(left))).await;
    }
}

fn now_ms() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The milliseconds since the epoch that a UUID v7 carries.
fn ms_of(id: Uuid) -> u64 {
    u64::try_from(id.as_u128() >> 80).unwrap_or(0)
}

/// The smallest UUID v7 of millisecond `ms`.
fn v7_floor(ms: u64) -> Uuid {
    Uuid::from_u128((u128::from(ms) << 80) | (0x7 << 76) | (0b10 << 62))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_floor_sorts_before_every_id_of_its_millisecond() {
        let id = Uuid::now_v7();
        let ms = ms_of(id);
        assert!(v7_floor(ms) <= id);
        assert!(v7_floor(ms + 1) > id);
        assert_eq!(ms_of(v7_floor(ms)), ms);
    }
}
