//! Invoking actions: `POST /actions/{integration}/{action}` through the engine's
//! pipeline, its dry run (`/test`) and its description (`/schema`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use waygate_core::error::ErrorKind as CoreKind;
use waygate_core::model::RetryConfig;
use waygate_core::pipeline::{Call, CallOptions, FetchAll};

use super::auth::Tenant;
use super::error::{ApiError, ApiResult};
use super::integrations::definition;
use crate::app::AppState;
use crate::ops::metrics::InvocationOutcome;
use crate::ops::request_id::RequestId;

/// The header that skips response validation for one call (DESIGN.md §5);
/// input validation always runs (decision 63).
const BYPASS_VALIDATION: &str = "x-waygate-bypass-validation";

/// Body of an invocation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvokeRequest {
    /// The action's input object.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub input: Value,
    /// The connection's name; `default` when absent.
    #[serde(default)]
    pub connection: Option<String>,
    /// Per-call options.
    #[serde(default)]
    pub options: InvokeOptions,
}

fn empty_object() -> Value {
    json!({})
}

/// Per-call options of an invocation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvokeOptions {
    /// Follow the action's pages into one `data` array, within the limits;
    /// `meta.pagination` says how it went. 400 for an action without pagination.
    #[serde(default)]
    pub fetch_all: bool,
    /// With `fetchAll`: pages at most (default 5, at most 10,000).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_pages: Option<u32>,
    /// With `fetchAll`: items at most (default 500, at most 100,000).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100000)]
    pub max_items: Option<u32>,
    /// With `fetchAll`: characters of the items' JSON at most (default
    /// 100,000, at most 16,777,216); an item larger than this alone is
    /// returned alone.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 16777216)]
    pub max_characters: Option<u64>,
    /// With `fetchAll`: the `meta.pagination.continuation` of an earlier call
    /// with the same action, input and connection; goes on at the next item.
    #[serde(default)]
    pub continuation: Option<String>,
    /// With `fetchAll`: when a page after the first fails, answer 200 with
    /// the items so far and the failure in `meta.pagination.error`, instead
    /// of failing the call.
    #[serde(default)]
    pub partial: bool,
    /// Skip response validation (as the `X-Waygate-Bypass-Validation: true`
    /// header does): the data is returned as the upstream sent it. Input
    /// validation always runs.
    #[serde(default)]
    pub bypass_validation: bool,
    /// Sent as the idempotency header; makes a write safe to retry.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Answer an upstream error with the upstream's own status and body.
    #[serde(default)]
    pub passthrough_errors: bool,
    /// This call's retry settings: the fields given replace the action's
    /// (the last layer: defaults < integration < action < call).
    #[serde(default)]
    #[schema(nullable = false)]
    pub retry: Option<CallRetry>,
    /// Each attempt's timeout for this call, in milliseconds, in place of
    /// the action's (1 to 600,000).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 600000, nullable = false)]
    pub timeout_ms: Option<u64>,
}

/// The longest per-attempt timeout a call may ask for: ten minutes.
const MAX_CALL_TIMEOUT_MS: u64 = 600_000;

/// `options.retry`: the definition format's `retry` fields, for one call.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallRetry {
    /// Attempts in all, the first included (`1` turns retries off).
    #[schema(minimum = 1, maximum = 20, nullable = false)]
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Backoff before the first retry, before jitter.
    #[schema(nullable = false)]
    #[serde(default)]
    pub base_delay_ms: Option<u64>,
    /// Upper bound of one backoff.
    #[schema(nullable = false)]
    #[serde(default)]
    pub max_delay_ms: Option<u64>,
    /// Growth of the backoff per attempt (at least 1).
    #[schema(minimum = 1, nullable = false)]
    #[serde(default)]
    pub factor: Option<f64>,
    /// The longest `Retry-After` waited for; a longer one ends the call.
    #[schema(nullable = false)]
    #[serde(default)]
    pub max_retry_after_ms: Option<u64>,
}

impl CallRetry {
    /// Core's settings, checked by the rule a definition's `retry` follows.
    fn checked(&self) -> ApiResult<RetryConfig> {
        let config = RetryConfig {
            max_attempts: self.max_attempts,
            base_delay_ms: self.base_delay_ms,
            max_delay_ms: self.max_delay_ms,
            factor: self.factor,
            max_retry_after_ms: self.max_retry_after_ms,
        };
        match config.problem() {
            Some((field, message)) => Err(ApiError::bad_request(format!(
                "options.retry.{field} {message}"
            ))),
            None => Ok(config),
        }
    }
}

