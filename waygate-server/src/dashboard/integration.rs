//! The integration page: overview and defaults, connections, the action
//! browser; and the connection form (the wizard's last step).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::page::{Chrome, PageResult, notice, pretty, tag_colour};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::connections::{self, ConnectionView, CreateConnection, Disconnect};
use crate::api::error::ApiError;
use crate::api::integrations::{self, HealthView, IntegrationDetail, UpdateIntegration};
use crate::app::AppState;
use waygate_core::model::{DEFAULT_AUTH_SCHEME, Defaults};

/// An action in the browser.
pub struct ActionRow {
    slug: String,
    name: String,
    method: String,
    path: String,
    summary: String,
    /// Lowercased slug, name, group, path and description: what the filter matches.
    search: String,
}

/// The integration page.
#[derive(Template, WebTemplate)]
#[template(path = "integration.html")]
pub struct IntegrationPage {
    chrome: Chrome,
    detail: IntegrationDetail,
    auth_type: String,
    defaults: String,
    tags: Vec<(String, u8)>,
    health: HealthView,
    connections: Vec<ConnectionView>,
    actions: Vec<ActionRow>,
    notice: Option<&'static str>,
    /// Why the last change was refused.
    errors: Errors,
    /// Whether an OAuth2 scheme offers the authorization-code flow (Connect).
    oauth_connect: bool,
}

/// Why the last change on the integration page was refused, by section.
#[derive(Debug, Default)]
pub struct Errors {
    /// Of the status and defaults.
    pub settings: Option<String>,
    /// Of a connection (refresh, connect).
    pub connections: Option<String>,
}

/// Query of pages that show a notice after a redirect.
#[derive(Debug, Deserialize)]
pub struct Done {
    /// Which notice (`page::notice`).
    #[serde(default)]
    pub done: Option<String>,
}

/// The `type` of an auth spec as JSON (`none`, `api_key`, `oauth2`, …).
pub fn auth_type(auth: &Value) -> String {
    auth.get("type")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_owned()
}

/// `GET /integrations/{slug}`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> PageResult<IntegrationPage> {
    integration_page(
        &app,
        &session,
        slug,
        notice(done.done.as_deref()),
        Errors::default(),
    )
    .await
}

/// Whether `auth` is OAuth2 with an authorization URL (the code flow).
pub fn authorization_code(auth: &Value) -> bool {
    auth_type(auth) == "oauth2" && auth.get("authorizationUrl").is_some_and(Value::is_string)
}

/// The integration page, with a notice or the errors of a refused change.
pub async fn integration_page(
    app: &AppState,
    session: &Session,
    slug: String,
    notice: Option<&'static str>,
    errors: Errors,
) -> PageResult<IntegrationPage> {
    let tenant = || Tenant(session.tenant.clone());
    let detail = integrations::get(State(app.clone()), tenant(), Path(slug.clone()))
        .await?
        .0;
    let health = integrations::health(State(app.clone()), tenant(), Path(slug.clone()))
        .await?
        .0;
    let connections = connections::list(State(app.clone()), tenant(), Path(slug.clone()))
        .await?
        .0
        .data;
    let def = integrations::definition(app, &session.tenant, &detail.summary.slug).await?;
    let actions = def
        .actions
        .iter()
        .map(|a| {
            let name = a.name.clone().unwrap_or_else(|| a.slug.clone());
            let summary = a.description.clone().unwrap_or_default();
            let search = [
                a.slug.as_str(),
                name.as_str(),
                a.group.as_deref().unwrap_or(""),
                a.path.as_str(),
                summary.as_str(),
            ]
            .join(" ")
            .to_lowercase();
            ActionRow {
                slug: a.slug.clone(),
                method: a.method.clone(),
                path: a.path.clone(),
                summary: summary.chars().take(160).collect(),
                name,
                search,
            }
        })
        .collect();
    let oauth_connect = authorization_code(&detail.auth)
        || detail
            .auth_schemes
            .as_ref()
            .and_then(Value::as_object)
            .is_some_and(|schemes| schemes.values().any(authorization_code));
    Ok(IntegrationPage {
        chrome: session.chrome("integrations"),
        oauth_connect,
        auth_type: auth_type(&detail.auth),
        defaults: pretty(&detail.defaults),
        tags: detail
            .summary
            .tags
            .iter()
            .map(|t| (t.clone(), tag_colour(t)))
            .collect(),
        detail,
        health,
        connections,
        actions,
        notice,
        errors,
    })
}

