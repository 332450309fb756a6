//! `GET /actions`: the tenant's actions across integrations, through the
//! store's search index, filtered and paged.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use waygate_store::{ActionQuery, ActionSummary};

use super::auth::Tenant;
use super::error::{ApiResult, store_error};
use super::page::Page;
use crate::app::AppState;

/// Query of `GET /actions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchActions {
    /// Words to find in the action's slug, name, description, group or path,
    /// or its integration's slug (all of them; the last also as a prefix).
    /// Matches in the slug or name rank first. Every action when unset.
    pub q: Option<String>,
    /// Only actions of this integration (its slug).
    pub integration: Option<String>,
    /// Only actions of integrations with this tag.
    pub tag: Option<String>,
    /// Entries per page (1–500; default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `pagination.cursor` of the previous page (opaque).
    pub cursor: Option<String>,
}

/// One action found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionHit {
    /// `integration.action`, as `POST /actions/{integration}/{action}` takes it.
    pub id: String,
    /// The integration's slug.
    pub integration: String,
    /// The action's slug.
    pub slug: String,
    /// Display name.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Its group.
    pub group: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
}

impl From<ActionSummary> for ActionHit {
    fn from(a: ActionSummary) -> Self {
        Self {
            id: format!("{}.{}", a.integration, a.slug),
            integration: a.integration,
            slug: a.slug,
            name: a.name,
            description: a.description,
            group: a.group,
            method: a.method,
            path: a.path,
        }
    }
}

/// Search the tenant's actions across its integrations.
#[utoipa::path(
    get,
    operation_id = "searchActions", path = "/actions", tag = "integrations",
    params(SearchActions),
    responses((status = 200, body = Page<ActionHit>), (status = 400, body = super::ErrorBody)))]
pub async fn search(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Query(q): Query<SearchActions>,
) -> ApiResult<Json<Page<ActionHit>>> {
    let mut query = ActionQuery::new();
    query.text = q.q;
    query.integration = q.integration;
    query.tag = q.tag;
    query.limit = q.limit;
    query.cursor = q.cursor;
    let page = app
        .store
        .action_page(&tenant, &query)
        .await
        .map_err(|e| store_error("searching actions", &e))?;
    let data = page.entries.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(data, page.next_cursor, Some(page.total))))
}
