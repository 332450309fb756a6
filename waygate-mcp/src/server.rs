//! The MCP handler: `tools/list`, `tools/call` and list-changed subscriptions
//! over a tenant's actions.

use std::sync::Arc;
use std::time::Duration;

use rmcp::ErrorData;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, SubscriptionFilter, Tool,
};
use rmcp::service::{RequestContext, RoleServer, SubscriptionContext};
use serde_json::{Map, Value, json};
use waygate_core::__workspace::new_request_id;
use waygate_core::Error;
use waygate_core::pipeline::{Call, CallOptions, Executor};
use waygate_core::tools::{ToolSet, ToolSpec};

use crate::catalog::Catalogs;
use crate::cursor;
use crate::meta;
use crate::registry::Registry;
use crate::scope::{Caller, Mode};

/// Tools per `tools/list` page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// How often a list-changed subscription looks at the integrations' revisions.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);

/// How long a client may treat a `tools/list` page as fresh (SEP-2549's
/// `ttlMs`): changes are also announced by `notifications/tools/list_changed`.
const LIST_TTL_MS: u64 = 5_000;

/// The MCP server of a gateway: the engine and the registry. Cheap to clone;
/// [`McpServer::handler`] makes the per-connection (or per-request) handler.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

struct Inner {
    executor: Executor,
    catalogs: Catalogs,
    page_size: usize,
    poll: Duration,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("page_size", &self.inner.page_size)
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// A server running calls on `executor` over the actions of `registry`.
    pub fn new(executor: Executor, registry: Arc<dyn Registry>) -> Self {
        Self::with_options(executor, registry, DEFAULT_PAGE_SIZE, DEFAULT_POLL)
    }

    /// With a page size for `tools/list` (at least 1) and the poll interval of
    /// list-changed subscriptions.
    pub fn with_options(
        executor: Executor,
        registry: Arc<dyn Registry>,
        page_size: usize,
        poll: Duration,
    ) -> Self {
        let catalogs = Catalogs::new(registry, executor.clock().clone());
        Self {
            inner: Arc::new(Inner {
                executor,
                catalogs,
                page_size: page_size.max(1),
                poll,
            }),
        }
    }

    /// The tenants' tool sets.
    pub fn catalogs(&self) -> &Catalogs {
        &self.inner.catalogs
    }

    /// A handler for `caller`; with `None`, each request names its caller in
    /// the HTTP request's extensions (a [`Caller`] put there by the gateway).
    pub fn handler(&self, caller: Option<Caller>) -> McpHandler {
        McpHandler {
            server: self.clone(),
            caller,
        }
    }

    /// Waits until the caller's tools differ from `seen`, then returns the new
    /// revisions; polls every [`DEFAULT_POLL`] (or the configured interval).
    pub(crate) async fn next_change(
        &self,
        tenant: &str,
        seen: &mut Vec<(String, u64)>,
    ) -> Result<(), Error> {
        loop {
            tokio::time::sleep(self.inner.poll).await;
            let now = self.inner.catalogs.revisions(tenant).await?;
            if &now != seen {
                *seen = now;
                return Ok(());
            }
        }
    }
}

/// Serves one MCP connection (stdio) or request (stateless HTTP).
#[derive(Clone)]
pub struct McpHandler {
    server: McpServer,
    caller: Option<Caller>,
}

