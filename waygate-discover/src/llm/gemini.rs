//! Google Gemini: `models/{model}:generateContent` with `responseMimeType:
//! application/json` and a `responseSchema`, the OpenAPI-subset form of
//! [`output_schema`] (upper-case types, no `additionalProperties`, property order
//! given), authenticated with `x-goog-api-key`.

use serde_json::{Map, Value, json};

use super::{LlmError, LlmProvider, Target, Task, fail, post};

const NAME: &str = "gemini";

/// The model used when none is configured (the product specification's default).
pub(super) const DEFAULT_MODEL: &str = "gemini-3-flash";

/// Gemini's `generateContent` with a response schema.
pub struct Gemini {
    target: Target,
    api_key: String,
}

impl Gemini {
    /// A provider at `base_url` (`https://generativelanguage.googleapis.com/v1beta`)
    /// using `client`, which the caller builds with its timeout.
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

/// A JSON Schema of the shape [`output_schema`] uses, in Gemini's Schema form.
fn response_schema(schema: &Value) -> Value {
    let Value::Object(fields) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "additionalProperties" => {}
            "type" => {
                out.insert(
                    key.clone(),
                    json!(value.as_str().unwrap_or("").to_ascii_uppercase()),
                );
            }
            "properties" => {
                let props = value
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| (k.clone(), response_schema(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(key.clone(), response_schema(value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    // The schema's fields in the order the prompt names them.
    if let Some(required) = fields.get("required") {
        out.insert("propertyOrdering".into(), required.clone());
    }
    Value::Object(out)
}

#[async_trait::async_trait]
impl LlmProvider for Gemini {
    fn name(&self) -> &str {
        NAME
    }

    async fn ask(&self, task: &Task) -> Result<Value, LlmError> {
        let body = json!({
            "systemInstruction": {"parts": [{"text": task.instructions}]},
            "contents": [{"role": "user", "parts": [{"text": task.user}]}],
            "generationConfig": {
                "temperature": 0,
                "responseMimeType": "application/json",
                "responseSchema": response_schema(&task.schema),
            }
        });
        let request = self
            .target
            .client
            .post(format!(
                "{}/models/{}:generateContent",
                self.target.base_url, self.target.model
            ))
            .header("x-goog-api-key", &self.api_key)
            .json(&body);
        let envelope = post(NAME, request).await?;
        if let Some(reason) = envelope
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            return Err(fail(NAME, format!("the prompt was blocked ({reason})")));
        }
        let candidate = envelope
            .pointer("/candidates/0")
            .ok_or_else(|| fail(NAME, "the answer has no candidates"))?;
        match candidate.get("finishReason").and_then(Value::as_str) {
            None | Some("STOP") => {}
            Some(other) => return Err(fail(NAME, format!("the answer ended with {other}"))),
        }
        let text: String = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        serde_json::from_str(&text)
            .map_err(|e| fail(NAME, format!("the model's answer is not JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::super::PROMPT;
    use super::super::testing::{only, vendor};
    use super::*;

    const ROUTE: &str = "/v1beta/models/gemini-3-flash:generateContent";

    fn provider(base: &str) -> Gemini {
        Gemini::new(
            reqwest::Client::new(),
            format!("{base}/v1beta"),
            DEFAULT_MODEL,
            "g-key".into(),
        )
    }

    /// No `additionalProperties` anywhere, and every `type` upper case.
    fn gemini_shaped(schema: &Value) -> bool {
        match schema {
            Value::Object(m) => {
                !m.contains_key("additionalProperties")
                    && m.get("type")
                        .is_none_or(|t| t.as_str().is_some_and(|t| t == t.to_ascii_uppercase()))
                    && m.iter().all(|(k, v)| k == "enum" || gemini_shaped(v))
            }
            Value::Array(items) => items.iter().all(gemini_shaped),
            _ => true,
        }
    }

    #[tokio::test]
    async fn sends_a_response_schema_and_reads_the_candidate() {
        let output = json!({"actions": [{"method": "DELETE", "path": "/users/{id}", "summary": "Delete a user",
            "parameters": [{"name": "id", "in": "path", "required": true}]}]});
        let text = output.to_string();
        let (head, tail) = text.split_at(text.len() / 2);
        let (base, seen) = vendor(
            ROUTE,
            StatusCode::OK,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": head}, {"text": tail}]},
                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30}}),
        )
        .await;
        let actions = provider(&base)
            .extract("http://d/x", "DELETE /users/{id}")
            .await
            .unwrap();
        assert_eq!(actions[0].method, "DELETE");
        let (headers, body) = only(&seen);
        assert_eq!(headers["x-goog-api-key"], "g-key");
        assert!(headers.get("authorization").is_none());
        let config = &body["generationConfig"];
        assert_eq!(config["responseMimeType"], "application/json");
        let schema = &config["responseSchema"];
        assert!(gemini_shaped(schema), "{schema}");
        assert_eq!(schema["type"], "OBJECT");
        assert_eq!(
            schema["properties"]["actions"]["items"]["propertyOrdering"],
            json!(["method", "path", "summary", "parameters"])
        );
        assert_eq!(
            schema["properties"]["actions"]["items"]["properties"]["method"]["enum"][0],
            "GET"
        );
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], PROMPT);
        assert_eq!(body["contents"][0]["role"], "user");
        assert!(
            body["contents"][0]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .contains("DELETE /users/{id}")
        );
    }

    #[tokio::test]
    async fn blocked_cut_and_failed_answers_are_errors() {
        for (status, answer, says) in [
            (
                StatusCode::OK,
                json!({"promptFeedback": {"blockReason": "SAFETY"}}),
                "blocked (SAFETY)",
            ),
            (
                StatusCode::OK,
                json!({"candidates": [{"content": {"parts": [{"text": "{\"actions\": ["}]},
                "finishReason": "MAX_TOKENS"}]}),
                "MAX_TOKENS",
            ),
            (
                StatusCode::OK,
                json!({"candidates": [{"content": {"parts": [{"text": "sure!"}]}}]}),
                "not JSON",
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}),
                "429",
            ),
        ] {
            let (base, _) = vendor(ROUTE, status, answer).await;
            let err = provider(&base)
                .extract("http://d/x", "text")
                .await
                .unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
            assert!(!err.to_string().contains("g-key"));
        }
    }
}
