//! Request logs (sanitized by the engine before they are stored) and the
//! per-action figures derived from them.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::ops::time::{parse_rfc3339, rfc3339};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use waygate_core::error::SuggestedResolution;
use waygate_store::{LogOutcome, LogQuery, LogRecord};

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use super::page::Page;
use crate::app::AppState;

/// The window of `GET /metrics` when `since` is absent.
const DEFAULT_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Query of `GET /logs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListLogs {
    /// Only this integration (slug).
    pub integration: Option<String>,
    /// Only this action (slug).
    pub action: Option<String>,
    /// `success`, `error`, or an upstream HTTP status such as `404`.
    pub status: Option<String>,
    /// Only invocations started at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Entries per page (1–1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `pagination.cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One logged invocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    /// The invocation's request id.
    pub request_id: String,
    /// Integration slug.
    pub integration: String,
    /// Integration display name, when it still exists.
    pub integration_name: Option<String>,
    /// Action slug.
    pub action: String,
    /// Action display name, when known.
    pub action_name: Option<String>,
    /// Connection name.
    pub connection: Option<String>,
    /// `success` or `error`.
    pub status: String,
    /// RFC 3339.
    pub started_at: String,
    /// Milliseconds.
    pub duration_ms: u64,
    /// Requests sent upstream.
    pub attempts: u32,
    /// The last upstream status.
    pub upstream_status: Option<u16>,
    /// The error code, on failure.
    pub error_code: Option<String>,
    /// On failure, what to do about it (from the code and upstream status).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub suggested_resolution: Option<SuggestedResolution>,
    /// The request sent, sanitized.
    #[schema(value_type = Option<Object>)]
    pub request: Option<Value>,
    /// The response or error, sanitized and truncated.
    pub response: Option<String>,
}

/// Query of `GET /metrics`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Start of the window, RFC 3339; the last 24 hours by default.
    pub since: Option<String>,
}

/// Figures of one action over the window.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionStatsView {
    /// Integration slug.
    pub integration: String,
    /// Action slug.
    pub action: String,
    /// Invocations.
    pub count: u64,
    /// Invocations that failed.
    pub errors: u64,
    /// `errors / count`.
    pub error_rate: f64,
    /// Median latency, milliseconds.
    pub p50_ms: u64,
    /// 95th percentile latency, milliseconds.
    pub p95_ms: u64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: u64,
}

/// Figures per action.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    /// Start of the window, RFC 3339.
    pub since: String,
    /// One entry per action invoked in the window.
    pub data: Vec<ActionStatsView>,
}

fn since(text: Option<&str>) -> ApiResult<Option<SystemTime>> {
    text.map(|t| parse_rfc3339("since", t).map_err(ApiError::bad_request))
        .transpose()
}

/// Request logs, newest first, with integration and action names.
#[utoipa::path(
    get,
    operation_id = "listLogs", path = "/logs", tag = "logs", params(ListLogs),
    responses((status = 200, body = Page<LogView>), (status = 400, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Query(q): Query<ListLogs>,
) -> ApiResult<Json<Page<LogView>>> {
    let mut query = LogQuery::new();
    query.integration = q.integration;
    query.action = q.action;
    query.since = since(q.since.as_deref())?;
    query.limit = q.limit;
    query.cursor = q.cursor;
    match q.status.as_deref() {
        None | Some("") => {}
        Some("success") => query.outcome = Some(LogOutcome::Success),
        Some("error") => query.outcome = Some(LogOutcome::Error),
        Some(other) => {
            let status = other
                .parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s));
            query.upstream_status = Some(status.ok_or_else(|| {
                ApiError::bad_request("status must be success, error, or an HTTP status (100–599)")
            })?);
        }
    }
    let page = app
        .store
        .list_logs(&tenant, &query)
        .await
        .map_err(|e| match e.kind() {
            waygate_store::ErrorKind::Config => ApiError::bad_request(format!("cursor: {e}")),
            _ => store_error("listing logs", &e),
        })?;
    let names = names(&app, &tenant, &page.entries).await;
    let data = page.entries.into_iter().map(|r| view(r, &names)).collect();
    Ok(Json(Page::new(data, page.next_cursor, None)))
}

