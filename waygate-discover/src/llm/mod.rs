//! Extraction with an LLM: the [`LlmProvider`] trait and three providers, each
//! asked for JSON that follows [`output_schema`] in its vendor's structured-output
//! form (decision 74):
//!
//! - [`OpenAiCompatible`] (`openai.rs`): chat completions with
//!   `response_format: json_schema` (OpenAI, llama.cpp's server, vLLM, Ollama);
//! - [`Gemini`] (`gemini.rs`): `generateContent` with `responseSchema`;
//! - [`Anthropic`] (`anthropic.rs`): messages with one tool whose input is the schema,
//!   and `tool_choice` forcing it.
//!
//! They share the prompt, the schema, the one HTTP exchange ([`post`]: bounded
//! answer, errors without URLs or keys) and the reading of the answer ([`answer`]);
//! chunking and merging happen once, in `discover`, whichever provider runs.
//!
//! Pages are cut into chunks of at most [`MAX_CHUNK_CHARS`] at block boundaries;
//! every string and array in the schema is bounded so an answer always ends. An
//! answer that is not JSON of that shape is an error for that chunk, never a
//! panic; `discover` turns errors into warnings and keeps the heuristic result.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::text::{Block, Doc};

mod anthropic;
mod gemini;
mod openai;
#[cfg(test)]
pub(crate) mod testing;

pub use anthropic::Anthropic;
pub use gemini::Gemini;
pub use openai::OpenAiCompatible;

/// Characters per chunk (about 1,500 tokens).
pub const MAX_CHUNK_CHARS: usize = 6_000;

/// One action as the model reports it (the schema's fields, flat).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LlmAction {
    /// HTTP method.
    pub method: String,
    /// Path, placeholders in any style.
    pub path: String,
    /// One-line summary.
    #[serde(default)]
    pub summary: String,
    /// Documented parameters.
    #[serde(default)]
    pub parameters: Vec<LlmParameter>,
}

/// A parameter as the model reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LlmParameter {
    /// Its name.
    pub name: String,
    /// `path`, `query`, `header` or `body`.
    #[serde(rename = "in")]
    pub location: String,
    /// Whether it is required.
    #[serde(default)]
    pub required: bool,
}

#[derive(Deserialize)]
struct Answer {
    actions: Vec<LlmAction>,
}

/// Why a chunk got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct LlmError {
    /// The provider's name.
    pub provider: String,
    /// What went wrong.
    pub message: String,
}

/// One structured question to a model: instructions, the user's text, and the
/// JSON Schema the answer must follow. Each provider sends it in its vendor's
/// structured-output form.
#[derive(Debug, Clone)]
pub struct Task {
    /// The schema's name (OpenAI's `json_schema.name`, Anthropic's tool name).
    pub name: &'static str,
    /// What answering records (Anthropic's tool description).
    pub purpose: &'static str,
    /// The system prompt.
    pub instructions: &'static str,
    /// The user message.
    pub user: String,
    /// The JSON Schema of the answer; bounded everywhere.
    pub schema: Value,
}

/// The schema name (and Anthropic tool) of extraction.
pub const EXTRACT_TOOL: &str = "record_endpoints";

/// A model that answers structured questions about documentation.
#[async_trait::async_trait]
pub trait LlmProvider: Send + Sync {
    /// A short name for messages (`openai-compatible`).
    fn name(&self) -> &str;

    /// The model's answer to `task`: JSON that should follow `task.schema`
    /// (callers check it).
    ///
    /// # Errors
    /// [`LlmError`] for transport failures, error statuses, refusals and answers
    /// that are not JSON.
    async fn ask(&self, task: &Task) -> Result<Value, LlmError>;

    /// The actions documented in `text` (one chunk of the page at `url`).
    ///
    /// # Errors
    /// As [`LlmProvider::ask`], and for answers that are not JSON of
    /// [`output_schema`]'s shape.
    async fn extract(&self, url: &str, text: &str) -> Result<Vec<LlmAction>, LlmError> {
        let task = Task {
            name: EXTRACT_TOOL,
            purpose: "Records the HTTP endpoints the documentation declares.",
            instructions: PROMPT,
            user: user_text(url, text),
            schema: output_schema(),
        };
        answer(self.name(), self.ask(&task).await?)
    }
}

