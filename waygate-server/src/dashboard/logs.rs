//! Logs: the tenant's invocations, newest first, filtered by integration,
//! action, status and time, each with its sanitized request and response
//! (`GET /api/v1/logs` underneath).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::page::{Chrome, PageResult, integration_names, pretty};
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

/// One logged call as shown.
pub struct Entry {
    view: LogView,
    request: Option<String>,
    response: Option<String>,
}

/// The logs page.
#[derive(Template, WebTemplate)]
#[template(path = "logs.html")]
pub struct LogsPage {
    chrome: Chrome,
    filter: LogFilter,
    integrations: Vec<(String, String)>,
    entries: Vec<Entry>,
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
        Ok(page) => {
            let page = page.0;
            let entries = page
                .data
                .into_iter()
                .map(|view| Entry {
                    request: view.request.as_ref().map(pretty),
                    response: view.response.as_deref().map(|r| {
                        serde_json::from_str::<serde_json::Value>(r)
                            .map(|v| pretty(&v))
                            .unwrap_or_else(|_| r.to_owned())
                    }),
                    view,
                })
                .collect();
            (entries, page.pagination.cursor, None)
        }
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
