use axum::extract::State;
use axum::http::StatusCode;
use roster_http::{ApiResult, Caller, Json, Page, PageParams, Path, Problem, Query};
use roster_service::ServiceContext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{LABEL_MAX, Name, TagUid};
use crate::store::entities::nfc_tag;
use crate::store::nfc_tags::{self, NewTag};

/// An NFC tag of the company's registry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NfcTag {
    pub id: Uuid,
    pub company_id: Uuid,
    /// Upper-case hex without separators.
    pub uid: String,
    pub label: String,
    /// The location the tag is fixed at.
    pub location_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<nfc_tag::Model> for NfcTag {
    fn from(t: nfc_tag::Model) -> Self {
        Self {
            id: t.id,
            company_id: t.company_id,
            uid: t.uid,
            label: t.label,
            location_id: t.location_id,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTag {
    /// 2 to 32 bytes in hex; `:`, `-` and spaces between them are ignored.
    pub uid: String,
    /// 1 to 100 characters.
    pub label: String,
    /// One of the company's locations (org's).
    pub location_id: Option<Uuid>,
}

/// Registers a tag.
#[utoipa::path(post, path = "/api/v1/presence/nfc-tags", tag = "presence", security(("bearer" = [])),
    request_body = CreateTag,
    responses((status = 201, body = NfcTag), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "A tag with this UID is registered already"),
        (status = 422, body = Problem, description = "An invalid UID or label, or an unknown location")))]
pub(super) async fn create_tag(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Json(body): Json<CreateTag>,
) -> ApiResult<(StatusCode, Json<NfcTag>)> {
    let new = NewTag {
        uid: TagUid::parse("uid", &body.uid)?,
        label: Name::parse("label", &body.label, LABEL_MAX)?.into_inner(),
        location_id: body.location_id,
    };
    let tag = nfc_tags::create(&ctx.db, &caller.tenant(), new, ctx.config.quotas.nfc_tags).await?;
    Ok((StatusCode::CREATED, Json(tag.into())))
}

/// The company's tags, in the order they were registered.
#[utoipa::path(get, path = "/api/v1/presence/nfc-tags", tag = "presence", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<NfcTag>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub(super) async fn list_tags(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<NfcTag>>> {
    let cursor = page.parse()?;
    let rows = nfc_tags::list(&ctx.db, &caller.tenant(), &cursor).await?;
    Ok(Json(
        Page::from_rows(rows, &cursor, |t| t.id).map(NfcTag::from),
    ))
}

/// Takes a tag out of the registry; it no longer checks anyone in.
#[utoipa::path(delete, path = "/api/v1/presence/nfc-tags/{id}", tag = "presence", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub(super) async fn delete_tag(
    State(ctx): State<ServiceContext>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    nfc_tags::delete(&ctx.db, &caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