/// A successful invocation.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvokeResponse {
    /// The upstream's data (any JSON); with `fetchAll`, the array of the
    /// items of all pages fetched.
    #[schema(value_type = Value)]
    pub data: Value,
    /// How the call went.
    pub meta: InvokeMeta,
}

/// `meta` of an invocation (the engine's `InvocationMeta`, as serialised).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvokeMeta {
    /// The invocation's id, sent upstream as `x-request-id`.
    pub request_id: String,
    /// Requests sent upstream, all pages' retries included.
    pub attempts: u32,
    /// Time from start to result.
    pub duration_ms: u64,
    /// The last upstream status, when there was an answer.
    pub upstream_status: Option<u16>,
    /// With `fetchAll`: what following pages did.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<PaginationDoc>,
    /// For an action with `cache: {ttlSeconds}`: whether the answer came
    /// from the response cache.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheDoc>,
    /// Response validation, when the action has an output schema.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationMeta>,
    /// Field mappings skipped (source absent, transform that did not fit),
    /// when any was.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mappings: Option<MappingsMeta>,
}

/// `meta.cache` of a call of a cacheable action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CacheDoc {
    /// Whether the data came from the cache (nothing was sent upstream).
    pub hit: bool,
    /// How old the cached data is, in milliseconds (0 for a fresh answer).
    pub age_ms: u64,
    /// How long the action's answers are kept, in milliseconds.
    pub ttl_ms: u64,
}

/// `meta.pagination` of a `fetchAll` call; also in `error.details.pagination`
/// when a page failed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaginationDoc {
    /// Pages fetched.
    pub pages: u32,
    /// Items returned.
    pub items: u64,
    /// Whether there are more items to fetch (a limit or a failed page cut it).
    pub truncated: bool,
    /// Pass back as `options.continuation` (same action, input and
    /// connection) to go on at the next item.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation: Option<String>,
    /// Why it stopped.
    pub stop_reason: StopReasonDoc,
    /// With `partial`: the failure of the page it stopped at (`code`, `message`).
    #[schema(value_type = Option<Object>, nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// Why following pages stopped.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReasonDoc {
    /// The upstream named no next page.
    Complete,
    /// A page without items.
    EmptyPage,
    /// A page shorter than the page size.
    ShortPage,
    /// A cursor already followed.
    RepeatedCursor,
    /// A URL already followed.
    RepeatedUrl,
    /// The same page twice.
    RepeatedPage,
    /// A next-page URL that does not parse.
    InvalidNextUrl,
    /// `maxPages` reached.
    MaxPages,
    /// `maxItems` reached.
    MaxItems,
    /// `maxCharacters` reached.
    MaxCharacters,
    /// A page failed.
    PageFailed,
}

/// `meta.validation`: what checking the response against the action's
/// output schema found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationMeta {
    /// The action's mode: `strict`, `warn` (default) or `lenient`.
    pub mode: String,
    /// Whether the data returned matches the output schema.
    pub valid: bool,
    /// Why it was not validated: `bypassed`, `not JSON`.
    pub skipped: Option<String>,
    /// Mismatches (`pointer`, `rule`, `expected`, `message`), at most 20.
    #[schema(value_type = Option<Vec<Object>>)]
    pub issues: Option<Vec<Value>>,
    /// What `lenient` changed (`pointer`, `from`, `to`), at most 20.
    #[schema(value_type = Option<Vec<Object>>)]
    pub coerced: Option<Vec<Value>>,
    /// Pointers of the fields `stripUnknown` removed, at most 20.
    pub stripped: Option<Vec<String>>,
    /// Changes beyond those listed.
    pub more_changes: Option<u64>,
    /// Present and `true` when most recent responses of this action break
    /// the schema at the same path (see the integration's health).
    pub drifting: Option<bool>,
}

/// `meta.mappings`: the mappings not applied.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingsMeta {
    /// Each skipped mapping: `direction`, `index`, `pointer`, `reason`; at most 20.
    #[schema(value_type = Vec<Object>)]
    pub skipped: Vec<Value>,
    /// Skipped mappings beyond those listed.
    pub more_skipped: Option<u64>,
}

