//! OpenAI-compatible chat completions with a JSON-schema response format
//! (OpenAI, llama.cpp's server, vLLM, Ollama).

use serde_json::{Value, json};

use super::{LlmError, LlmProvider, Target, Task, fail, post};

const NAME: &str = "openai-compatible";

/// OpenAI-compatible chat completions with a JSON-schema response format.
pub struct OpenAiCompatible {
    target: Target,
    api_key: Option<String>,
}

impl OpenAiCompatible {
    /// A provider at `base_url` (e.g. `https://api.openai.com/v1`, or
    /// `http://127.0.0.1:8081/v1` for llama.cpp) using `client`, which the caller
    /// builds with its timeout.
    pub fn new(
        client: reqwest::Client,
        base_url: impl Into<String>,
        model: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        Self {
            target: Target::new(client, base_url, model),
            api_key,
        }
    }
}

#[async_trait::async_trait]
impl LlmProvider for OpenAiCompatible {
    fn name(&self) -> &str {
        NAME
    }

    async fn ask(&self, task: &Task) -> Result<Value, LlmError> {
        let body = json!({
            "model": self.target.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": task.instructions},
                {"role": "user", "content": task.user}
            ],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": task.name, "strict": true, "schema": task.schema
            }}
        });
        let mut request = self
            .target
            .client
            .post(format!("{}/chat/completions", self.target.base_url))
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let envelope = post(NAME, request).await?;
        let content = envelope
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(NAME, "the answer has no choices[0].message.content"))?;
        serde_json::from_str(content)
            .map_err(|e| fail(NAME, format!("the model's answer is not JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::super::output_schema;
    use super::super::testing::{only, vendor};
    use super::*;

    fn provider(base: &str) -> OpenAiCompatible {
        OpenAiCompatible::new(
            reqwest::Client::new(),
            format!("{base}/v1"),
            "qwen",
            Some("sk-test".into()),
        )
    }

    #[tokio::test]
    async fn sends_the_json_schema_request_and_reads_the_answer() {
        let content = json!({"actions": [{"method": "GET", "path": "/users/{id}", "summary": "Get a user",
            "parameters": [{"name": "id", "in": "path", "required": true}]}]});
        let (base, seen) = vendor(
            "/v1/chat/completions",
            StatusCode::OK,
            json!({"choices": [{"message": {"role": "assistant", "content": content.to_string()}}]}),
        )
        .await;
        let actions = provider(&base)
            .extract("http://d/x", "GET /users/{id}")
            .await
            .unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].path, "/users/{id}");
        assert_eq!(actions[0].parameters[0].location, "path");
        let (headers, body) = only(&seen);
        assert_eq!(headers["authorization"], "Bearer sk-test");
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
        for (status, answer) in [
            (
                StatusCode::OK,
                json!({"choices": [{"message": {"content": "not json at all"}}]}),
            ),
            (
                StatusCode::OK,
                json!({"choices": [{"message": {"content": "{\"actions\": [{\"verb\": 1}]}"}}]}),
            ),
            (StatusCode::OK, json!({"error": "overloaded"})),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "overloaded"}),
            ),
        ] {
            let (base, _) = vendor("/v1/chat/completions", status, answer).await;
            let err = provider(&base)
                .extract("http://d/x", "text")
                .await
                .unwrap_err();
            assert_eq!(err.provider, NAME);
        }
    }
}
