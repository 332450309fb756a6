//! Settings: the tenant's API keys (create, shown once; revoke) and each
//! integration's definition exported as YAML, through the REST handlers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::integration::Done;
use super::page::{Chrome, PageResult, integration_names};
use super::session::Session;
use crate::api::auth::{Principal, Tenant, TenantKey};
use crate::api::integrations;
use crate::api::tenants::{self, ApiKeyView, CreateApiKey};
use crate::app::AppState;

/// The settings page.
#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    chrome: Chrome,
    keys: Vec<ApiKeyView>,
    /// The id of the key this session was opened with.
    own_key: String,
    /// A key just created: shown this once.
    issued: Option<String>,
    integrations: Vec<(String, String)>,
    notice: Option<&'static str>,
}

/// The session's tenant as the tenant API's callers are.
fn principal(session: &Session) -> Principal {
    Principal::Tenant(TenantKey {
        tenant: session.tenant.clone(),
        key_id: session.key_id.clone(),
        rate_limit: None,
    })
}

async fn settings_page(
    app: &AppState,
    session: &Session,
    issued: Option<String>,
    done: Option<&str>,
) -> PageResult<SettingsPage> {
    let keys = tenants::list_api_keys(
        State(app.clone()),
        principal(session),
        Path(session.tenant.clone()),
    )
    .await?
    .0
    .data;
    let integrations = integration_names(app, &session.tenant).await?;
    Ok(SettingsPage {
        chrome: session.chrome("settings"),
        keys,
        own_key: session.key_id.clone(),
        issued,
        integrations,
        notice: super::page::notice(done),
    })
}

/// `GET /settings`.
pub async fn page(
    State(app): State<AppState>,
    session: Session,
    Query(done): Query<Done>,
) -> PageResult<SettingsPage> {
    settings_page(&app, &session, None, done.done.as_deref()).await
}

/// The new key's form.
#[derive(Debug, Deserialize)]
pub struct NewKey {
    #[serde(default)]
    name: String,
}

/// `POST /settings/keys`: issues a key and shows it once (the answer is not cached).
pub async fn create_key(
    State(app): State<AppState>,
    session: Session,
    Form(form): Form<NewKey>,
) -> PageResult<SettingsPage> {
    let name = Some(form.name.trim().to_owned()).filter(|n| !n.is_empty());
    let (_, Json(issued)) = tenants::create_api_key(
        State(app.clone()),
        principal(&session),
        Path(session.tenant.clone()),
        Some(Json(CreateApiKey { name })),
    )
    .await?;
    settings_page(&app, &session, Some(issued.api_key), None).await
}

/// `POST /settings/keys/{id}/revoke`. Revoking the session's own key ends
/// the session too (the store joins sessions to live keys).
pub async fn revoke_key(
    State(app): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> PageResult<Redirect> {
    tenants::revoke_api_key(
        State(app.clone()),
        principal(&session),
        Path((session.tenant.clone(), id.clone())),
    )
    .await?;
    Ok(if id == session.key_id {
        Redirect::to("/signin")
    } else {
        Redirect::to("/settings?done=revoked")
    })
}

/// `GET /integrations/{slug}/export.yaml`: the definition as a YAML download.
pub async fn export_yaml(
    State(app): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> PageResult<Response> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/yaml"));
    let summary = integrations::find(&app, &session.tenant, &slug).await?;
    let mut response = integrations::export(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Path(summary.slug.clone()),
        headers,
    )
    .await?
    .into_response();
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}.yaml\"", summary.slug))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
