//! `GET /tags` (every tag of the tenant's integrations with its integration
//! count) and `POST /tags/{tag}/rename` (one tag renamed everywhere at once).

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use waygate_core::model::tag_problem;
use waygate_store::TagCount;

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use super::page::{Page, PageParams};
use crate::app::AppState;

/// A tag and how many of the tenant's integrations carry it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagView {
    /// The tag.
    pub tag: String,
    /// How many integrations carry it.
    pub integration_count: u64,
}

impl From<TagCount> for TagView {
    fn from(c: TagCount) -> Self {
        Self {
            tag: c.tag,
            integration_count: c.integrations,
        }
    }
}

/// Body of `POST /tags/{tag}/rename`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameTag {
    /// The new name: 1 to 64 characters, no control characters or surrounding
    /// whitespace. When some integrations have it already, the two merge.
    #[schema(min_length = 1, max_length = 64)]
    pub to: String,
}

/// Answer of a rename.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenamedTag {
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
    /// The slugs of the integrations renamed, by slug.
    pub integrations: Vec<String>,
}

/// Every tag of the tenant's integrations with its integration count, by tag.
#[utoipa::path(
    get,
    operation_id = "listTags", path = "/tags", tag = "integrations",
    params(PageParams),
    responses((status = 200, body = Page<TagView>), (status = 400, body = super::ErrorBody),
        (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Query(q): Query<PageParams>,
) -> ApiResult<Json<Page<TagView>>> {
    // The cursor is the last tag answered: the next page starts after it,
    // even when that tag is gone meanwhile.
    let after = q
        .cursor
        .as_deref()
        .map(|cursor| {
            URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "cursor: not a cursor of this list: start again without it",
                    )
                })
        })
        .transpose()?;
    let tags = app
        .store
        .tag_counts(&tenant)
        .await
        .map_err(|e| store_error("listing tags", &e))?;
    let total = tags.len() as u64;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
    let mut rest: Vec<TagCount> = tags
        .into_iter()
        .filter(|c| after.as_deref().is_none_or(|a| c.tag.as_str() > a))
        .collect();
    let has_more = rest.len() > limit;
    rest.truncate(limit);
    let cursor = has_more
        .then(|| rest.last().map(|c| URL_SAFE_NO_PAD.encode(&c.tag)))
        .flatten();
    let data = rest.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(data, cursor, Some(total))))
}

/// Rename a tag on every integration of the tenant, in one transaction.
#[utoipa::path(
    post,
    operation_id = "renameTag", path = "/tags/{tag}/rename", tag = "integrations",
    params(("tag" = String, Path, description = "The tag to rename")),
    request_body = RenameTag,
    responses((status = 200, body = RenamedTag), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn rename(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(from): Path<String>,
    Json(body): Json<RenameTag>,
) -> ApiResult<Json<RenamedTag>> {
    if let Some(problem) = tag_problem(&body.to) {
        return Err(ApiError::bad_request(format!("to: {problem}")));
    }
    let renamed = app.writes().rename_tag(&tenant, &from, &body.to).await;
    let integrations = renamed.map_err(|e| match e.kind() {
        waygate_store::ErrorKind::Conflict => ApiError::conflict(format!("{e}: try again")),
        _ => store_error("renaming the tag", &e),
    })?;
    if integrations.is_empty() {
        return Err(ApiError::not_found(format!("tag '{from}'")));
    }
    Ok(Json(RenamedTag {
        from,
        to: body.to,
        integrations,
    }))
}
