//! An action: its description, collapsible input and output schemas, and
//! **Try it**, which invokes it through the REST handler's own path
//! (`api::actions::call` and `api::actions::run`: the same checks, the same
//! pipeline, the same metrics and log entry as `POST /api/v1/actions/…`).
//!
//! Try it's input is a form generated from the input schema
//! ([`super::schema_form`]) or, as a toggle, the raw JSON, the input carried
//! over when the toggle switches ([`convert`]); actions with pagination also
//! offer `fetchAll`, `maxPages` and `partial`.

use std::time::Instant;

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::page::{Chrome, PageResult, origin, pretty};
use super::schema_form::{self, Item, Kind};
use super::session::Session;
use super::snippets::{self, Snippet};
use crate::api::actions::{self, InvokeOptions, InvokeRequest};
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
    pub(super) status: u16,
    /// Whether it succeeded (2xx).
    pub(super) ok: bool,
    /// `meta.attempts`, or the error's.
    pub(super) attempts: Option<u64>,
    /// `meta.durationMs`: the pipeline's time.
    pub(super) duration_ms: Option<u64>,
    /// Time the dashboard waited, start to answer.
    pub(super) elapsed_ms: u128,
    /// The last upstream status.
    pub(super) upstream_status: Option<u64>,
    /// The invocation's request id (find it in Logs).
    pub(super) request_id: Option<String>,
    /// Error code and message, on failure.
    pub(super) error: Option<(String, String)>,
    /// What to do next, on failure.
    pub(super) resolution: Option<String>,
    /// How `fetchAll` went: pages, items, why it stopped.
    pub(super) pagination: Option<String>,
    /// The answer as indented JSON (cut to [`SHOWN_CHARS`]).
    pub(super) body: String,
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
    /// The generated form, when the schema allows one.
    fields: Option<Vec<Item>>,
    /// What was sent last (or defaults).
    form: TryForm,
    /// Whether the action has pagination (the fetchAll options are shown).
    paginated: bool,
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

impl TryFragment {
    /// The fragment showing `result`.
    pub fn new(result: TryResult) -> Self {
        Self { result }
    }
}

async fn action_page(
    app: &AppState,
    session: &Session,
    headers: &HeaderMap,
    (slug, action): (String, String),
    form: Option<TryForm>,
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
        fields: schema_form::items(
            &schema.input_schema,
            form.as_ref().map_or(&[][..], |f| &f.fields),
        ),
        form: form.unwrap_or_else(|| TryForm {
            input: pretty(&example),
            ..TryForm::default()
        }),
        paginated: schema.metadata.get("pagination").is_some(),
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

/// Try it's fields, as the form posts them.
#[derive(Debug, Default)]
pub struct TryForm {
    /// `json`: the input is the text area's; else the generated fields'.
    json: bool,
    /// The input object as JSON text.
    input: String,
    /// The connection's name (`default` when empty).
    connection: String,
    /// `options.fetchAll`.
    fetch_all: bool,
    /// `options.maxPages`, as typed.
    max_pages: String,
    /// `options.partial`.
    partial: bool,
    /// The generated fields (`in/…`), by name.
    fields: Vec<(String, String)>,
    /// Which mode the input is carried to ([`convert`]): `json` or `form`.
    to: String,
}

impl TryForm {
    /// Reads a urlencoded form body.
    fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "mode" => form.json = value == "json",
                "input" => form.input = value,
                "connection" => form.connection = value.trim().to_owned(),
                "fetchAll" => form.fetch_all = value == "true",
                "maxPages" => form.max_pages = value.trim().to_owned(),
                "partial" => form.partial = value == "true",
                "to" => form.to = value,
                name if name.starts_with("in/") => form.fields.push((name.to_owned(), value)),
                _ => {}
            }
        }
        form
    }

    /// The text area's input object.
    fn json_input(&self) -> Result<Value, ApiError> {
        if self.input.trim().is_empty() {
            return Ok(Value::Object(serde_json::Map::new()));
        }
        serde_json::from_str::<Value>(&self.input)
            .map_err(|e| ApiError::bad_request(format!("input: not JSON: {e}")))
    }

    /// The call's options; a malformed `maxPages` is refused.
    fn options(&self) -> Result<InvokeOptions, ApiError> {
        let max_pages = match self.max_pages.as_str() {
            "" => None,
            text => Some(text.parse::<u32>().map_err(|_| {
                ApiError::bad_request(format!("options.maxPages: '{text}' is not a whole number"))
            })?),
        };
        Ok(InvokeOptions {
            fetch_all: self.fetch_all,
            max_pages,
            partial: self.partial,
            ..InvokeOptions::default()
        })
    }
}