/// A dry run: the request that would be sent, secrets redacted.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResponse {
    /// Whether the input passed validation.
    pub valid: bool,
    /// Method, URL, headers and body that would be sent.
    #[schema(value_type = Object)]
    pub request: Value,
    /// What a call would do first that the dry run did not (refresh an
    /// expired OAuth2 token, fetch a client-credentials token): a dry run
    /// never calls the provider and never changes the stored credential.
    pub notes: Vec<String>,
}

/// The action's description.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaResponse {
    /// `integration.action`.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// JSON Schema of the input.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    /// JSON Schema of the output, when documented.
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<Value>,
    /// Method, path, group, idempotency, pagination and other binding facts.
    #[schema(value_type = Object)]
    pub metadata: Value,
}

/// An invocation whose request passed the gateway's own checks.
#[derive(Debug)]
pub struct Checked {
    call: Call,
    /// `options.passthroughErrors`.
    passthrough: bool,
}

/// Whether the request carries `X-Waygate-Bypass-Validation: true`: a handler
/// argument that reads the one header where it is (the `HeaderMap` extractor
/// would copy them all, on every invocation).
#[derive(Debug, Clone, Copy, Default)]
pub struct BypassHeader(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for BypassHeader {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(
            parts
                .headers
                .get(BYPASS_VALIDATION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        ))
    }
}

/// The engine's call for an invocation request, checked.
///
/// # Errors
/// 400 for a pagination option without `fetchAll`, or an input that is no object.
pub fn call(
    tenant: String,
    integration: String,
    action: String,
    body: InvokeRequest,
    BypassHeader(bypass_header): BypassHeader,
    request_id: Option<String>,
) -> ApiResult<Checked> {
    let fetch_all = fetch_all(&body.options)?;
    if !body.input.is_object() {
        return Err(ApiError::bad_request("input must be a JSON object"));
    }
    let bypass = body.options.bypass_validation || bypass_header;
    let retry = body
        .options
        .retry
        .as_ref()
        .map(CallRetry::checked)
        .transpose()?;
    let timeout = match body.options.timeout_ms {
        None => None,
        Some(ms @ 1..=MAX_CALL_TIMEOUT_MS) => Some(Duration::from_millis(ms)),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "options.timeoutMs must be between 1 and {MAX_CALL_TIMEOUT_MS}"
            )));
        }
    };
    Ok(Checked {
        passthrough: body.options.passthrough_errors,
        call: Call {
            tenant,
            integration,
            action,
            input: body.input,
            options: CallOptions {
                connection: body.connection,
                idempotency_key: body.options.idempotency_key,
                bypass_validation: bypass,
                request_id,
                fetch_all,
                retry,
                timeout,
            },
        },
    })
}

/// The `fetchAll` options; a companion option without `fetchAll` would be
/// ignored, so it is refused.
fn fetch_all(options: &InvokeOptions) -> ApiResult<Option<FetchAll>> {
    if !options.fetch_all {
        let companions = [
            ("maxPages", options.max_pages.is_some()),
            ("maxItems", options.max_items.is_some()),
            ("maxCharacters", options.max_characters.is_some()),
            ("continuation", options.continuation.is_some()),
            ("partial", options.partial),
        ];
        if let Some((name, _)) = companions.iter().find(|(_, set)| *set) {
            return Err(ApiError::bad_request(format!(
                "options.{name} applies to options.fetchAll: set fetchAll to true, or leave {name} out"
            )));
        }
        return Ok(None);
    }
    let mut f = FetchAll::default();
    if let Some(pages) = options.max_pages {
        f = f.max_pages(pages);
    }
    if let Some(items) = options.max_items {
        f = f.max_items(items);
    }
    if let Some(characters) = options.max_characters {
        f = f.max_characters(characters);
    }
    if let Some(token) = &options.continuation {
        f = f.continuation(token.clone());
    }
    if options.partial {
        f = f.partial();
    }
    Ok(Some(f))
}

/// Invoke an action.
#[utoipa::path(
    post,
    operation_id = "invokeAction", path = "/actions/{integration}/{action}", tag = "actions",
    params(("integration" = String, Path, description = "Integration slug"),
        ("action" = String, Path, description = "Action slug")),
    request_body = InvokeRequest,
    responses((status = 200, body = InvokeResponse),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 429, body = super::ErrorBody),
        (status = 502, body = super::ErrorBody), (status = 503, body = super::ErrorBody),
        (status = 504, body = super::ErrorBody)))]
