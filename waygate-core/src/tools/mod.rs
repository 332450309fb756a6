//! Actions as LLM tools: portable names, and the definitions each vendor takes
//! (OpenAI chat and Responses, Anthropic, Gemini, MCP).
//!
//! [`ToolSet::build`] turns integrations into [`ToolSpec`]s (one per action,
//! sorted by portable name, every name checked unique); [`ToolSet::export`]
//! writes them in a [`ToolFormat`]. The MCP server (`waygate-mcp`), the
//! gateway's `GET /api/v1/tools`, `waygate export tools` and
//! [`Waygate::tools`](crate::Waygate::tools) all use this one module, so a tool
//! has the same name and schema everywhere.
//!
//! Credentials never appear in a tool: fields the gateway fills from the
//! connection's credential are removed from every input schema.

mod gemini;
mod name;
mod nulls;
mod strict;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::{ActionDef, IntegrationDef};

pub use self::name::{MAX_NAME_LEN, is_portable, portable_name};
pub use self::nulls::drop_optional_nulls;

/// The `_meta` key of an MCP tool that holds the action's canonical id.
pub const META_ID: &str = "dev.waygate/id";

/// Tool descriptions are cut to this many characters in vendor exports (OpenAI
/// refuses longer function descriptions).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A target for [`ToolSet::export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolFormat {
    /// OpenAI Chat Completions `tools`: `{"type":"function","function":{…}}`.
    OpenAi,
    /// OpenAI Responses API `tools`: `{"type":"function","name",…}`.
    OpenAiResponses,
    /// Anthropic Messages `tools`: `{"name","description","input_schema"}`.
    Anthropic,
    /// Gemini `functionDeclarations`: OpenAPI-subset `parameters`.
    Gemini,
    /// MCP `Tool` objects, as `tools/list` returns them.
    Mcp,
}

impl ToolFormat {
    /// Every format, in the order API.md lists them.
    pub const ALL: [ToolFormat; 5] = [
        Self::OpenAi,
        Self::OpenAiResponses,
        Self::Anthropic,
        Self::Gemini,
        Self::Mcp,
    ];

    /// The name used in `?format=` and `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::OpenAiResponses => "openai-responses",
            Self::Anthropic => "anthropic",
            Self::Gemini => "gemini",
            Self::Mcp => "mcp",
        }
    }
}

