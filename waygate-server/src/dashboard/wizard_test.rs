//! The wizard's last step, **Test connection**: one read-only action (a GET
//! the user picks, by default the first GET whose input requires nothing)
//! called through a connection with an empty input, by Try it's own path
//! (`action::outcome`), and its outcome shown (decision 106).

use std::time::Instant;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::action::{TryResult, outcome};
use super::page::{Chrome, PageResult};
use super::session::Session;
use crate::api::actions::InvokeRequest;
use crate::api::auth::Tenant;
use crate::api::connections;
use crate::api::error::ApiError;
use crate::api::integrations;
use crate::app::AppState;

/// A read-only action offered for the test.
pub struct Candidate {
    slug: String,
    label: String,
}

/// The test step.
#[derive(Template, WebTemplate)]
#[template(path = "wizard_test.html")]
pub struct TestPage {
    chrome: Chrome,
    slug: String,
    name: String,
    candidates: Vec<Candidate>,
    connections: Vec<String>,
    chosen: Choice,
    result: Option<TryResult>,
}

/// The chosen action and connection (query of the GET, fields of the POST).
#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    /// The action's slug; the default candidate when empty.
    #[serde(default)]
    action: String,
    /// The connection's name; `default` when empty.
    #[serde(default)]
    connection: String,
}

/// Whether an action only reads: GET or HEAD.
fn read_only(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// Whether an input schema requires no field.
fn needs_nothing(schema: &Value) -> bool {
    schema
        .get("required")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
}

async fn test_page(
    app: &AppState,
    session: &Session,
    slug: String,
    mut chosen: Choice,
    result: Option<TryResult>,
) -> PageResult<TestPage> {
    let def = integrations::definition(app, &session.tenant, &slug).await?;
    let mut candidates: Vec<(bool, Candidate)> = def
        .actions
        .iter()
        .filter(|a| read_only(&a.method))
        .map(|a| {
            (
                needs_nothing(&a.input_schema),
                Candidate {
                    slug: a.slug.clone(),
                    label: format!(
                        "{} — {} {}",
                        a.name.as_deref().unwrap_or(&a.slug),
                        a.method,
                        a.path
                    ),
                },
            )
        })
        .collect();
    // Those that need no input first, in the definition's order.
    candidates.sort_by_key(|(free, _)| !*free);
    if chosen.action.is_empty() {
        chosen.action = candidates
            .first()
            .map(|(_, c)| c.slug.clone())
            .unwrap_or_default();
    }
    let connections = connections::list(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Path(slug.clone()),
    )
    .await?
    .0
    .data
    .into_iter()
    .map(|c| c.name)
    .collect();
    Ok(TestPage {
        chrome: session.chrome("integrations"),
        slug: def.slug.clone(),
        name: def.name.clone(),
        candidates: candidates.into_iter().map(|(_, c)| c).collect(),
        connections,
        chosen,
        result,
    })
}

/// `GET /integrations/{slug}/test[?connection=NAME]`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(chosen): Query<Choice>,
) -> PageResult<TestPage> {
    test_page(&app, &session, slug, chosen, None).await
}

/// `POST /integrations/{slug}/test`: calls the chosen read-only action.
pub async fn run(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(chosen): Form<Choice>,
) -> PageResult<Response> {
    let started = Instant::now();
    let def = integrations::definition(&app, &session.tenant, &slug).await?;
    let request = match def.action(&chosen.action) {
        None => Err(ApiError::not_found(format!(
            "action '{slug}.{}'",
            chosen.action
        ))),
        Some(a) if !read_only(&a.method) => Err(ApiError::bad_request(format!(
            "the test calls only read-only actions (GET or HEAD); '{}' is {}",
            a.slug, a.method
        ))),
        Some(_) => Ok(InvokeRequest {
            input: Value::Object(Map::new()),
            connection: Some(chosen.connection.trim().to_owned()).filter(|c| !c.is_empty()),
            options: Default::default(),
        }),
    };
    let result = outcome(
        &app,
        &session.tenant,
        &def.slug,
        &chosen.action,
        request,
        started,
    )
    .await;
    if headers.contains_key("hx-request") {
        return Ok(super::action::TryFragment::new(result).into_response());
    }
    Ok(test_page(&app, &session, slug, chosen, Some(result))
        .await?
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_reads_are_tested_and_inputs_without_requirements_lead() {
        assert!(read_only("GET") && read_only("head") && !read_only("POST"));
        assert!(needs_nothing(&json!({"type": "object"})));
        assert!(needs_nothing(&json!({"required": []})));
        assert!(!needs_nothing(&json!({"required": ["id"]})));
    }
}