pub async fn invoke(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path((integration, action)): Path<(String, String)>,
    bypass: BypassHeader,
    request_id: Option<Extension<RequestId>>,
    Json(body): Json<InvokeRequest>,
) -> ApiResult<Response> {
    let request_id = request_id.map(|Extension(RequestId(id))| id);
    let call = call(tenant, integration, action, body, bypass, request_id)?;
    Ok(run(&app, call).await)
}

/// Runs `call` through the engine and answers with its result: the route's
/// work once its arguments are extracted, shared with the dashboard's Try it.
pub async fn run(app: &AppState, call: Checked) -> Response {
    let Checked { call, passthrough } = call;
    let result = app.executor.invoke(&call).await;
    let meta = match &result {
        Ok(i) => Some(&i.meta),
        Err(e) => e.meta(),
    };
    if let Some(meta) = meta {
        if meta.resolved
            && let Some(report) = &meta.validation
        {
            app.metrics
                .response_validation(&call.tenant, &call.integration, &call.action, report);
        }
        app.metrics.invocation(
            &call.tenant,
            &call.integration,
            &call.action,
            InvocationOutcome {
                error_code: result.as_ref().err().map(waygate_core::Error::code),
                upstream_status: meta.upstream_status,
                attempts: meta.attempts,
                duration: meta.duration,
                resolved: meta.resolved,
            },
        );
        // Only a call that resolved names a breaker that exists.
        if meta.resolved {
            let connection = call
                .options
                .connection
                .as_deref()
                .unwrap_or(waygate_core::Connection::DEFAULT);
            app.metrics.breaker(
                &call.tenant,
                &call.integration,
                connection,
                app.executor
                    .breaker_state(&call.tenant, &call.integration, connection),
            );
        }
    }
    match result {
        Ok(invocation) => Json(invocation).into_response(),
        Err(e) => {
            if passthrough && let CoreKind::Upstream { status, body } = e.kind() {
                let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
                return (status, Json(body.clone())).into_response();
            }
            ApiError::from(e).into_response()
        }
    }
}

/// Dry run: validate the input and show the request that would be sent.
///
/// It sends nothing, refreshes no token and writes nothing.
#[utoipa::path(
    post,
    operation_id = "testAction", path = "/actions/{integration}/{action}/test", tag = "actions",
    params(("integration" = String, Path, description = "Integration slug"),
        ("action" = String, Path, description = "Action slug")),
    request_body = InvokeRequest,
    responses((status = 200, body = TestResponse), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn test(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path((integration, action)): Path<(String, String)>,
    bypass: BypassHeader,
    Json(body): Json<InvokeRequest>,
) -> ApiResult<Json<TestResponse>> {
    let checked = call(tenant, integration, action, body, bypass, None)?;
    let dry_run = app.executor.dry_run(&checked.call).await?;
    Ok(Json(TestResponse {
        valid: true,
        request: serde_json::to_value(dry_run.request).unwrap_or(Value::Null),
        notes: dry_run.notes,
    }))
}

/// Describe an action: its schemas and binding.
#[utoipa::path(
    get,
    operation_id = "getActionSchema", path = "/actions/{integration}/{action}/schema", tag = "actions",
    params(("integration" = String, Path, description = "Integration slug"),
        ("action" = String, Path, description = "Action slug")),
    responses((status = 200, body = SchemaResponse), (status = 404, body = super::ErrorBody)))]
pub async fn schema(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path((integration, action)): Path<(String, String)>,
) -> ApiResult<Json<SchemaResponse>> {
    let def = definition(&app, &tenant, &integration).await?;
    let a = def
        .action(&action)
        .ok_or_else(|| ApiError::not_found(format!("action '{integration}.{action}'")))?;
    let mut metadata = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Some(m) = metadata.as_object_mut() {
        for key in ["slug", "name", "description", "inputSchema", "outputSchema"] {
            m.remove(key);
        }
    }
    Ok(Json(SchemaResponse {
        id: format!("{integration}.{action}"),
        name: a.name.clone(),
        description: a.description.clone(),
        input_schema: a.input_schema.clone(),
        output_schema: a.output_schema.clone(),
        metadata,
    }))
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;
    use waygate_core::pipeline::StopReason;

    use super::*;

    #[test]
    fn the_documented_stop_reasons_are_the_engines() {
        let doc = serde_json::to_value(StopReasonDoc::schema()).unwrap();
        let documented: Vec<&str> = doc["enum"]
            .as_array()
            .expect("an enum of names")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let engine: Vec<String> = StopReason::ALL
            .iter()
            .map(|r| {
                serde_json::to_value(r)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(documented, engine);
    }
}
