//! Signing in with a tenant API key, the session cookie, CSRF tokens, and the
//! guard in front of every page (decision 80).
//!
//! A session is a row of the store (`Store::open_dashboard_session`); the
//! browser holds its random token in an HttpOnly, SameSite=Strict cookie.
//! Signing out deletes the row, revoking the API key the session was opened
//! with ends it, and it expires after [`SESSION_TTL`].
//!
//! CSRF: every form that changes something carries a token derived from the
//! session token by the API-key pepper's HMAC (`csrf`); the guard refuses any
//! other method than GET/HEAD whose form does not carry it (403). The sign-in
//! form has no session yet: its token is derived from a random value in a
//! short-lived cookie of its own (double submit).

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::page::{Chrome, PageError};
use crate::api::error::ApiError;
use crate::app::AppState;
use crate::http::cookie::cookie;

/// The session cookie.
pub const SESSION_COOKIE: &str = "waygate_session";

/// The sign-in form's own cookie (its CSRF value).
const SIGNIN_COOKIE: &str = "waygate_signin";

/// How long a session lasts from sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in browser: the tenant it acts for.
#[derive(Clone)]
pub struct Session {
    /// The tenant signed in.
    pub tenant: String,
    /// The API key the session was opened with.
    pub key_id: String,
    /// The session token (the cookie's value).
    token: SecretString,
    /// The CSRF token of this session's forms.
    pub csrf: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("tenant", &self.tenant)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// What every page of this session shows around its content.
    pub fn chrome(&self, nav: &'static str) -> Chrome {
        Chrome::signed_in(&self.tenant, &self.csrf, nav)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| Redirect::to("/signin").into_response())
    }
}

/// `hex(HMAC(pepper, purpose ‖ value))`: a token only this gateway can derive.
fn derive(app: &AppState, purpose: &str, value: &str) -> String {
    app.pepper
        .digest(&format!("waygate dashboard {purpose} {value}"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether cookies are `Secure`: when the gateway's public URL is https (a
/// plain-http local gateway could not set them).
pub(crate) fn secure_cookies(app: &AppState) -> bool {
    app.settings
        .public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https")
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, `Secure` per [`secure_cookies`].
fn set_cookie(app: &AppState, name: &str, value: &str, path: &str, max_age: u64) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure_cookies(app) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The live session of the request's cookie, if any.
async fn current(app: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let found = app
        .store
        .dashboard_session(&app.pepper, token)
        .await
        .map_err(|e| ApiError::unavailable("reading the session", &e))?;
    Ok(found.map(|info| Session {
        tenant: info.tenant,
        key_id: info.key_id,
        csrf: derive(app, "csrf", token),
        token: SecretString::from(token.to_owned()),
    }))
}

/// The gate in front of every page but sign-in and assets
/// ([`Gate`](crate::http::gate::Gate)): no session → the sign-in page; a
/// request that changes something must carry the session's CSRF token in its
/// form (else 403). The session goes into the request's extensions for the
/// [`Session`] extractor.
pub async fn guard(app: AppState, request: Request) -> Result<Request, Response> {
    let session = match current(&app, request.headers()).await {
        Ok(Some(session)) => session,
        Ok(None) => return Err(Redirect::to("/signin").into_response()),
        Err(e) => return Err(PageError::from(e).into_response()),
    };
    let mut request = if request.method() == Method::GET || request.method() == Method::HEAD {
        request
    } else {
        checked_form(&app, request, &session.csrf).await?
    };
    request.extensions_mut().insert(session);
    Ok(request)
}

/// The request again, once its form carried `csrf`; a 403 page otherwise.
async fn checked_form(app: &AppState, request: Request, csrf: &str) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, app.settings.max_body_bytes)
        .await
        .map_err(|_| {
            PageError::from(ApiError::bad_request(
                "the form is larger than the gateway accepts",
            ))
            .into_response()
        })?;
    let sent = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    if !sent.is_some_and(|t| constant_time_eq(t.as_bytes(), csrf.as_bytes())) {
        return Err(PageError::from(ApiError::forbidden(
            "the form's security token is missing or wrong: reload the page and try again",
        ))
        .into_response());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The sign-in page.
#[derive(Template, WebTemplate)]
#[template(path = "signin.html")]
pub struct SignInPage {
    chrome: Chrome,
    error: Option<String>,
}

/// `GET /signin`: the form (or home, when signed in already).
pub async fn sign_in_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = current(&app, &headers).await {
        return Redirect::to("/").into_response();
    }
    sign_in_form(&app, StatusCode::OK, None)
}

/// The form with a fresh sign-in cookie and its CSRF token.
fn sign_in_form(app: &AppState, status: StatusCode, error: Option<String>) -> Response {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let page = SignInPage {
        chrome: Chrome::anonymous(&derive(app, "signin", &nonce)),
        error,
    };
    let mut response = (status, page).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, SIGNIN_COOKIE, &nonce, "/signin", 3600),
    );
    response
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(rename = "apiKey", default)]
    api_key: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /signin`: a valid tenant API key opens a session.
pub async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = cookie(&headers, SIGNIN_COOKIE).map(|nonce| derive(&app, "signin", nonce));
    if !expected.is_some_and(|e| constant_time_eq(e.as_bytes(), form.csrf.as_bytes())) {
        return sign_in_form(
            &app,
            StatusCode::FORBIDDEN,
            Some("The form expired: sign in again.".to_owned()),
        );
    }
    let key = form.api_key.trim();
    let info = match app.store.authenticate_api_key(&app.pepper, key).await {
        Ok(Some(info)) => info,
        Ok(None) => {
            return sign_in_form(
                &app,
                StatusCode::UNAUTHORIZED,
                Some("That API key is not valid or was revoked.".to_owned()),
            );
        }
        Err(e) => return PageError::from(ApiError::unavailable("signing in", &e)).into_response(),
    };
    let token = match app
        .store
        .open_dashboard_session(&info.tenant, &info.id, &app.pepper, SESSION_TTL)
        .await
    {
        Ok(token) => token,
        Err(e) => {
            return PageError::from(ApiError::unavailable("opening a session", &e)).into_response();
        }
    };
    let mut response = Redirect::to("/").into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            &app,
            SESSION_COOKIE,
            token.expose_secret(),
            "/",
            SESSION_TTL.as_secs(),
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&app, SIGNIN_COOKIE, "", "/signin", 0),
    );
    response
}

/// `POST /signout`: ends the session in the store and clears the cookie.
pub async fn sign_out(State(app): State<AppState>, session: Session) -> Response {
    if let Err(e) = app
        .store
        .end_dashboard_session(&app.pepper, session.token.expose_secret())
        .await
    {
        return PageError::from(ApiError::unavailable("signing out", &e)).into_response();
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, SESSION_COOKIE, "", "/", 0),
    );
    response
}
