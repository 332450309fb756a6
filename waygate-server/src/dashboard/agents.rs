//! Agents: an integration's MCP endpoint to paste into an MCP client, and
//! its actions as LLM tool definitions (OpenAI, Anthropic, Gemini, MCP)
//! through `GET /api/v1/tools` underneath.
//!
//! The page itself carries no tool definitions: a large integration's export
//! weighs megabytes (Slack's 174 actions, 1.9 MB in four formats). Each
//! format is loaded when asked for ([`tools`]): shown in its tab through
//! htmx, or downloaded as a JSON file (decision 126).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::page::{Chrome, PageResult, origin, pretty};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::error::ApiError;
use crate::api::integrations;
use crate::api::tools::{self, FormatParam, ToolsQuery};
use crate::app::AppState;

/// The export formats offered: label, id (in URLs and element ids), format.
const FORMATS: [(&str, &str, FormatParam); 4] = [
    ("OpenAI", "openai", FormatParam::Openai),
    ("Anthropic", "anthropic", FormatParam::Anthropic),
    ("Gemini", "gemini", FormatParam::Gemini),
    ("MCP", "mcp", FormatParam::Mcp),
];

/// One export format's tab.
pub struct Format {
    label: &'static str,
    id: &'static str,
}

/// The agents page.
#[derive(Template, WebTemplate)]
#[template(path = "agents.html")]
pub struct AgentsPage {
    chrome: Chrome,
    slug: String,
    name: String,
    endpoint: String,
    client_config: String,
    /// One tool per action.
    action_count: u64,
    formats: Vec<Format>,
}

/// `GET /integrations/{slug}/agents`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> PageResult<AgentsPage> {
    let summary = integrations::find(&app, &session.tenant, &slug).await?;
    let endpoint = format!(
        "{}/mcp?integrations={}",
        origin(&app, &headers),
        summary.slug
    );
    let client_config = pretty(
        &json!({"mcpServers": {format!("waygate-{}", summary.slug): {
            "type": "http",
            "url": endpoint,
            "headers": {"Authorization": "Bearer ${WAYGATE_API_KEY}"},
        }}}),
    );
    Ok(AgentsPage {
        chrome: session.chrome("integrations"),
        name: summary.name,
        slug: summary.slug,
        endpoint,
        client_config,
        action_count: summary.action_count,
        formats: FORMATS
            .iter()
            .map(|&(label, id, _)| Format { label, id })
            .collect(),
    })
}

/// One format's tools, shown in its tab.
#[derive(Template, WebTemplate)]
#[template(path = "agents_tools.html")]
pub struct ToolsFragment {
    label: &'static str,
    id: &'static str,
    count: usize,
    json: String,
    notes: Vec<String>,
}

/// `GET /integrations/{slug}/agents/tools/{format}`: the integration's tools
/// in one format, as `GET /api/v1/tools?format=…&integrations={slug}` lists
/// them. For htmx (`HX-Request`) the fragment of its tab (the JSON to read and
/// copy); otherwise the JSON array itself, as a file to download.
pub async fn tools(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path((slug, format)): Path<(String, String)>,
) -> PageResult<Response> {
    let &(label, id, param) = FORMATS
        .iter()
        .find(|(_, id, _)| *id == format)
        .ok_or_else(|| ApiError::not_found(format!("tool format '{format}'")))?;
    let summary = integrations::find(&app, &session.tenant, &slug).await?;
    let view = tools::list(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Query(ToolsQuery {
            format: param,
            integrations: Some(summary.slug.clone()),
            strict: None,
        }),
    )
    .await?
    .0;
    let json = pretty(&json!(view.tools));
    let mut response = if headers.contains_key("hx-request") {
        ToolsFragment {
            label,
            id,
            count: view.tools.len(),
            json,
            notes: view
                .notes
                .iter()
                .map(|n| n["message"].as_str().unwrap_or_default().to_owned())
                .collect(),
        }
        .into_response()
    } else {
        let disposition = format!("attachment; filename=\"{}-{id}-tools.json\"", summary.slug);
        let mut response = json.into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            h.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    };
    // The same URL answers two ways: caches must keep them apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}