impl fmt::Display for ToolFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is none of [`ToolFormat::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tool format '{0}': expected openai, openai-responses, anthropic, gemini or mcp")]
pub struct UnknownFormat(pub String);

impl FromStr for ToolFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Two actions whose portable names are the same. Tools are never renamed
/// silently: the integration's author renames one of the actions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("actions '{first}' and '{second}' both have the tool name '{name}': rename one of them")]
pub struct NameCollision {
    /// The shared portable name.
    pub name: String,
    /// One action id.
    pub first: String,
    /// The other.
    pub second: String,
}

/// What an action does to the world, as MCP's tool annotations say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hints {
    /// Reads only: `GET`, `HEAD`, `OPTIONS`, or `metadata.sideEffects: false`.
    pub read_only_hint: bool,
    /// May destroy or overwrite: `DELETE` and `PUT`, or `metadata.destructive`.
    pub destructive_hint: bool,
    /// Repeating it changes nothing more ([`ActionDef::is_idempotent`]).
    pub idempotent_hint: bool,
    /// Reaches an external system: always, every action calls an upstream API.
    pub open_world_hint: bool,
}

impl Hints {
    /// The hints of `action`, from its method and metadata.
    pub fn of(action: &ActionDef) -> Self {
        let flag = |key: &str| action.metadata.get(key).and_then(Value::as_bool);
        let safe_method = matches!(action.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        let read_only = flag("sideEffects").map_or(safe_method, |side_effects| !side_effects);
        let destructive = !read_only
            && flag("destructive").unwrap_or(matches!(action.method.as_str(), "DELETE" | "PUT"));
        Self {
            read_only_hint: read_only,
            destructive_hint: destructive,
            idempotent_hint: read_only || action.is_idempotent(),
            open_world_hint: true,
        }
    }
}

/// One action as a tool, before any vendor's rules are applied.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolSpec {
    /// The canonical id, `integration.action`.
    pub id: String,
    /// The portable name ([`portable_name`] of the id).
    pub name: String,
    /// The integration's slug.
    pub integration: String,
    /// The action's slug.
    pub action: String,
    /// The action's display name.
    pub title: Option<String>,
    /// What the action does (its description, else its name, else method and path).
    pub description: String,
    /// The action's input schema, object-rooted, without credential fields.
    pub input_schema: Value,
    /// The output schema, object-rooted: a non-object output is wrapped as
    /// `{result: …}` (see [`output_wrapped`](Self::output_wrapped)).
    pub output_schema: Option<Value>,
    /// Whether the output is wrapped as `{result: …}`.
    pub output_wrapped: bool,
    /// MCP annotations.
    pub hints: Hints,
    /// The upstream marks the operation deprecated.
    pub deprecated: bool,
}

impl ToolSpec {
    /// The tool of `action` in `integration`.
    pub fn of(integration: &IntegrationDef, action: &ActionDef) -> Self {
        let id = format!("{}.{}", integration.slug, action.slug);
        let credential_fields: Vec<&str> = action
            .parameters
            .iter()
            .filter(|p| p.credential)
            .map(|p| p.name.as_str())
            .collect();
        let description = action
            .description
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or_else(|| action.name.clone())
            .unwrap_or_else(|| format!("{} {} ({})", action.method, action.path, integration.name));
        let (output_schema, output_wrapped) = match &action.output_schema {
            None => (None, false),
            Some(schema) if is_object_schema(schema) => {
                let mut schema = schema.clone();
                // MCP wants `type: object` at the root, also when the root is a `$ref`.
                if let Some(o) = schema.as_object_mut() {
                    o.remove("$schema");
                    o.entry("type").or_insert_with(|| json!("object"));
                }
                (Some(schema), false)
            }
            Some(schema) => (Some(wrap_output(schema)), true),
        };
        Self {
            name: portable_name(&id),
            id,
            integration: integration.slug.clone(),
            action: action.slug.clone(),
            title: action.name.clone(),
            description,
            input_schema: input_schema(&action.input_schema, &credential_fields),
            output_schema,
            output_wrapped,
            hints: Hints::of(action),
            deprecated: action.deprecated,
        }
    }

    /// A result's data as MCP `structuredContent`: as it is, or `{result: data}`
    /// when the output schema was wrapped; `None` without an output schema
    /// unless the data is an object.
    pub fn structured(&self, data: Value) -> Option<Value> {
        if self.output_wrapped {
            return Some(json!({ "result": data }));
        }
        match data {
            Value::Object(_) => Some(data),
            other if self.output_schema.is_some() => Some(json!({ "result": other })),
            _ => None,
        }
    }

    /// The MCP `Tool` object.
    pub fn to_mcp(&self) -> Value {
        let mut tool = Map::new();
        tool.insert("name".into(), json!(self.name));
        if let Some(title) = &self.title {
            tool.insert("title".into(), json!(title));
        }
        tool.insert("description".into(), json!(self.description));
        tool.insert("inputSchema".into(), self.input_schema.clone());
        if let Some(output) = &self.output_schema {
            tool.insert("outputSchema".into(), output.clone());
        }
        tool.insert("annotations".into(), json!(self.hints));
        tool.insert(
            "_meta".into(),
            json!({ META_ID: self.id, "dev.waygate/deprecated": self.deprecated }),
        );
        Value::Object(tool)
    }

    fn short_description(&self) -> String {
        if self.description.chars().count() <= MAX_DESCRIPTION_CHARS {
            return self.description.clone();
        }
        let mut cut: String = self
            .description
            .chars()
            .take(MAX_DESCRIPTION_CHARS - 1)
            .collect();
        cut.push('…');
        cut
    }

    /// This tool in `format`; with `strict`, under the vendor's strict rules
    /// when the schema allows it. A note says why a tool is not strict.
    pub fn export(&self, format: ToolFormat, strict: bool) -> (Value, Option<String>) {
        let description = self.short_description();
        let (schema, strict_ok, note) = match (format, strict) {
            (ToolFormat::OpenAi | ToolFormat::OpenAiResponses, true) => {
                strict_or_not(&self.input_schema, strict::Vendor::OpenAi)
            }
            (ToolFormat::Anthropic, true) => {
                strict_or_not(&self.input_schema, strict::Vendor::Anthropic)
            }
            _ => (self.input_schema.clone(), false, None),
        };
        let tool = match format {
            ToolFormat::OpenAi => json!({
                "type": "function",
                "function": {
                    "name": self.name,
                    "description": description,
                    "parameters": schema,
                    "strict": strict_ok,
                }
            }),
            ToolFormat::OpenAiResponses => json!({
                "type": "function",
                "name": self.name,
                "description": description,
                "parameters": schema,
                "strict": strict_ok,
            }),
            ToolFormat::Anthropic => {
                let mut tool = json!({
                    "name": self.name,
                    "description": description,
                    "input_schema": schema,
                });
                if strict_ok {
                    tool["strict"] = json!(true);
                }
                tool
            }
            ToolFormat::Gemini => {
                let mut tool = json!({"name": self.name, "description": description});
                if let Some(parameters) = gemini::parameters(&self.input_schema) {
                    tool["parameters"] = parameters;
                }
                tool
            }
            ToolFormat::Mcp => self.to_mcp(),
        };
        (tool, note)
    }
}

fn strict_or_not(schema: &Value, vendor: strict::Vendor) -> (Value, bool, Option<String>) {
    match strict::make_strict(schema, vendor) {
        Ok(s) => (s, true, None),
        Err(why) => (schema.clone(), false, Some(format!("not strict: {why}"))),
    }
}

/// Whether `schema` describes objects only (following a root `$ref` into `$defs`).
fn is_object_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "object",
        None => {
            if schema.get("properties").is_some() {
                return true;
            }
            let target = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| schema.get("$defs").and_then(|d| d.get(name)));
            target.is_some_and(|t| t.get("$ref").is_none() && is_object_schema(t))
        }
        _ => false,
    }
}

/// `{type: object, properties: {result: schema}}`, its `$defs` moved to the
/// new root so that `#/$defs/…` references still resolve.
fn wrap_output(schema: &Value) -> Value {
    let mut inner = schema.clone();
    let defs = inner.as_object_mut().and_then(|o| {
        o.remove("$schema");
        o.remove("$defs")
    });
    let mut wrapped = json!({
        "type": "object",
        "properties": {"result": inner},
        "required": ["result"],
    });
    if let Some(defs) = defs {
        wrapped["$defs"] = defs;
    }
    wrapped
}

/// The input schema as tools take it: an object root, no `$schema`, and none of
/// the credential fields (the gateway fills those, a client never sends them).
fn input_schema(schema: &Value, credential_fields: &[&str]) -> Value {
    let mut schema = match schema {
        Value::Object(_) => schema.clone(),
        _ => json!({"type": "object"}),
    };
    if let Some(o) = schema.as_object_mut() {
        o.remove("$schema");
        if o.get("type").is_none() {
            o.insert("type".into(), json!("object"));
        }
        if let Some(Value::Object(properties)) = o.get_mut("properties") {
            for field in credential_fields {
                properties.remove(*field);
            }
        }
        if let Some(Value::Array(required)) = o.get_mut("required") {
            required.retain(|r| r.as_str().is_none_or(|r| !credential_fields.contains(&r)));
        }
    }
    schema
}

/// The tools of a set of integrations, sorted by name, each name unique.
#[derive(Debug, Clone, Default)]
pub struct ToolSet {
    tools: Vec<Arc<ToolSpec>>,
    /// Portable name and canonical id → index into `tools`.
    index: HashMap<String, usize>,
}

impl ToolSet {
    /// The tools of every action of `integrations`.
    ///
    /// # Errors
    /// [`NameCollision`] when two actions have the same portable name.
    pub fn build<'a>(
        integrations: impl IntoIterator<Item = &'a IntegrationDef>,
    ) -> Result<Self, NameCollision> {
        let mut tools: Vec<Arc<ToolSpec>> = integrations
            .into_iter()
            .flat_map(|i| i.actions.iter().map(move |a| Arc::new(ToolSpec::of(i, a))))
            .collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        for pair in tools.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(NameCollision {
                    name: pair[0].name.clone(),
                    first: pair[0].id.clone(),
                    second: pair[1].id.clone(),
                });
            }
        }
        let mut index = HashMap::with_capacity(tools.len() * 2);
        for (i, tool) in tools.iter().enumerate() {
            index.insert(tool.name.clone(), i);
            index.insert(tool.id.clone(), i);
        }
        Ok(Self { tools, index })
    }

    /// The tools, sorted by portable name.
    pub fn tools(&self) -> &[Arc<ToolSpec>] {
        &self.tools
    }

    /// The number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The tool with this portable name or canonical id.
    pub fn get(&self, name_or_id: &str) -> Option<&Arc<ToolSpec>> {
        self.index.get(name_or_id).map(|i| &self.tools[*i])
    }

    /// The position of the first tool whose name is after `name` (for cursors).
    pub fn position_after(&self, name: &str) -> usize {
        self.tools.partition_point(|t| t.name.as_str() <= name)
    }

    /// Every tool in `format`.
    pub fn export(&self, format: ToolFormat, strict: bool) -> ToolExport {
        let mut tools = Vec::with_capacity(self.tools.len());
        let mut notes = Vec::new();
        for tool in &self.tools {
            let (value, note) = tool.export(format, strict);
            tools.push(value);
            if let Some(message) = note {
                notes.push(ExportNote {
                    tool: tool.name.clone(),
                    id: tool.id.clone(),
                    message,
                });
            }
        }
        ToolExport {
            format: format.as_str(),
            strict,
            tools,
            notes,
        }
    }
}

