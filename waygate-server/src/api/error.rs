//! Every error answer of the gateway, in the one shape of DESIGN.md §4.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use waygate_core::error::ErrorKind as CoreKind;

/// An error answer: HTTP status, stable code, message, details and what to do.
/// Boxed: handlers return it in every `Result`, which stays one pointer wide.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
    resolution: Value,
    retry_after_ms: Option<u64>,
    request_id: Option<String>,
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
        action: &str,
        description: &str,
    ) -> Self {
        Self(Box::new(Inner {
            status,
            code,
            message: message.into(),
            details: json!({}),
            resolution: json!({
                "action": action,
                "description": description,
                "retryable": false,
                "retryAfterMs": null,
            }),
            retry_after_ms: None,
            request_id: None,
        }))
    }

    /// 400: the request is malformed or breaks a rule; the message says which.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            message,
            "RETRY_WITH_MODIFIED_INPUT",
            "fix the request as the message says and send it again",
        )
    }

    /// 401: no valid gateway API key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            message,
            "ESCALATE_TO_ADMIN",
            "send a valid key as 'Authorization: Bearer wg_live_…'",
        )
    }

    /// 403: authenticated, but not allowed to do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            message,
            "ESCALATE_TO_ADMIN",
            "this needs the operator key or another tenant's key",
        )
    }

    /// 404: nothing of the caller's has this name (another tenant's things are
    /// not found either).
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
            "CHECK_INTEGRATION_CONFIG",
            "check the names and ids in the path",
        )
    }

    /// 409: it conflicts with what exists.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "CONFLICT",
            message,
            "RETRY_WITH_MODIFIED_INPUT",
            "choose another slug or name, or update the existing one",
        )
    }

    /// 429: the tenant's gateway budget is spent for now.
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "too many requests for this tenant",
            "RETRY_AFTER_DELAY",
            "wait for the time in Retry-After, then send again",
        )
        .retryable_after(retry_after_ms)
    }

    /// 429: the tenant has as many jobs queued or running as it may; one
    /// may start after `retry_after_ms`.
    pub fn too_many_jobs(message: impl Into<String>, retry_after_ms: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            message,
            "RETRY_AFTER_DELAY",
            "wait for a job to finish (or cancel one), then send again",
        )
        .retryable_after(retry_after_ms)
    }

    /// 503: the gateway has no room for this request now; it may be sent again
    /// after `retry_after`.
    pub fn busy(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_BUSY",
            message,
            "RETRY_AFTER_DELAY",
            "wait for the time in Retry-After, then send again",
        )
        .retryable_after(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX))
    }

    /// 413: the body is larger than the gateway accepts.
    pub fn too_large_text(detail: String) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than the gateway accepts ({detail})"),
            "RETRY_WITH_MODIFIED_INPUT",
            "send a smaller body",
        )
    }

    /// 405: the route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "this route does not take this method",
            "CHECK_INTEGRATION_CONFIG",
            "see /api/v1/openapi.json for the methods of each route",
        )
    }

    /// 408: the request's body did not arrive within the time allowed.
    pub fn request_timeout(limit: std::time::Duration) -> Self {
        let mut e = Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!(
                "the request body did not arrive within {} s",
                limit.as_secs()
            ),
            "RETRY_WITH_MODIFIED_INPUT",
            "send the whole body at once, or a smaller one",
        );
        e.0.details = json!({"limitSeconds": limit.as_secs()});
        e
    }

    /// 500: a bug; the details are in the server log.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "the gateway failed to answer",
            "ESCALATE_TO_ADMIN",
            "tell the operator, with the x-request-id of this answer",
        )
    }

    /// 503: the store failed; the cause goes to the server log, not the answer.
    pub fn unavailable(context: &str, cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %crate::app::causes(cause), "{context}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
            format!("{context} failed: storage is unavailable"),
            "RETRY_AFTER_DELAY",
            "try again shortly; tell the operator if it persists",
        )
    }

    /// Retryable after `retry_after_ms`: in the details, the resolution and
    /// the `Retry-After` header.
    fn retryable_after(mut self, retry_after_ms: u64) -> Self {
        self.0.details = json!({"retryAfterMs": retry_after_ms});
        self.0.resolution["retryable"] = json!(true);
        self.0.resolution["retryAfterMs"] = json!(retry_after_ms);
        self.0.retry_after_ms = Some(retry_after_ms);
        self
    }

    /// Adds structured details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.0.details = details;
        self
    }

    /// The message for people (the dashboard shows it on its pages, scrape
    /// jobs keep it).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.0.code
    }
}

/// The gateway's HTTP status for an engine error (DESIGN.md §4).
fn status_of(e: &waygate_core::Error) -> StatusCode {
    match e.kind() {
        CoreKind::NotFound { .. } => StatusCode::NOT_FOUND,
        CoreKind::InvalidInput { .. } | CoreKind::InvalidDefinition(_) => StatusCode::BAD_REQUEST,
        // The integration or connection needs fixing, not the call's input.
        CoreKind::Config { .. } | CoreKind::Credentials { .. } => StatusCode::CONFLICT,
        CoreKind::UrlRefused { .. } => StatusCode::FORBIDDEN,
        CoreKind::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        CoreKind::CircuitOpen { .. } | CoreKind::Storage { .. } => StatusCode::SERVICE_UNAVAILABLE,
        CoreKind::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        // An upstream answer that breaks the output schema in strict mode.
        CoreKind::ResponseValidation { .. } => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_GATEWAY,
    }
}

impl From<waygate_core::Error> for ApiError {
    fn from(e: waygate_core::Error) -> Self {
        let resolution = serde_json::to_value(e.suggested_resolution()).unwrap_or(Value::Null);
        Self(Box::new(Inner {
            status: status_of(&e),
            code: e.code(),
            message: e.to_string(),
            details: e.details(),
            retry_after_ms: e.retry_after().map(|d| d.as_millis() as u64),
            request_id: e.meta().map(|m| m.request_id.clone()),
            resolution,
        }))
    }
}

impl From<waygate_core::model::FormatError> for ApiError {
    fn from(e: waygate_core::model::FormatError) -> Self {
        Self::bad_request(format!("the definition cannot be read: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = *self.0;
        let body = json!({"error": {
            "code": e.code,
            "message": e.message,
            "details": e.details,
            "requestId": e.request_id,
            "suggestedResolution": e.resolution,
        }});
        let mut response = (e.status, axum::Json(body)).into_response();
        if let Some(ms) = e.retry_after_ms {
            let secs = ms.div_ceil(1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Maps a store error: not found and conflict keep their meaning, the rest is 503.
pub fn store_error(context: &str, e: &waygate_store::Error) -> ApiError {
    match e.kind() {
        waygate_store::ErrorKind::NotFound => ApiError::not_found(context),
        waygate_store::ErrorKind::Conflict => {
            ApiError::conflict(format!("{context}: it conflicts with an existing one"))
        }
        waygate_store::ErrorKind::Config => ApiError::bad_request(format!("{context}: {e}")),
        _ => ApiError::unavailable(context, e),
    }
}
