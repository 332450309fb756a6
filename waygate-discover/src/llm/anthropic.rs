//! Anthropic: the Messages API with one tool whose `input_schema` is
//! [`output_schema`] and `tool_choice` forcing it, so the answer is the tool
//! call's `input`; authenticated with `x-api-key` and `anthropic-version`.

use serde_json::{Value, json};

use super::{LlmError, LlmProvider, Target, Task, fail, post};

const NAME: &str = "anthropic";

/// The Messages API version sent.
const API_VERSION: &str = "2023-06-01";

/// Output tokens per answer at most: room for the extraction schema's 20 actions.
const MAX_TOKENS: u32 = 4096;

/// Anthropic's Messages API with a tool for structured output.
pub struct Anthropic {
    target: Target,
    api_key: String,
}

impl Anthropic {
    /// A provider at `base_url` (`https://api.anthropic.com`) using `client`,
    /// which the caller builds with its timeout.
    pub fn new(
        client: reqwest::Client,
        base_url: impl Into<String>,
        model: impl Into<String>,
        api_key: String,
    ) -> Self {
        Self {
            target: Target::new(client, base_url, model),
            api_key,
        }
    }
}

#[async_trait::async_trait]
impl LlmProvider for Anthropic {
    fn name(&self) -> &str {
        NAME
    }

    async fn ask(&self, task: &Task) -> Result<Value, LlmError> {
        let body = json!({
            "model": self.target.model,
            "max_tokens": MAX_TOKENS,
            "temperature": 0,
            "system": task.instructions,
            "messages": [{"role": "user", "content": task.user}],
            "tools": [{
                "name": task.name,
                "description": task.purpose,
                "input_schema": task.schema,
            }],
            "tool_choice": {"type": "tool", "name": task.name},
        });
        let request = self
            .target
            .client
            .post(format!("{}/v1/messages", self.target.base_url))
            .header("x-api-key", &self.api_key)
            .header("anthropic-version", API_VERSION)
            .json(&body);
        let envelope = post(NAME, request).await?;
        match envelope.get("stop_reason").and_then(Value::as_str) {
            Some("tool_use") => {}
            Some(other) => return Err(fail(NAME, format!("the answer stopped with {other}"))),
            None => return Err(fail(NAME, "the answer has no stop_reason")),
        }
        let input = envelope
            .get("content")
            .and_then(Value::as_array)
            .and_then(|blocks| {
                blocks.iter().find(|b| {
                    b.get("type").and_then(Value::as_str) == Some("tool_use")
                        && b.get("name").and_then(Value::as_str) == Some(task.name)
                })
            })
            .and_then(|b| b.get("input"))
            .ok_or_else(|| fail(NAME, format!("the answer has no {} tool call", task.name)))?;
        Ok(input.clone())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::super::testing::{only, vendor};
    use super::super::{EXTRACT_TOOL as TOOL, PROMPT, output_schema};
    use super::*;

    fn provider(base: &str) -> Anthropic {
        Anthropic::new(reqwest::Client::new(), base, "claude-test", "a-key".into())
    }

    fn message(stop: &str, content: Value) -> Value {
        json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test",
            "content": content, "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": 100, "output_tokens": 40}})
    }

    #[tokio::test]
    async fn forces_the_tool_and_reads_its_input() {
        let input = json!({"actions": [{"method": "POST", "path": "/v1/charges", "summary": "Create a charge",
            "parameters": [{"name": "amount", "in": "body", "required": true}]}]});
        let (base, seen) = vendor(
            "/v1/messages",
            StatusCode::OK,
            message(
                "tool_use",
                json!([
                    {"type": "text", "text": "Recording them."},
                    {"type": "tool_use", "id": "toolu_01", "name": TOOL, "input": input}
                ]),
            ),
        )
        .await;
        let actions = provider(&base)
            .extract("http://d/x", "POST /v1/charges")
            .await
            .unwrap();
        assert_eq!(actions[0].path, "/v1/charges");
        assert!(actions[0].parameters[0].required);
        let (headers, body) = only(&seen);
        assert_eq!(headers["x-api-key"], "a-key");
        assert_eq!(headers["anthropic-version"], API_VERSION);
        assert!(headers.get("authorization").is_none());
        assert_eq!(body["model"], "claude-test");
        assert!(body["max_tokens"].as_u64().unwrap() > 0);
        assert_eq!(body["system"], PROMPT);
        assert_eq!(body["tools"][0]["name"], TOOL);
        assert_eq!(body["tools"][0]["input_schema"], output_schema());
        assert_eq!(body["tool_choice"], json!({"type": "tool", "name": TOOL}));
        assert_eq!(body["messages"][0]["role"], "user");
    }

    #[tokio::test]
    async fn cut_refused_and_failed_answers_are_errors() {
        for (status, answer, says) in [
            (
                StatusCode::OK,
                message(
                    "max_tokens",
                    json!([{"type": "tool_use", "id": "t", "name": TOOL,
                "input": {"actions": []}}]),
                ),
                "max_tokens",
            ),
            (
                StatusCode::OK,
                message("tool_use", json!([{"type": "text", "text": "no"}])),
                "no record_endpoints",
            ),
            (
                StatusCode::OK,
                message(
                    "tool_use",
                    json!([{"type": "tool_use", "id": "t", "name": TOOL,
                "input": {"actions": [{"verb": 1}]}}]),
                ),
                "does not fit",
            ),
            (
                StatusCode::from_u16(529).unwrap(),
                json!({"type": "error", "error": {"type": "overloaded_error"}}),
                "529",
            ),
        ] {
            let (base, _) = vendor("/v1/messages", status, answer).await;
            let err = provider(&base)
                .extract("http://d/x", "text")
                .await
                .unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
            assert!(!err.to_string().contains("a-key"));
        }
    }
}
