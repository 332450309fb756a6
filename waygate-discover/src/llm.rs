//! Extraction with an LLM: the [`LlmProvider`] trait and its OpenAI-compatible
//! chat-completions provider (OpenAI, llama.cpp's server, vLLM, Ollama), asked for
//! JSON that follows [`output_schema`] through `response_format: json_schema`.
//!
//! Pages are cut into chunks of at most [`MAX_CHUNK_CHARS`] at block boundaries;
//! every string and array in the schema is bounded so an answer always ends. An
//! answer that is not JSON of that shape is an error for that chunk, never a
//! panic; `discover` turns errors into warnings and keeps the heuristic result.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::text::{Block, Doc};

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

/// A model that extracts actions from documentation text.
#[async_trait::async_trait]
pub trait LlmProvider: Send + Sync {
    /// A short name for messages (`openai-compatible`).
    fn name(&self) -> &str;
    /// The actions documented in `text` (one chunk of the page at `url`).
    ///
    /// # Errors
    /// [`LlmError`] for transport failures, error statuses and answers that are not
    /// JSON of [`output_schema`]'s shape.
    async fn extract(&self, url: &str, text: &str) -> Result<Vec<LlmAction>, LlmError>;
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

const PROMPT: &str = "You read API documentation and list the HTTP endpoints it documents. \
For each endpoint give: method (upper case), path (as documented, without host or query), \
summary (one line), parameters (each with name, in: path|query|header|body, required). \
List only endpoints the text declares, not example requests with sample values. \
Answer with JSON only: {\"actions\": [...]}. An empty list when there are none.";

/// OpenAI-compatible chat completions with a JSON-schema response format.
pub struct OpenAiCompatible {
    client: reqwest::Client,
    base_url: String,
    model: String,
    api_key: Option<String>,
}

impl OpenAiCompatible {
    /// A provider at `base_url` (e.g. `https://api.openai.com/v1`, or
    /// `http://127.0.0.1:8081/v1` for llama.cpp) using `client`, which the caller
    /// builds with its outbound policy and a timeout.
    pub fn new(
        client: reqwest::Client,
        base_url: impl Into<String>,
        model: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        Self {
            client,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            model: model.into(),
            api_key,
        }
    }

    fn fail(&self, message: impl Into<String>) -> LlmError {
        LlmError {
            provider: self.name().to_owned(),
            message: message.into(),
        }
    }
}

/// Model answers larger than this are refused.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

#[async_trait::async_trait]
impl LlmProvider for OpenAiCompatible {
    fn name(&self) -> &str {
        "openai-compatible"
    }

    async fn extract(&self, url: &str, text: &str) -> Result<Vec<LlmAction>, LlmError> {
        let body = json!({
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": PROMPT},
                {"role": "user", "content": format!("Page: {url}\n\n{text}")}
            ],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "endpoints", "strict": true, "schema": output_schema()
            }}
        });
        let mut request = self
            .client
            .post(format!("{}/chat/completions", self.base_url))
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| {
            self.fail(if e.is_timeout() {
                "timed out".to_owned()
            } else {
                "request failed".to_owned()
            })
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|_| self.fail("the answer could not be read"))?;
        if !status.is_success() {
            return Err(self.fail(format!("HTTP {status}")));
        }
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(self.fail("the answer is too large"));
        }
        let envelope: Value = serde_json::from_slice(&bytes)
            .map_err(|e| self.fail(format!("the answer is not JSON: {e}")))?;
        let content = envelope
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| self.fail("the answer has no choices[0].message.content"))?;
        let answer: Answer = serde_json::from_str(content)
            .map_err(|e| self.fail(format!("the model's JSON does not fit the schema: {e}")))?;
        Ok(answer.actions)
    }
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
/// `…_API_KEY`). `openai` (or `openai-compatible`) is the one implemented; its base
/// URL defaults to OpenAI's. The endpoint is the operator's own choice, so it is not
/// put under the outbound URL policy (a local model listens on loopback).
///
/// # Errors
/// An unknown or unimplemented provider, a missing model, a base URL that is not http(s).
pub fn configure(
    provider: &str,
    base_url: Option<&str>,
    model: Option<&str>,
    api_key: Option<String>,
) -> Result<std::sync::Arc<dyn LlmProvider>, String> {
    match provider.to_ascii_lowercase().as_str() {
        "openai" | "openai-compatible" => {
            let base = base_url.unwrap_or("https://api.openai.com/v1");
            let parsed = url::Url::parse(base)
                .map_err(|e| format!("WAYGATE_LLM_BASE_URL '{base}' is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("WAYGATE_LLM_BASE_URL '{base}' is not http(s)"));
            }
            let model = model.ok_or("WAYGATE_LLM_MODEL is needed with an LLM provider")?;
            let client = reqwest::Client::builder()
                .timeout(DEFAULT_TIMEOUT)
                .build()
                .map_err(|e| format!("cannot build the LLM client: {e}"))?;
            Ok(std::sync::Arc::new(OpenAiCompatible::new(
                client, base, model, api_key,
            )))
        }
        "gemini" | "anthropic" => Err(format!(
            "WAYGATE_LLM_PROVIDER '{provider}' is not implemented yet; use 'openai' (any OpenAI-compatible server)"
        )),
        other => Err(format!(
            "WAYGATE_LLM_PROVIDER '{other}' is unknown; use 'openai' (any OpenAI-compatible server)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Json;
    use axum::http::HeaderMap;
    use axum::routing::post;

    use super::*;

    async fn fake(answer: Value) -> (String, Arc<Mutex<Vec<(Option<String>, Value)>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let log = log.clone();
                let answer = answer.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    log.lock().unwrap().push((auth, body));
                    Json(answer)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/v1"), seen)
    }

    fn provider(base: &str) -> OpenAiCompatible {
        OpenAiCompatible::new(reqwest::Client::new(), base, "qwen", Some("sk-test".into()))
    }

    #[tokio::test]
    async fn sends_the_json_schema_request_and_reads_the_answer() {
        let content = json!({"actions": [{"method": "GET", "path": "/users/{id}", "summary": "Get a user",
            "parameters": [{"name": "id", "in": "path", "required": true}]}]});
        let (base, seen) = fake(json!({"choices": [{"message": {"role": "assistant", "content": content.to_string()}}]})).await;
        let actions = provider(&base)
            .extract("http://d/x", "GET /users/{id}")
            .await
            .unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].path, "/users/{id}");
        assert_eq!(actions[0].parameters[0].location, "path");
        let (auth, body) = seen.lock().unwrap().pop().unwrap();
        assert_eq!(auth.as_deref(), Some("Bearer sk-test"));
        assert_eq!(body["model"], "qwen");
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(
            body["response_format"]["json_schema"]["schema"],
            output_schema()
        );
        assert_eq!(body["messages"][0]["role"], "system");
        assert!(
            body["messages"][1]["content"]
                .as_str()
                .unwrap()
                .contains("GET /users/{id}")
        );
    }

    #[tokio::test]
    async fn nonsense_answers_are_errors() {
        for answer in [
            json!({"choices": [{"message": {"content": "not json at all"}}]}),
            json!({"choices": [{"message": {"content": "{\"actions\": [{\"verb\": 1}]}"}}]}),
            json!({"error": "overloaded"}),
        ] {
            let (base, _) = fake(answer).await;
            let err = provider(&base)
                .extract("http://d/x", "text")
                .await
                .unwrap_err();
            assert_eq!(err.provider, "openai-compatible");
        }
    }

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
}