/// The settings form: status and defaults (JSON).
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    defaults: String,
}

/// `POST /integrations/{slug}/settings`: status and defaults through
/// `PATCH /api/v1/integrations/{slug}` (its checks; the next call uses them).
pub async fn update_settings(
    State(app): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<SettingsForm>,
) -> PageResult<Response> {
    let defaults = serde_json::from_str::<Defaults>(&form.defaults)
        .map_err(|e| ApiError::bad_request(format!("defaults: {e}")));
    let updated = match defaults {
        Ok(defaults) => {
            integrations::update(
                State(app.clone()),
                Tenant(session.tenant.clone()),
                Path(slug.clone()),
                Json(UpdateIntegration {
                    name: None,
                    description: None,
                    base_url: None,
                    tags: None,
                    status: Some(form.status).filter(|s| !s.is_empty()),
                    defaults: Some(defaults),
                }),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Ok(Redirect::to(&format!("/integrations/{slug}?done=saved")).into_response()),
        Err(e) => {
            let status = e.status();
            let errors = Errors {
                settings: Some(e.message().to_owned()),
                ..Errors::default()
            };
            let page = integration_page(&app, &session, slug, None, errors).await?;
            Ok((status, page).into_response())
        }
    }
}

/// The connection form.
#[derive(Template, WebTemplate)]
#[template(path = "connection.html")]
pub struct ConnectionPage {
    chrome: Chrome,
    slug: String,
    name: String,
    base_url: Option<String>,
    auth_type: String,
    /// For an API key: where it goes (`header X-Api-Key`).
    key_place: String,
    /// The scheme the form is for (decision 86): `default` or a name of the
    /// integration's `authSchemes`.
    scheme: String,
    /// Every scheme with its type, when the integration has more than one.
    schemes: Vec<(String, String)>,
    /// Whether the scheme offers the authorization-code flow (Connect).
    code_flow: bool,
    /// Reached from the wizard: saving goes on to its test step.
    wizard: bool,
    error: Option<String>,
}

/// `?scheme=`: which of the integration's auth schemes the form is for.
#[derive(Debug, Default, Deserialize)]
pub struct SchemeChoice {
    #[serde(default)]
    scheme: Option<String>,
    /// `1` when the wizard sent the browser here.
    #[serde(default)]
    wizard: Option<String>,
}

async fn connection_page(
    app: &AppState,
    session: &Session,
    slug: String,
    (scheme, wizard): (Option<String>, bool),
    error: Option<String>,
) -> PageResult<ConnectionPage> {
    let detail = integrations::get(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Path(slug),
    )
    .await?
    .0;
    let others = detail
        .auth_schemes
        .as_ref()
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let scheme = scheme
        .filter(|s| others.contains_key(s))
        .unwrap_or_else(|| DEFAULT_AUTH_SCHEME.to_owned());
    let auth = others.get(&scheme).unwrap_or(&detail.auth);
    let key_place = match (auth.get("in"), auth.get("name")) {
        (Some(Value::String(place)), Some(Value::String(name))) => format!("{place} {name}"),
        _ => String::new(),
    };
    let schemes = if others.is_empty() {
        Vec::new()
    } else {
        std::iter::once((DEFAULT_AUTH_SCHEME.to_owned(), auth_type(&detail.auth)))
            .chain(
                others
                    .iter()
                    .map(|(name, spec)| (name.clone(), auth_type(spec))),
            )
            .collect()
    };
    Ok(ConnectionPage {
        chrome: session.chrome("integrations"),
        code_flow: authorization_code(auth),
        wizard,
        auth_type: auth_type(auth),
        slug: detail.summary.slug,
        name: detail.summary.name,
        base_url: detail.base_url,
        key_place,
        scheme,
        schemes,
        error,
    })
}

/// `GET /integrations/{slug}/connections/new[?scheme=NAME]`.
pub async fn new_connection(
    State(app): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(choice): Query<SchemeChoice>,
) -> PageResult<ConnectionPage> {
    let wizard = choice.wizard.as_deref() == Some("1");
    connection_page(&app, &session, slug, (choice.scheme, wizard), None).await
}

/// The connection form's fields; which are used depends on `type`.
#[derive(Debug, Deserialize)]
pub struct ConnectionForm {
    #[serde(default)]
    name: String,
    #[serde(rename = "baseUrl", default)]
    base_url: String,
    #[serde(rename = "authScheme", default)]
    auth_scheme: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
    /// `Name: value` lines.
    #[serde(default)]
    headers: String,
    #[serde(rename = "clientId", default)]
    client_id: String,
    #[serde(rename = "clientSecret", default)]
    client_secret: String,
    /// `1` when saved from the wizard (it goes on to the test step).
    #[serde(default)]
    wizard: String,
}

/// The credential body of API.md for the form's type.
fn credential(form: &ConnectionForm) -> Result<Value, ApiError> {
    Ok(match form.kind.as_str() {
        "none" => json!({"type": "none"}),
        "api_key" => json!({"type": "api_key", "key": form.key}),
        "basic" => json!({"type": "basic", "username": form.username, "password": form.password}),
        "bearer" => json!({"type": "bearer", "token": form.token}),
        "custom_headers" => {
            let mut headers = Map::new();
            for (i, line) in form.headers.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let (name, value) = line.split_once(':').ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "headers, line {}: write it as 'Name: value'",
                        i + 1
                    ))
                })?;
                headers.insert(
                    name.trim().to_owned(),
                    Value::String(value.trim().to_owned()),
                );
            }
            json!({"type": "custom_headers", "headers": headers})
        }
        "oauth2_client_credentials" => json!({
            "type": "oauth2_client_credentials",
            "clientId": form.client_id,
            "clientSecret": form.client_secret,
        }),
        other => {
            return Err(ApiError::bad_request(format!(
                "type: '{other}' is not a credential type this form offers"
            )));
        }
    })
}