/// `POST /integrations/{slug}/actions/{action}/try`: the answer as a fragment
/// for htmx, or the whole page with it for a browser without script.
pub async fn try_it(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path((slug, action)): Path<(String, String)>,
    body: Bytes,
) -> PageResult<Response> {
    let form = TryForm::parse(&body);
    let result = invoke(&app, &session, &slug, &action, &form).await;
    if headers.contains_key("hx-request") {
        return Ok(TryFragment::new(result).into_response());
    }
    Ok(action_page(
        &app,
        &session,
        &headers,
        (slug, action),
        Some(form),
        Some(result),
    )
    .await?
    .into_response())
}

/// `POST /integrations/{slug}/actions/{action}/input`: Try it's input carried
/// between its two modes when the toggle switches (`to=json`: the form's
/// fields as the JSON object they send; `to=form`: the text area's JSON as
/// the fields that show it). The same schema walk as sending, so switching
/// changes nothing about what is sent.
///
/// # Errors
/// 400 with the reason when the input cannot be carried over (a field's text
/// not of its type; JSON the form cannot show); what reading the schema answers.
pub async fn convert(
    State(app): State<AppState>,
    session: Session,
    Path((slug, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let form = TryForm::parse(&body);
    let schema = actions::schema(State(app), Tenant(session.tenant), Path((slug, action)))
        .await?
        .0
        .input_schema;
    match form.to.as_str() {
        "json" => {
            let input = schema_form::assemble(&schema, &form.fields)?;
            Ok(Json(json!({ "input": pretty(&input) })))
        }
        "form" => {
            let fields =
                schema_form::fill(&schema, &form.json_input()?).map_err(ApiError::bad_request)?;
            let fields: serde_json::Map<String, Value> = fields
                .into_iter()
                .map(|(name, text)| (name, Value::String(text)))
                .collect();
            Ok(Json(json!({ "fields": fields })))
        }
        other => Err(ApiError::bad_request(format!(
            "to: '{other}' is neither json nor form"
        ))),
    }
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
    let request = async {
        let input = if form.json {
            form.json_input()?
        } else {
            let schema = actions::schema(
                State(app.clone()),
                Tenant(session.tenant.clone()),
                Path((slug.to_owned(), action.to_owned())),
            )
            .await?
            .0;
            schema_form::assemble(&schema.input_schema, &form.fields)?
        };
        Ok::<_, ApiError>(InvokeRequest {
            input,
            connection: Some(form.connection.clone()).filter(|c| !c.is_empty()),
            options: form.options()?,
        })
    };
    let request = request.await;
    outcome(app, &session.tenant, slug, action, request, started).await
}

/// Runs `request` as `POST /api/v1/actions/{slug}/{action}` would (the REST
/// handler's own `call` and `run`) and reads its answer for the page; a
/// request that could not be built is shown as the error it is.
pub async fn outcome(
    app: &AppState,
    tenant: &str,
    slug: &str,
    action: &str,
    request: Result<InvokeRequest, ApiError>,
    started: Instant,
) -> TryResult {
    let checked = request.and_then(|request| {
        actions::call(
            tenant.to_owned(),
            slug.to_owned(),
            action.to_owned(),
            request,
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
        pagination: meta.and_then(|m| m.get("pagination")).map(|p| {
            format!(
                "{} page(s), {} item(s), stopped: {}{}",
                number(p.get("pages")).unwrap_or(0),
                number(p.get("items")).unwrap_or(0),
                p.get("stopReason")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown"),
                if p.get("error").is_some_and(|e| !e.is_null()) {
                    " (a later page failed: partial result)"
                } else {
                    ""
                }
            )
        }),
        body: shown,
    }
}