/// Tools in one format, as `GET /api/v1/tools` and `waygate export tools` print them.
#[derive(Debug, Clone, Serialize)]
pub struct ToolExport {
    /// The format's name.
    pub format: &'static str,
    /// Whether strict schemas were asked for.
    pub strict: bool,
    /// The tool definitions, ready for the vendor's `tools` parameter.
    pub tools: Vec<Value>,
    /// Tools exported differently than asked, and why (a schema that cannot be strict).
    pub notes: Vec<ExportNote>,
}

/// Why one tool was exported differently than asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportNote {
    /// The portable name.
    pub tool: String,
    /// The canonical id.
    pub id: String,
    /// What and why.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ParamLocation, Parameter};

    fn integration() -> IntegrationDef {
        let mut def = IntegrationDef::new("slack", "Slack");
        let mut post = ActionDef::new("chat.postMessage", "POST", "/chat.postMessage");
        post.input_schema = json!({
            "type": "object",
            "properties": {"token": {"type": "string"}, "channel": {"type": "string"}},
            "required": ["token", "channel"]
        });
        let mut token = Parameter::new("token", ParamLocation::Query);
        token.credential = true;
        post.parameters.push(token);
        post.output_schema = Some(
            json!({"type": "array", "items": {"$ref": "#/$defs/M"}, "$defs": {"M": {"type": "string"}}}),
        );
        let mut delete = ActionDef::new("chat_delete", "DELETE", "/chat.delete");
        delete.input_schema = json!({"type": "object", "properties": {}});
        let list = ActionDef::new("conversations_list", "GET", "/conversations.list");
        def.actions = vec![post, delete, list];
        def
    }

    #[test]
    fn tools_are_sorted_found_by_name_or_id_and_carry_no_credential_field() {
        let def = integration();
        let set = ToolSet::build([&def]).unwrap();
        let names: Vec<&str> = set.tools().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "slack__chat__postMessage",
                "slack__chat_delete",
                "slack__conversations_list"
            ]
        );
        let post = set.get("slack.chat.postMessage").unwrap();
        assert_eq!(set.get("slack__chat__postMessage"), Some(post));
        assert_eq!(
            post.input_schema["properties"],
            json!({"channel": {"type": "string"}})
        );
        assert_eq!(post.input_schema["required"], json!(["channel"]));
        assert!(post.output_wrapped);
        assert_eq!(
            post.output_schema.as_ref().unwrap()["$defs"]["M"],
            json!({"type": "string"})
        );
        assert_eq!(
            post.structured(json!(["a"])),
            Some(json!({"result": ["a"]}))
        );
        assert_eq!(set.position_after("slack__chat__postMessage"), 1);
    }

    #[test]
    fn an_output_schema_that_refers_to_an_object_is_not_wrapped() {
        let mut def = IntegrationDef::new("pets", "Pets");
        let mut show = ActionDef::new("show", "GET", "/pets/{id}");
        show.output_schema = Some(
            json!({"$ref": "#/$defs/Pet", "$defs": {"Pet": {"type": "object", "properties": {"id": {"type": "integer"}}}}}),
        );
        def.actions = vec![show];
        let set = ToolSet::build([&def]).unwrap();
        let tool = set.get("pets.show").unwrap();
        assert!(!tool.output_wrapped);
        assert_eq!(
            tool.output_schema.as_ref().unwrap()["type"],
            json!("object")
        );
        assert_eq!(tool.structured(json!({"id": 1})), Some(json!({"id": 1})));
    }

    #[test]
    fn hints_follow_method_and_metadata() {
        let def = integration();
        let set = ToolSet::build([&def]).unwrap();
        let h = |id| set.get(id).unwrap().hints;
        assert!(h("slack.conversations_list").read_only_hint);
        assert!(h("slack.chat_delete").destructive_hint && h("slack.chat_delete").idempotent_hint);
        let post = h("slack.chat.postMessage");
        assert!(!post.read_only_hint && !post.destructive_hint && !post.idempotent_hint);
        let mut search = ActionDef::new("search", "POST", "/search");
        search.metadata.insert("sideEffects".into(), json!(false));
        assert!(Hints::of(&search).read_only_hint);
    }

    #[test]
    fn collisions_fail_loudly() {
        let mut def = IntegrationDef::new("a", "A");
        def.actions = vec![
            ActionDef::new("b c", "GET", "/1"),
            ActionDef::new("b_c", "GET", "/2"),
        ];
        let e = ToolSet::build([&def]).unwrap_err();
        assert_eq!(e.name, "a__b_c");
        assert!(e.to_string().contains("'a.b c'") && e.to_string().contains("'a.b_c'"));
    }

    #[test]
    fn formats_parse_and_shape() {
        assert_eq!(
            "openai-responses".parse::<ToolFormat>(),
            Ok(ToolFormat::OpenAiResponses)
        );
        assert!(
            "langchain"
                .parse::<ToolFormat>()
                .unwrap_err()
                .to_string()
                .contains("langchain")
        );
        let def = integration();
        let set = ToolSet::build([&def]).unwrap();
        let openai = set.export(ToolFormat::OpenAi, true);
        assert_eq!(openai.tools[0]["function"]["strict"], json!(true));
        assert_eq!(
            openai.tools[0]["function"]["parameters"]["additionalProperties"],
            json!(false)
        );
        // `{type: object}` without properties takes any object: not strict.
        assert_eq!(openai.tools[2]["function"]["strict"], json!(false));
        assert_eq!(openai.notes.len(), 1);
        assert!(
            openai.notes[0].message.contains("free-form object"),
            "{:?}",
            openai.notes
        );
        let anthropic = set.export(ToolFormat::Anthropic, false);
        assert!(anthropic.tools[0].get("strict").is_none());
        assert_eq!(
            anthropic.tools[0]["input_schema"]["required"],
            json!(["channel"])
        );
        let gemini = set.export(ToolFormat::Gemini, false);
        assert_eq!(gemini.tools[0]["parameters"]["type"], json!("OBJECT"));
        assert!(gemini.tools[1].get("parameters").is_none());
        let mcp = set.export(ToolFormat::Mcp, false);
        assert_eq!(
            mcp.tools[0]["_meta"][META_ID],
            json!("slack.chat.postMessage")
        );
        assert_eq!(mcp.tools[1]["annotations"]["destructiveHint"], json!(true));
    }
}
