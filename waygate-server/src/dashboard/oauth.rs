//! OAuth2 from the integration page: **Connect** starts the authorization-code
//! flow through the REST connect handler and sends the browser to the
//! provider; **Refresh token** refreshes a connection's tokens through the
//! REST refresh handler (decision 105).
//!
//! The browser comes back to the dashboard after the provider's redirect: the
//! connect answer sets a short-lived cookie holding the flow's state, scoped
//! to the callback's path, and the callback ([`crate::api::oauth::callback`])
//! links back to the integration (and goes there at once) only when the
//! cookie matches, so flows started through the API are answered as before.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use secrecy::SecretString;
use serde::Deserialize;

use super::integration::{Errors, integration_page};
use super::page::{Chrome, PageResult};
use super::session::Session;
use crate::api::auth::Tenant;
use crate::api::connections;
use crate::api::error::ApiError;
use crate::api::oauth::{self, CALLBACK_PATH, ConnectRequest, RETURN_COOKIE};
use crate::app::AppState;

/// How long the cookie lives: as long as the state (ten minutes).
const RETURN_TTL_SECS: u64 = 600;

/// The connect form's fields.
#[derive(Debug, Deserialize)]
pub struct ConnectForm {
    /// The connection to store the tokens on.
    #[serde(default)]
    name: String,
    /// The OAuth2 scheme, when the integration has several.
    #[serde(rename = "authScheme", default)]
    auth_scheme: String,
    /// The OAuth app's client id (empty: the connection's own).
    #[serde(rename = "clientId", default)]
    client_id: String,
    /// The OAuth app's client secret, with the client id.
    #[serde(rename = "clientSecret", default)]
    client_secret: String,
}

/// The page that sends the browser on to the provider. A form posting here
/// may not be redirected to another origin (the CSP's `form-action 'self'`
/// covers redirects), so the page navigates instead.
#[derive(Template, WebTemplate)]
#[template(path = "oauth_redirect.html")]
pub struct OnToProvider {
    chrome: Chrome,
    slug: String,
    url: String,
    host: String,
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `POST /integrations/{slug}/connect`: through `POST /api/v1/integrations/{slug}/connect`.
pub async fn connect(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<ConnectForm>,
) -> PageResult<Response> {
    let request = ConnectRequest {
        connection: some(&form.name),
        auth_scheme: some(&form.auth_scheme),
        client_id: some(&form.client_id),
        client_secret: some(&form.client_secret).map(SecretString::from),
        ..ConnectRequest::default()
    };
    let started = oauth::connect(
        State(app.clone()),
        Tenant(session.tenant.clone()),
        Path(slug.clone()),
        headers,
        Some(Json(request)),
    )
    .await;
    let started = match started {
        Ok(Json(started)) => started,
        Err(e) => return failed(&app, &session, slug, e).await,
    };
    let host = url::Url::parse(&started.authorization_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let mut response = OnToProvider {
        chrome: session.chrome("integrations"),
        slug,
        url: started.authorization_url,
        host,
    }
    .into_response();
    // Lax, not Strict: the provider's redirect back is a cross-site navigation.
    let cookie = format!(
        "{RETURN_COOKIE}={}; Path={CALLBACK_PATH}; Max-Age={RETURN_TTL_SECS}; HttpOnly; SameSite=Lax{}",
        started.state,
        if super::session::secure_cookies(&app) {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    // The provider's page must not learn the dashboard's URL.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// `POST /integrations/{slug}/connections/{name}/refresh`: through
/// `POST /api/v1/connections/{id}/refresh`.
pub async fn refresh(
    State(app): State<AppState>,
    session: Session,
    Path((slug, name)): Path<(String, String)>,
) -> PageResult<Response> {
    let tenant = || Tenant(session.tenant.clone());
    let listed = connections::list(State(app.clone()), tenant(), Path(slug.clone()))
        .await?
        .0
        .data;
    let Some(found) = listed.into_iter().find(|c| c.name == name) else {
        return Err(ApiError::not_found(format!("connection '{name}'")).into());
    };
    match oauth::refresh(State(app.clone()), tenant(), Path(found.id)).await {
        Ok(_) => Ok(Redirect::to(&format!("/integrations/{slug}?done=refreshed")).into_response()),
        Err(e) => failed(&app, &session, slug, e).await,
    }
}

/// The integration page with why the connect or refresh failed beside its
/// connections, under the failure's status.
async fn failed(
    app: &AppState,
    session: &Session,
    slug: String,
    e: ApiError,
) -> PageResult<Response> {
    let status = e.status();
    let errors = Errors {
        connections: Some(e.message().to_owned()),
        ..Errors::default()
    };
    let page = integration_page(app, session, slug, None, errors).await?;
    Ok((status, page).into_response())
}
