//! Meta-tool mode: three tools that reach every action of a large registry
//! without listing them all (`/mcp?mode=meta`).

use serde_json::{Value, json};
use waygate_core::tools::{ToolSet, ToolSpec};

use crate::scope::Scope;

/// Finds actions by words.
pub(crate) const SEARCH: &str = "search_actions";
/// One action's full tool definition.
pub(crate) const SCHEMA: &str = "get_action_schema";
/// Runs an action.
pub(crate) const CALL: &str = "call_action";

/// Results of `search_actions` when the caller does not say.
pub(crate) const DEFAULT_LIMIT: u32 = 10;
/// The most `search_actions` returns.
pub(crate) const MAX_LIMIT: u32 = 50;

/// The three tools, as MCP `Tool` objects.
pub(crate) fn tools() -> Vec<Value> {
    let action = json!({
        "type": "string",
        "description": "The action's tool name (from search_actions) or its id, integration.action"
    });
    vec![
        json!({
            "name": CALL,
            "title": "Call an action",
            "description": "Runs an action with arguments that match its input schema (see get_action_schema). Failures come back as an error result with what to change.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "name": action,
                    "arguments": {"type": "object", "description": "The action's input"}
                },
                "required": ["name"],
                "additionalProperties": false
            },
            "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true}
        }),
        json!({
            "name": SCHEMA,
            "title": "Get an action's schema",
            "description": "Returns an action's tool definition: name, description, inputSchema, outputSchema and annotations.",
            "inputSchema": {
                "type": "object",
                "properties": {"name": action},
                "required": ["name"],
                "additionalProperties": false
            },
            "annotations": {"readOnlyHint": true, "openWorldHint": false}
        }),
        json!({
            "name": SEARCH,
            "title": "Search actions",
            "description": "Finds the actions whose name, description, group or path match the words of `query`, best first.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "query": {"type": "string", "minLength": 1, "description": "Words to look for, e.g. 'send message'"},
                    "integration": {"type": "string", "description": "Only this integration's actions (its slug)"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
                },
                "required": ["query"],
                "additionalProperties": false
            },
            "outputSchema": {
                "type": "object",
                "properties": {"results": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"}, "id": {"type": "string"},
                        "title": {"type": ["string", "null"]}, "description": {"type": "string"}
                    },
                    "required": ["name", "id", "description"]
                }}},
                "required": ["results"]
            },
            "annotations": {"readOnlyHint": true, "openWorldHint": false}
        }),
    ]
}

/// One search hit as `search_actions` returns it.
pub(crate) fn hit(tool: &ToolSpec) -> Value {
    json!({"name": tool.name, "id": tool.id, "title": tool.title, "description": tool.description})
}

/// Tools matching every word of `query`, in memory: name and id matches first,
/// then description matches, each by name.
pub(crate) fn search_in_memory<'a>(
    set: &'a ToolSet,
    scope: &Scope,
    integration: Option<&str>,
    query: &str,
    limit: usize,
) -> Vec<&'a ToolSpec> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<(u8, &ToolSpec)> = set
        .tools()
        .iter()
        .filter(|t| {
            scope.includes(&t.integration) && integration.is_none_or(|i| t.integration == i)
        })
        .filter_map(|t| {
            let head = format!("{} {}", t.id, t.title.as_deref().unwrap_or("")).to_lowercase();
            let body = t.description.to_lowercase();
            let in_head = words.iter().all(|w| head.contains(w.as_str()));
            let anywhere = words
                .iter()
                .all(|w| head.contains(w.as_str()) || body.contains(w.as_str()));
            match (in_head, anywhere) {
                (true, _) => Some((0, t.as_ref())),
                (false, true) => Some((1, t.as_ref())),
                _ => None,
            }
        })
        .collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    hits.into_iter().take(limit).map(|(_, t)| t).collect()
}