/// The JSON Schema the model's answer must follow; bounded everywhere.
pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["actions"],
        "properties": {"actions": {"type": "array", "maxItems": 20, "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["method", "path", "summary", "parameters"],
            "properties": {
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]},
                "path": {"type": "string", "maxLength": 200},
                "summary": {"type": "string", "maxLength": 200},
                "parameters": {"type": "array", "maxItems": 20, "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "in", "required"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 64},
                        "in": {"type": "string", "enum": ["path", "query", "header", "body"]},
                        "required": {"type": "boolean"}
                    }
                }}
            }
        }}}
    })
}

/// The instructions every provider sends (as its system prompt).
const PROMPT: &str = "You read API documentation and list the HTTP endpoints it documents. \
For each endpoint give: method (upper case), path (as documented, without host or query), \
summary (one line), parameters (each with name, in: path|query|header|body, required). \
List only endpoints the text declares, not example requests with sample values. \
Answer with JSON only: {\"actions\": [...]}. An empty list when there are none.";

/// Where a provider sends: its client (built by the caller with its timeout),
/// base URL (no trailing slash) and model.
struct Target {
    client: reqwest::Client,
    base_url: String,
    model: String,
}

impl Target {
    fn new(client: reqwest::Client, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            client,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            model: model.into(),
        }
    }
}

/// Model answers larger than this are refused.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The user message for one chunk.
fn user_text(url: &str, text: &str) -> String {
    format!("Page: {url}\n\n{text}")
}

/// An error of `provider` saying `message`.
pub(crate) fn fail(provider: &str, message: impl Into<String>) -> LlmError {
    LlmError {
        provider: provider.to_owned(),
        message: message.into(),
    }
}

/// Sends one request; the answer's JSON. Errors name the status or what was
/// wrong, never the URL or a key.
async fn post(provider: &str, request: reqwest::RequestBuilder) -> Result<Value, LlmError> {
    let response = request.send().await.map_err(|e| {
        fail(
            provider,
            if e.is_timeout() {
                "timed out"
            } else {
                "request failed"
            },
        )
    })?;
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(fail(provider, "the answer is too large"));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|_| fail(provider, "the answer could not be read"))?;
    if !status.is_success() {
        return Err(fail(provider, format!("HTTP {status}")));
    }
    if bytes.len() > MAX_ANSWER_BYTES {
        return Err(fail(provider, "the answer is too large"));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| fail(provider, format!("the answer is not JSON: {e}")))
}

/// The actions in the model's structured output.
fn answer(provider: &str, output: Value) -> Result<Vec<LlmAction>, LlmError> {
    serde_json::from_value::<Answer>(output)
        .map(|a| a.actions)
        .map_err(|e| {
            fail(
                provider,
                format!("the model's JSON does not fit the schema: {e}"),
            )
        })
}

