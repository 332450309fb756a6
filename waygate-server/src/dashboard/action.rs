//! An action: its description, collapsible input and output schemas, and
//! **Try it**, which invokes it through the REST handler's own path
//! (`api::actions::call` and `api::actions::run`: the same checks, the same
//! pipeline, the same metrics and log entry as `POST /api/v1/actions/…`).

use std::time::Instant;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::page::{Chrome, PageResult, origin, pretty};
use super::session::Session;
use super::snippets::{self, Snippet};
use crate::api::actions::{self, InvokeRequest};
use crate::api::auth::Tenant;
use crate::api::connections;
use crate::api::error::ApiError;
use crate::api::integrations;
use crate::app::AppState;

/// The largest gateway answer Try it reads.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Characters of the answer shown on the page.
const SHOWN_CHARS: usize = 200_000;

/// What one Try it call gave.
pub struct TryResult {
    /// The gateway's HTTP status.
    status: u16,
    /// Whether it succeeded (2xx).
    ok: bool,
    /// `meta.attempts`, or the error's.
    attempts: Option<u64>,
    /// `meta.durationMs`: the pipeline's time.
    duration_ms: Option<u64>,
    /// Time the dashboard waited, start to answer.
    elapsed_ms: u128,
    /// The last upstream status.
    upstream_status: Option<u64>,
    /// The invocation's request id (find it in Logs).
    request_id: Option<String>,
    /// Error code and message, on failure.
    error: Option<(String, String)>,
    /// What to do next, on failure.
    resolution: Option<String>,
    /// The answer as indented JSON (cut to [`SHOWN_CHARS`]).
    body: String,
}

/// The action page.
#[derive(Template, WebTemplate)]
#[template(path = "action.html")]
pub struct ActionPage {
    chrome: Chrome,
    slug: String,
    integration_name: String,
    action: String,
    name: String,
    description: String,
    method: String,
    path: String,
    input_schema: String,
    output_schema: Option<String>,
    metadata: String,
    input: String,
    connections: Vec<String>,
    snippets: Vec<Snippet>,
    result: Option<TryResult>,
}

/// The Try it answer alone (htmx swaps it in).
#[derive(Template, WebTemplate)]
#[template(path = "try_result.html")]
pub struct TryFragment {
    result: TryResult,
}

async fn action_page(
    app: &AppState,
    session: &Session,
    headers: &HeaderMap,
    (slug, action): (String, String),
    input: Option<String>,
    result: Option<TryResult>,
) -> PageResult<ActionPage> {
    let tenant = || Tenant(session.tenant.clone());
    let schema = actions::schema(
        State(app.clone()),
        tenant(),
        Path((slug.clone(), action.clone())),
    )
    .await?
    .0;
    let detail = integrations::get(State(app.clone()), tenant(), Path(slug.clone()))
        .await?
        .0;
    let connections = connections::list(State(app.clone()), tenant(), Path(slug.clone()))
        .await?
        .0
        .data
        .into_iter()
        .map(|c| c.name)
        .collect();
    let example = waygate_core::schema::example(&schema.input_schema);
    let example = if example.is_object() {
        example
    } else {
        Value::Object(serde_json::Map::new())
    };
    let field = |key: &str| {
        schema
            .metadata
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(ActionPage {
        chrome: session.chrome("integrations"),
        snippets: snippets::all(
            &origin(app, headers),
            &detail.summary.slug,
            &action,
            &example,
        ),
        input: input.unwrap_or_else(|| pretty(&example)),
        method: field("method"),
        path: field("path"),
        name: schema.name.clone().unwrap_or_else(|| action.clone()),
        description: schema.description.clone().unwrap_or_default(),
        input_schema: pretty(&schema.input_schema),
        output_schema: schema.output_schema.as_ref().map(pretty),
        metadata: pretty(&schema.metadata),
        integration_name: detail.summary.name,
        slug: detail.summary.slug,
        action,
        connections,
        result,
    })
}

/// `GET /integrations/{slug}/actions/{action}`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(names): Path<(String, String)>,
) -> PageResult<ActionPage> {
    action_page(&app, &session, &headers, names, None, None).await
}

/// Try it's fields.
#[derive(Debug, Deserialize)]
pub struct TryForm {
    /// The input object as JSON text.
    #[serde(default)]
    input: String,
    /// The connection's name (`default` when empty).
    #[serde(default)]
    connection: String,
}

/// `POST /integrations/{slug}/actions/{action}/try`: the answer as a fragment
/// for htmx, or the whole page with it for a browser without script.
pub async fn try_it(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path((slug, action)): Path<(String, String)>,
    Form(form): Form<TryForm>,
) -> PageResult<Response> {
    let result = invoke(&app, &session, &slug, &action, &form).await;
    if headers.contains_key("hx-request") {
        return Ok(TryFragment { result }.into_response());
    }
    Ok(action_page(
        &app,
        &session,
        &headers,
        (slug, action),
        Some(form.input),
        Some(result),
    )
    .await?
    .into_response())
}

/// Invokes the action as `POST /api/v1/actions/{slug}/{action}` would.
async fn invoke(
    app: &AppState,
    session: &Session,
    slug: &str,
    action: &str,
    form: &TryForm,
) -> TryResult {
    let started = Instant::now();
    let input = if form.input.trim().is_empty() {
        Ok(Value::Object(serde_json::Map::new()))
    } else {
        serde_json::from_str::<Value>(&form.input)
            .map_err(|e| ApiError::bad_request(format!("input: not JSON: {e}")))
    };
    let checked = input.and_then(|input| {
        actions::call(
            session.tenant.clone(),
            slug.to_owned(),
            action.to_owned(),
            InvokeRequest {
                input,
                connection: Some(form.connection.trim().to_owned()).filter(|c| !c.is_empty()),
                options: Default::default(),
            },
            actions::BypassHeader::default(),
            None,
        )
    });
    let response = match checked {
        Ok(call) => actions::run(app, call).await,
        Err(e) => e.into_response(),
    };
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null);
    let meta = body.get("meta");
    let number = |v: Option<&Value>| v.and_then(Value::as_u64);
    let error = body.get("error");
    let mut shown = pretty(&body);
    if shown.len() > SHOWN_CHARS {
        let cut = (0..=SHOWN_CHARS)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push_str("\n… (cut: the answer is longer)");
    }
    TryResult {
        status: status.as_u16(),
        ok: status.is_success(),
        attempts: number(meta.and_then(|m| m.get("attempts"))),
        duration_ms: number(meta.and_then(|m| m.get("durationMs"))),
        elapsed_ms: started.elapsed().as_millis(),
        upstream_status: number(meta.and_then(|m| m.get("upstreamStatus")))
            .or_else(|| number(body.pointer("/error/details/upstreamStatus"))),
        request_id: meta
            .and_then(|m| m.get("requestId"))
            .or_else(|| error.and_then(|e| e.get("requestId")))
            .and_then(Value::as_str)
            .map(str::to_owned),
        error: error.map(|e| {
            let text = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (text("code"), text("message"))
        }),
        resolution: body
            .pointer("/error/suggestedResolution/description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        body: shown,
    }
}
