use std::collections::BTreeMap;

use axum::extract::State;
use roster_http::{ApiError, ApiResult, Caller, Json};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::render;
use crate::store::preferences::{self, Channels, EVERY_KIND};

/// Whether each channel is on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct KindChannels {
    pub in_app_enabled: bool,
    pub email_enabled: bool,
}

impl From<Channels> for KindChannels {
    fn from(on: Channels) -> Self {
        Self {
            in_app_enabled: on.in_app,
            email_enabled: on.email,
        }
    }
}

/// The caller's channels: for every kind at once, and kind by kind. A notification
/// of a kind comes by a channel when both are on.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Preferences {
    pub in_app_enabled: bool,
    pub email_enabled: bool,
    /// Every kind (`welcome`, `task.assigned`, `task.unassigned`,
    /// `leave.awaiting_approval`, `leave.decided`) with its own switches.
    pub kinds: BTreeMap<String, KindChannels>,
}

/// Switches to change; what is left out stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindChange {
    pub in_app_enabled: Option<bool>,
    pub email_enabled: Option<bool>,
}

/// Switches to change, for every kind and kind by kind; what is left out stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesChange {
    pub in_app_enabled: Option<bool>,
    pub email_enabled: Option<bool>,
    #[serde(default)]
    pub kinds: BTreeMap<String, KindChange>,
}

/// The caller's choices, with every kind listed (on unless turned off).
fn shown(chosen: &BTreeMap<String, Channels>) -> Preferences {
    let of = |kind: &str| chosen.get(kind).copied().unwrap_or_default();
    let every = of(EVERY_KIND);
    Preferences {
        in_app_enabled: every.in_app,
        email_enabled: every.email,
        kinds: render::ALL
            .iter()
            .map(|t| (t.kind.to_owned(), of(t.kind).into()))
            .collect(),
    }
}

/// The caller's notification preferences.
#[utoipa::path(get, path = "/api/v1/notifications/preferences", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, body = Preferences), (status = 401, body = roster_http::Problem)))]
pub(super) async fn get_preferences(
    State(ctx): State<ServiceContext>,
    caller: Caller,
) -> ApiResult<Json<Preferences>> {
    let chosen = preferences::of(&ctx.db, &caller.tenant(), caller.employee_id()).await?;
    Ok(Json(shown(&chosen)))
}

/// Changes the caller's notification preferences; answers them all.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", tag = "notifications",
    security(("bearer" = [])), request_body = PreferencesChange,
    responses((status = 200, body = Preferences), (status = 400, body = roster_http::Problem),
        (status = 401, body = roster_http::Problem),
        (status = 422, body = roster_http::Problem, description = "A kind that does not exist")))]
pub(super) async fn put_preferences(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(change): Json<PreferencesChange>,
) -> ApiResult<Json<Preferences>> {
    if let Some(kind) = change.kinds.keys().find(|k| render::kind(k).is_none()) {
        return Err(ApiError::invalid(
            &format!("kinds.{kind}"),
            "no such kind of notification",
        ));
    }
    let tenant = caller.tenant();
    let employee = caller.employee_id();
    let mut chosen = preferences::of(&ctx.db, &tenant, employee).await?;
    let mut changed = BTreeMap::new();
    let every = std::iter::once((
        EVERY_KIND.to_owned(),
        KindChange {
            in_app_enabled: change.in_app_enabled,
            email_enabled: change.email_enabled,
        },
    ));
    for (kind, switch) in every.chain(change.kinds) {
        if switch.in_app_enabled.is_none() && switch.email_enabled.is_none() {
            continue;
        }
        let now = chosen.get(&kind).copied().unwrap_or_default();
        let next = Channels {
            in_app: switch.in_app_enabled.unwrap_or(now.in_app),
            email: switch.email_enabled.unwrap_or(now.email),
        };
        chosen.insert(kind.clone(), next);
        changed.insert(kind, next);
    }
    preferences::put(&ctx.db, &tenant, employee, &changed).await?;
    Ok(Json(shown(&chosen)))
}