impl std::fmt::Debug for McpHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHandler")
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl McpHandler {
    fn caller(&self, context: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
        if let Some(caller) = &self.caller {
            return Ok(caller.clone());
        }
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .cloned()
            .ok_or_else(|| ErrorData::invalid_request("not authenticated", None))
    }

    async fn tools(&self, caller: &Caller) -> Result<Arc<ToolSet>, ErrorData> {
        self.server
            .inner
            .catalogs
            .tools(&caller.tenant)
            .await
            .map_err(|e| ErrorData::internal_error(format!("{}: {e}", e.code()), None))
    }

    fn page(
        &self,
        set: &ToolSet,
        caller: &Caller,
        after: Option<&str>,
    ) -> (Vec<Value>, Option<String>) {
        let start = after.map_or(0, |name| set.position_after(name));
        let mut page = Vec::with_capacity(self.server.inner.page_size);
        let mut more = false;
        for tool in set.tools()[start..]
            .iter()
            .filter(|t| caller.scope.includes(&t.integration))
        {
            if page.len() == self.server.inner.page_size {
                more = true;
                break;
            }
            page.push(tool);
        }
        let next = more.then(|| cursor::encode(&page[page.len() - 1].name));
        (page.iter().map(|t| t.to_mcp()).collect(), next)
    }

    /// Runs `tool` with `arguments`; every failure of the call itself is an
    /// `isError` result the model can act on.
    async fn run(
        &self,
        caller: &Caller,
        tool: &ToolSpec,
        arguments: Value,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        // The engine drops the nulls a strict tool call sends for optional fields.
        let call = Call {
            tenant: caller.tenant.clone(),
            integration: tool.integration.clone(),
            action: tool.action.clone(),
            input: arguments,
            options: CallOptions {
                // The `mcp-` prefix marks the request log entries of MCP calls.
                request_id: Some(format!("mcp-{}", new_request_id())),
                ..CallOptions::default()
            },
        };
        let invoke = self.server.inner.executor.invoke(&call);
        let outcome = tokio::select! {
            outcome = invoke => outcome,
            () = context.ct.cancelled() => {
                tracing::info!(tool = %tool.id, "MCP call cancelled by the client");
                return error_result(json!({"code": "CANCELLED", "message": "cancelled by the client"}), "cancelled by the client".into());
            }
        };
        match outcome {
            Ok(invocation) => {
                let text = serde_json::to_string(&invocation.data).unwrap_or_default();
                let mut result = json!({
                    "resultType": "complete",
                    "content": [{"type": "text", "text": text}],
                    "isError": false,
                    "_meta": {"dev.waygate/invocation": invocation.meta},
                });
                if let Some(structured) = tool.structured(invocation.data) {
                    result["structuredContent"] = structured;
                }
                serde_json::from_value(result).unwrap_or_else(|e| {
                    CallToolResult::error(vec![rmcp::model::ContentBlock::text(format!(
                        "the result could not be encoded: {e}"
                    ))])
                })
            }
            Err(e) => {
                let text = readable(&e);
                error_result(e.to_json(), text)
            }
        }
    }

    async fn call_meta(
        &self,
        caller: &Caller,
        request: CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let string = |key: &str| args.get(key).and_then(Value::as_str);
        match request.name.as_ref() {
            meta::SEARCH => {
                let Some(query) = string("query").filter(|q| !q.trim().is_empty()) else {
                    return Ok(input_error("`query` must be a non-empty string"));
                };
                let limit = match args.get("limit") {
                    None | Some(Value::Null) => meta::DEFAULT_LIMIT,
                    Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                        Some(n) if (1..=meta::MAX_LIMIT).contains(&n) => n,
                        _ => {
                            return Ok(input_error(&format!(
                                "`limit` must be an integer from 1 to {}",
                                meta::MAX_LIMIT
                            )));
                        }
                    },
                };
                let integration = string("integration");
                let set = self.tools(caller).await?;
                let in_scope = |t: &ToolSpec| {
                    caller.scope.includes(&t.integration)
                        && integration.is_none_or(|i| t.integration == i)
                };
                // Ask the index for more than needed: some hits may be out of scope.
                let indexed = self
                    .server
                    .inner
                    .catalogs
                    .registry()
                    .search(&caller.tenant, query, limit.saturating_mul(4).max(50))
                    .await
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                let hits: Vec<Value> = match indexed {
                    Some(ids) => ids
                        .iter()
                        .filter_map(|id| set.get(id))
                        .filter(|t| in_scope(t))
                        .take(limit as usize)
                        .map(|t| meta::hit(t))
                        .collect(),
                    None => meta::search_in_memory(
                        &set,
                        &caller.scope,
                        integration,
                        query,
                        limit as usize,
                    )
                    .into_iter()
                    .map(meta::hit)
                    .collect(),
                };
                let structured = json!({"results": hits});
                result(json!({
                    "resultType": "complete",
                    "content": [{"type": "text", "text": structured.to_string()}],
                    "structuredContent": structured,
                    "isError": false,
                }))
            }
            meta::SCHEMA | meta::CALL => {
                let Some(name) = string("name") else {
                    return Ok(input_error("`name` must be an action's tool name or id"));
                };
                let set = self.tools(caller).await?;
                let Some(tool) = set
                    .get(name)
                    .filter(|t| caller.scope.includes(&t.integration))
                else {
                    return Ok(input_error(&format!(
                        "there is no action '{name}': find one with search_actions"
                    )));
                };
                if request.name == meta::SCHEMA {
                    let definition = tool.to_mcp();
                    return result(json!({
                        "resultType": "complete",
                        "content": [{"type": "text", "text": definition.to_string()}],
                        "isError": false,
                    }));
                }
                let arguments = match args.get("arguments") {
                    None | Some(Value::Null) => Value::Object(Map::new()),
                    Some(v @ Value::Object(_)) => v.clone(),
                    Some(_) => return Ok(input_error("`arguments` must be an object")),
                };
                Ok(self.run(caller, tool, arguments, context).await)
            }
            other => Err(unknown_tool(other)),
        }
    }
}