/// `POST /integrations/{slug}/connections`: through the API's own handler.
pub async fn create_connection(
    State(app): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<ConnectionForm>,
) -> PageResult<Response> {
    let scheme = Some(form.auth_scheme.clone()).filter(|s| !s.is_empty());
    let body = credential(&form).map(|credential| CreateConnection {
        name: Some(form.name.trim().to_owned()).filter(|n| !n.is_empty()),
        base_url: Some(form.base_url.trim().to_owned()).filter(|u| !u.is_empty()),
        // Named only when the integration has several (the form then says which).
        auth_scheme: Some(form.auth_scheme.clone()).filter(|s| !s.is_empty()),
        credential,
    });
    let created = match body {
        Ok(body) => {
            connections::create(
                State(app.clone()),
                Tenant(session.tenant.clone()),
                Path(slug.clone()),
                Json(body),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let wizard = form.wizard == "1";
    match created {
        Ok((_, Json(view))) if wizard => Ok(Redirect::to(&format!(
            "/integrations/{slug}/test?connection={}",
            url::form_urlencoded::byte_serialize(view.name.as_bytes()).collect::<String>()
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/integrations/{slug}?done=connected")).into_response()),
        Err(e) => {
            let status = e.status();
            let page = connection_page(
                &app,
                &session,
                slug,
                (scheme, wizard),
                Some(e.message().to_owned()),
            )
            .await?;
            Ok((status, page).into_response())
        }
    }
}

/// `POST /integrations/{slug}/connections/{name}/delete`.
pub async fn delete_connection(
    State(app): State<AppState>,
    session: Session,
    Path((slug, name)): Path<(String, String)>,
) -> PageResult<Redirect> {
    connections::disconnect(
        State(app),
        Tenant(session.tenant.clone()),
        Path(slug.clone()),
        Some(Json(Disconnect {
            connection: Some(name),
        })),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/integrations/{slug}?done=disconnected"
    )))
}
