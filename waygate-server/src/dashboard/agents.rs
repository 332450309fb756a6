//! Agents: an integration's MCP endpoint to paste into an MCP client, and
//! its actions as LLM tool definitions (OpenAI, Anthropic, Gemini, MCP)
//! through `GET /api/v1/tools` underneath.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::json;

use super::page::{Chrome, PageResult, origin, pretty};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::integrations;
use crate::api::tools::{self, FormatParam, ToolsQuery};
use crate::app::AppState;

/// One export format's tools.
pub struct Export {
    label: &'static str,
    id: &'static str,
    json: String,
    notes: Vec<String>,
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
    exports: Vec<Export>,
}

/// `GET /integrations/{slug}/agents`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> PageResult<AgentsPage> {
    let tenant = || Tenant(session.tenant.clone());
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
    let mut exports = Vec::new();
    for (label, id, format) in [
        ("OpenAI", "openai", FormatParam::Openai),
        ("Anthropic", "anthropic", FormatParam::Anthropic),
        ("Gemini", "gemini", FormatParam::Gemini),
        ("MCP", "mcp", FormatParam::Mcp),
    ] {
        let view = tools::list(
            State(app.clone()),
            tenant(),
            Query(ToolsQuery {
                format,
                integrations: Some(summary.slug.clone()),
                strict: None,
            }),
        )
        .await?
        .0;
        exports.push(Export {
            label,
            id,
            json: pretty(&json!(view.tools)),
            notes: view
                .notes
                .iter()
                .map(|n| n["message"].as_str().unwrap_or_default().to_owned())
                .collect(),
        });
    }
    Ok(AgentsPage {
        chrome: session.chrome("integrations"),
        name: summary.name,
        slug: summary.slug,
        endpoint,
        client_config,
        exports,
    })
}
