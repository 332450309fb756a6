//! Logs: the tenant's invocations, newest first, filtered by integration,
//! action, status and time (`GET /api/v1/logs` underneath), each linked to its
//! detail page ([`super::log_detail`]).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::page::{Chrome, PageResult, integration_names};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::logs::{self, ListLogs, LogView};
use crate::app::AppState;

/// Filters of `/logs`, as the form sends them (empty means any).
#[derive(Debug, Default, Deserialize)]
pub struct LogFilter {
    #[serde(default)]
    integration: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    status: String,
    /// RFC 3339.
    #[serde(default)]
    since: String,
    #[serde(default)]
    cursor: String,
}

/// The logs page.
#[derive(Template, WebTemplate)]
#[template(path = "logs.html")]
pub struct LogsPage {
    chrome: Chrome,
    filter: LogFilter,
    integrations: Vec<(String, String)>,
    entries: Vec<LogView>,
    next: Option<String>,
    error: Option<String>,
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `GET /logs`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Query(filter): Query<LogFilter>,
) -> PageResult<LogsPage> {
    let tenant = || Tenant(session.tenant.clone());
    let integrations = integration_names(&app, &session.tenant).await?;
    let listed = logs::list(
        State(app.clone()),
        tenant(),
        Query(ListLogs {
            integration: some(&filter.integration),
            action: some(&filter.action),
            status: some(&filter.status),
            since: some(&filter.since),
            limit: Some(50),
            cursor: some(&filter.cursor),
        }),
    )
    .await;
    // A bad filter (a malformed time, say) is said beside the form.
    let (entries, next, error) = match listed {
        Ok(page) => (page.0.data, page.0.pagination.cursor, None),
        Err(e) => (Vec::new(), None, Some(e.message().to_owned())),
    };
    Ok(LogsPage {
        chrome: session.chrome("logs"),
        filter,
        integrations,
        entries,
        next,
        error,
    })
}