/// A `CallToolResult` from its JSON form.
fn result(value: Value) -> Result<CallToolResult, ErrorData> {
    serde_json::from_value(value).map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

/// An `isError` result for arguments the model can fix.
fn input_error(message: &str) -> CallToolResult {
    error_result(
        json!({"code": "VALIDATION_ERROR", "message": message}),
        format!("VALIDATION_ERROR: {message}\nSuggested resolution: RETRY_WITH_MODIFIED_INPUT"),
    )
}

fn error_result(structured: Value, text: String) -> CallToolResult {
    serde_json::from_value(json!({
        "resultType": "complete",
                    "content": [{"type": "text", "text": text}],
        "isError": true,
        "_meta": {"dev.waygate/error": structured},
    }))
    .unwrap_or_else(|_| CallToolResult::error(vec![rmcp::model::ContentBlock::text(text)]))
}

/// An engine error as a model reads it: code, message, what is wrong where,
/// and what to do.
fn readable(e: &Error) -> String {
    let mut text = format!("{}: {e}", e.code());
    let details = e.details();
    if let Some(violations) = details.get("violations").and_then(Value::as_array) {
        for v in violations {
            text.push_str(&format!("\n- {}", v));
        }
    }
    if let Some(status) = details.get("upstreamStatus").filter(|s| !s.is_null()) {
        text.push_str(&format!("\nUpstream status: {status}"));
    }
    if let Some(body) = details.get("upstreamBody").filter(|b| !b.is_null()) {
        let body = body.to_string();
        let cut: String = body.chars().take(2000).collect();
        text.push_str(&format!("\nUpstream body: {cut}"));
    }
    let resolution = e.suggested_resolution();
    let resolution = serde_json::to_value(&resolution).unwrap_or(Value::Null);
    text.push_str(&format!(
        "\nSuggested resolution: {} — {}",
        resolution
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or(""),
        resolution
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or(""),
    ));
    text
}

fn unknown_tool(name: &str) -> ErrorData {
    ErrorData::invalid_params(format!("unknown tool '{name}'"), None)
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        let mut info = ServerConfig::new(capabilities).with_instructions(
            "Each tool is an action of an API integrated in Waygate; Waygate holds the \
             credentials. Failed calls return an error result naming what to change.",
        );
        info.server_info =
            rmcp::model::Implementation::new(crate::SERVER_NAME, env!("CARGO_PKG_VERSION"));
        info
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = self.caller(&context)?;
        let after = match request.and_then(|r| r.cursor) {
            Some(c) => Some(cursor::decode(&c).map_err(|m| ErrorData::invalid_params(m, None))?),
            None => None,
        };
        let (tools, next) = match caller.scope.mode {
            Mode::Meta => {
                if after.is_some() {
                    return Err(ErrorData::invalid_params(
                        "invalid cursor: meta mode has a single page",
                        None,
                    ));
                }
                (meta::tools(), None)
            }
            Mode::Direct => {
                let set = self.tools(&caller).await?;
                self.page(&set, &caller, after.as_deref())
            }
        };
        let tools: Vec<Tool> = tools
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(|e| {
                ErrorData::internal_error(format!("a tool cannot be encoded: {e}"), None)
            })?;
        let mut result = ListToolsResult::with_all_items(tools)
            .with_ttl_ms(LIST_TTL_MS)
            .with_cache_scope(CacheScope::Private);
        result.next_cursor = next;
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = self.caller(&context)?;
        if caller.scope.mode == Mode::Meta {
            return Ok(self.call_meta(&caller, request, &context).await?.into());
        }
        let set = self.tools(&caller).await?;
        let tool = set
            .get(&request.name)
            .filter(|t| caller.scope.includes(&t.integration))
            .ok_or_else(|| unknown_tool(&request.name))?;
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        Ok(self.run(&caller, tool, arguments, &context).await.into())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = SubscriptionFilter::new();
        accepted.tools_list_changed = requested.tools_list_changed;
        Some(accepted)
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let caller = self.caller(context.request_context())?;
        let mut seen = self
            .server
            .inner
            .catalogs
            .revisions(&caller.tenant)
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                changed = self.server.next_change(&caller.tenant, &mut seen) => {
                    if let Err(e) = changed {
                        tracing::warn!(error = %e, "list-changed poll failed");
                        continue;
                    }
                    if context.sink().notify_tool_list_changed().await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}
