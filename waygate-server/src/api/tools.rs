//! `GET /tools`: the tenant's actions as LLM tool definitions (OpenAI chat and
//! Responses, Anthropic, Gemini, MCP), with the portable names the MCP server
//! uses. The transforms live in core (`waygate_core::tools`).

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use waygate_core::tools::{ToolFormat, ToolSet};

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, store_error};
use crate::app::AppState;

/// Query of `GET /tools`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ToolsQuery {
    /// The target's tool format.
    #[param(inline)]
    pub format: FormatParam,
    /// Only these integrations (comma-separated slugs).
    #[param(pattern = "^[a-z0-9-]+(,[a-z0-9-]+)*$")]
    pub integrations: Option<String>,
    /// Strict schemas (OpenAI, Anthropic) where the schema allows; each tool
    /// that cannot be strict is listed in `notes` with the reason.
    pub strict: Option<bool>,
}

/// `openai`, `openai-responses`, `anthropic`, `gemini` or `mcp`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FormatParam {
    /// OpenAI Chat Completions `tools`.
    Openai,
    /// OpenAI Responses API `tools`.
    OpenaiResponses,
    /// Anthropic Messages `tools`.
    Anthropic,
    /// Gemini `functionDeclarations`.
    Gemini,
    /// MCP `Tool` objects.
    Mcp,
}

impl From<FormatParam> for ToolFormat {
    fn from(f: FormatParam) -> Self {
        match f {
            FormatParam::Openai => Self::OpenAi,
            FormatParam::OpenaiResponses => Self::OpenAiResponses,
            FormatParam::Anthropic => Self::Anthropic,
            FormatParam::Gemini => Self::Gemini,
            FormatParam::Mcp => Self::Mcp,
        }
    }
}

/// The tools, ready for the vendor's `tools` parameter.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolsView {
    /// The format.
    pub format: String,
    /// Whether strict schemas were asked for.
    pub strict: bool,
    /// Tool definitions in the format, sorted by name.
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<serde_json::Value>,
    /// Tools exported differently than asked, and why.
    #[schema(value_type = Vec<Object>)]
    pub notes: Vec<serde_json::Value>,
}

/// The tenant's actions as LLM tools.
#[utoipa::path(
    get,
    operation_id = "listTools", path = "/tools", tag = "actions", params(ToolsQuery),
    responses((status = 200, body = ToolsView), (status = 400, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Query(q): Query<ToolsQuery>,
) -> ApiResult<Json<ToolsView>> {
    let format = ToolFormat::from(q.format);
    let only = match q.integrations.as_deref() {
        None => None,
        Some(list) => Some(
            waygate_mcp::parse_integrations(list)
                .map_err(|e| ApiError::bad_request(format!("integrations: {e}")))?,
        ),
    };
    let mut stored = app
        .store
        .load_integrations(&tenant)
        .await
        .map_err(|e| store_error("reading integrations", &e))?;
    stored.retain(|s| s.enabled && only.as_ref().is_none_or(|o| o.contains(&s.def.slug)));
    let set = ToolSet::build(stored.iter().map(|s| s.def.as_ref()))
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    let export = set.export(format, q.strict.unwrap_or(false));
    Ok(Json(ToolsView {
        format: export.format.to_owned(),
        strict: export.strict,
        tools: export.tools,
        notes: export
            .notes
            .iter()
            .map(|n| serde_json::json!({"tool": n.tool, "id": n.id, "message": n.message}))
            .collect(),
    }))
}