/// One logged invocation, by its request id (the newest, should a caller
/// have reused the id).
///
/// Found right after the call: an id not stored yet waits for the log
/// sink's pending entries to be written before it is 404.
#[utoipa::path(
    get,
    operation_id = "getLog", path = "/logs/{requestId}", tag = "logs",
    params(("requestId" = String, Path, description = "The invocation's request id")),
    responses((status = 200, body = LogView), (status = 404, body = super::ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(request_id): Path<String>,
) -> ApiResult<Json<LogView>> {
    let mut query = LogQuery::new();
    query.request_id = Some(request_id.clone());
    query.limit = Some(1);
    let read = || async {
        app.store
            .list_logs(&tenant, &query)
            .await
            .map_err(|e| store_error("reading the log", &e))
    };
    let mut page = read().await?;
    if page.entries.is_empty() {
        // A call that has just ended may still be in the sink's open batch:
        // write what is pending and look once more, so a caller reads its
        // own call at once (decision 127).
        app.logs.flush().await;
        page = read().await?;
    }
    let names = names(&app, &tenant, &page.entries).await;
    page.entries
        .into_iter()
        .next()
        .map(|r| Json(view(r, &names)))
        .ok_or_else(|| ApiError::not_found(format!("log of request '{request_id}'")))
}

/// Integration slug → (integration name, action slug → action name).
type Names = HashMap<String, (String, HashMap<String, String>)>;

/// Display names of the integrations on a page (from the cached definitions;
/// deleted integrations have none).
async fn names(app: &AppState, tenant: &str, entries: &[LogRecord]) -> Names {
    use waygate_core::storage::IntegrationStore as _;
    let mut names = Names::new();
    for e in entries {
        if names.contains_key(&e.integration) {
            continue;
        }
        if let Ok(Some(stored)) = app.integrations.integration(tenant, &e.integration).await {
            let actions = stored
                .def
                .actions
                .iter()
                .filter_map(|a| a.name.clone().map(|n| (a.slug.clone(), n)))
                .collect();
            names.insert(e.integration.clone(), (stored.def.name.clone(), actions));
        }
    }
    names
}

fn view(r: LogRecord, names: &Names) -> LogView {
    let known = names.get(&r.integration);
    LogView {
        integration_name: known.map(|(n, _)| n.clone()),
        action_name: known.and_then(|(_, a)| a.get(&r.action).cloned()),
        status: if r.error_code.is_some() {
            "error"
        } else {
            "success"
        }
        .to_owned(),
        request: r
            .request
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        request_id: r.request_id,
        integration: r.integration,
        action: r.action,
        connection: r.connection,
        started_at: rfc3339(r.started_at),
        duration_ms: r.duration.as_millis() as u64,
        attempts: r.attempts,
        suggested_resolution: r
            .error_code
            .as_deref()
            .and_then(|code| SuggestedResolution::for_code(code, r.upstream_status)),
        upstream_status: r.upstream_status,
        error_code: r.error_code,
        response: r.response,
    }
}

/// Per-integration and per-action counts, error rates and latency percentiles.
#[utoipa::path(
    get,
    operation_id = "getMetrics", path = "/metrics", tag = "logs", params(StatsQuery),
    responses((status = 200, body = StatsView), (status = 400, body = super::ErrorBody)))]
pub async fn stats(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<StatsView>> {
    let since = since(q.since.as_deref())?.unwrap_or_else(|| app.clock.now() - DEFAULT_WINDOW);
    let stats = app
        .store
        .log_stats(&tenant, since)
        .await
        .map_err(|e| store_error("reading log figures", &e))?;
    let data = stats
        .into_iter()
        .map(|s| ActionStatsView {
            error_rate: if s.count == 0 {
                0.0
            } else {
                s.errors as f64 / s.count as f64
            },
            integration: s.integration,
            action: s.action,
            count: s.count,
            errors: s.errors,
            p50_ms: s.p50.as_millis() as u64,
            p95_ms: s.p95.as_millis() as u64,
            p99_ms: s.p99.as_millis() as u64,
        })
        .collect();
    Ok(Json(StatsView {
        since: rfc3339(since),
        data,
    }))
}