/// A page's text in chunks of at most [`MAX_CHUNK_CHARS`], cut at block boundaries
/// (a longer block is cut on its own). At most `max_chunks`.
pub fn chunks(doc: &Doc, max_chunks: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for block in &doc.blocks {
        let text = match block {
            Block::Heading { level, text } => {
                format!("{} {text}", "#".repeat(usize::from(*level)))
            }
            Block::Paragraph(t) => t.clone(),
            Block::Item(t) => format!("- {t}"),
            Block::Code(t) => format!("```\n{t}\n```"),
            Block::Table(rows) => rows
                .iter()
                .map(|r| format!("| {} |", r.join(" | ")))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        if current.len() + text.len() + 2 > MAX_CHUNK_CHARS && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        let mut rest = text.as_str();
        while rest.len() > MAX_CHUNK_CHARS {
            let mut end = MAX_CHUNK_CHARS;
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(rest);
        if out.len() >= max_chunks {
            break;
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out.truncate(max_chunks);
    out
}

/// The timeout the README of the local model asks clients to allow.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A provider from configuration (`WAYGATE_LLM_PROVIDER`, `…_BASE_URL`, `…_MODEL`,
/// `…_API_KEY`): `openai` (or `openai-compatible`; any OpenAI-compatible server,
/// the model is needed), `gemini` (the model defaults to `gemini-3-flash`) or
/// `anthropic` (the model is needed); the base URL defaults to the vendor's public
/// API, and the cloud vendors need a key. The endpoint is the operator's own choice,
/// so it is not put under the outbound URL policy (a local model listens on loopback).
///
/// # Errors
/// An unknown provider, a missing model or key, a base URL that is not http(s).
pub fn configure(
    provider: &str,
    base_url: Option<&str>,
    model: Option<&str>,
    api_key: Option<String>,
) -> Result<std::sync::Arc<dyn LlmProvider>, String> {
    let kind = provider.to_ascii_lowercase();
    let default_base = match kind.as_str() {
        "openai" | "openai-compatible" => "https://api.openai.com/v1",
        "gemini" => "https://generativelanguage.googleapis.com/v1beta",
        "anthropic" => "https://api.anthropic.com",
        other => {
            return Err(format!(
                "WAYGATE_LLM_PROVIDER '{other}' is unknown; use 'openai' (any OpenAI-compatible server), 'gemini' or 'anthropic'"
            ));
        }
    };
    let base = base_url.unwrap_or(default_base);
    let parsed = url::Url::parse(base)
        .map_err(|e| format!("WAYGATE_LLM_BASE_URL '{base}' is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("WAYGATE_LLM_BASE_URL '{base}' is not http(s)"));
    }
    let client = reqwest::Client::builder()
        .timeout(DEFAULT_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build the LLM client: {e}"))?;
    let needs_model = || format!("WAYGATE_LLM_MODEL is needed with WAYGATE_LLM_PROVIDER={kind}");
    let needs_key = || format!("WAYGATE_LLM_API_KEY is needed with WAYGATE_LLM_PROVIDER={kind}");
    Ok(match kind.as_str() {
        "gemini" => std::sync::Arc::new(Gemini::new(
            client,
            base,
            model.unwrap_or(gemini::DEFAULT_MODEL),
            api_key.ok_or_else(needs_key)?,
        )),
        "anthropic" => std::sync::Arc::new(Anthropic::new(
            client,
            base,
            model.ok_or_else(needs_model)?,
            api_key.ok_or_else(needs_key)?,
        )),
        _ => std::sync::Arc::new(OpenAiCompatible::new(
            client,
            base,
            model.ok_or_else(needs_model)?,
            api_key,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_the_budget() {
        let doc = Doc {
            blocks: (0..100)
                .map(|i| Block::Paragraph(format!("{i} {}", "word ".repeat(50))))
                .collect(),
            ..Doc::default()
        };
        let parts = chunks(&doc, 100);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|c| c.len() <= MAX_CHUNK_CHARS));
        assert_eq!(chunks(&doc, 2).len(), 2);
    }

    #[test]
    fn configuration_names_what_is_missing() {
        let err = |p, m: Option<&str>, k: Option<&str>| {
            configure(p, None, m, k.map(str::to_owned))
                .err()
                .unwrap_or_default()
        };
        assert!(err("cohere", None, None).contains("unknown"));
        assert!(err("openai", None, None).contains("WAYGATE_LLM_MODEL"));
        assert!(err("gemini", None, None).contains("WAYGATE_LLM_API_KEY"));
        assert!(err("anthropic", None, Some("k")).contains("WAYGATE_LLM_MODEL"));
        assert!(configure("gemini", None, None, Some("k".into())).is_ok());
        assert_eq!(
            configure("Anthropic", None, Some("claude"), Some("k".into()))
                .unwrap()
                .name(),
            "anthropic"
        );
        assert!(
            configure("openai", Some("ftp://x"), Some("m"), None)
                .err()
                .unwrap_or_default()
                .contains("not http(s)")
        );
    }
}
