//! OAuth2 through the gateway: `POST /integrations/{idOrSlug}/connect` starts
//! the authorization code flow (PKCE S256, a single-use expiring `state` bound
//! to the tenant and connection), `GET /oauth/callback` finishes it (outside
//! `/api/v1`: the provider's redirect carries no API key, the state names the
//! tenant), and `POST /connections/{id}/refresh` refreshes tokens now.

use std::time::Duration;

use crate::ops::time::rfc3339;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use waygate_core::credential::ConnectionStatus;
use waygate_core::error::ErrorKind as CoreKind;
use waygate_core::model::{AuthSpec, DEFAULT_AUTH_SCHEME, IntegrationDef};
use waygate_core::oauth2::{CredentialKey, begin_authorization};
use waygate_core::{Connection, Credential};
use waygate_store::{OAuthClient, PendingAuthorization, StateOutcome};

use super::auth::Tenant;
use super::connections::ConnectionView;
use super::error::{ApiError, ApiResult, store_error};
use super::integrations::{definition, find};
use crate::app::AppState;
use crate::http::cookie::cookie;

/// The path the provider redirects to.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// The cookie that marks a flow the dashboard started (its value is the
/// state): the callback then leads back to the dashboard (decision 105).
pub const RETURN_COOKIE: &str = "waygate_oauth_return";

/// How long a started authorization waits for the provider's redirect.
const STATE_TTL: Duration = Duration::from_secs(600);

/// Body of `POST /integrations/{idOrSlug}/connect`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectRequest {
    /// The connection to store the tokens on; `default` when absent.
    #[serde(default)]
    pub connection: Option<String>,
    /// The integration's OAuth2 scheme to authorize with (`default` or a key of
    /// its `authSchemes`); absent: the connection's, else the first OAuth2 one.
    #[serde(default)]
    pub auth_scheme: Option<String>,
    /// Where the provider sends the user back: this gateway's `/oauth/callback`
    /// (the default, from `WAYGATE_PUBLIC_URL` or the request's host).
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Scopes to ask for; the integration's by default.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The OAuth app's client id, when the connection has none yet.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The OAuth app's client secret, with `clientId`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<SecretString>,
}

/// Where to send the user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectResponse {
    /// The provider's authorization URL: open it in the user's browser.
    pub authorization_url: String,
    /// The single-use state in that URL.
    pub state: String,
    /// When the state expires, RFC 3339.
    pub expires_at: String,
}

/// A refresh done now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshResponse {
    /// The connection after the refresh.
    pub connection: ConnectionView,
    /// When the new access token expires, RFC 3339, when the provider said.
    pub expires_at: Option<String>,
}

/// Query of the provider's redirect.
#[derive(Debug, Clone, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The redirect URI to use: the caller's, which must be this gateway's
/// callback, or the callback on the public URL (else the request's host).
fn redirect_uri(app: &AppState, headers: &HeaderMap, asked: Option<String>) -> ApiResult<String> {
    let origin = match &app.settings.public_url {
        Some(url) => url.origin().ascii_serialization(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "no Host header to build the redirect URI from; set WAYGATE_PUBLIC_URL",
                    )
                })?;
            format!("http://{host}")
        }
    };
    let ours = format!("{origin}{CALLBACK_PATH}");
    match asked {
        None => Ok(ours),
        Some(uri) => {
            let parsed = url::Url::parse(&uri)
                .map_err(|e| ApiError::bad_request(format!("redirectUri is not a URL: {e}")))?;
            let same = parsed.origin().ascii_serialization() == origin
                && parsed.path() == CALLBACK_PATH
                && parsed.fragment().is_none();
            if same {
                Ok(uri)
            } else {
                Err(ApiError::bad_request(format!(
                    "redirectUri must be this gateway's callback, {ours}"
                )))
            }
        }
    }
}

/// The OAuth client of a stored connection, when it holds one.
fn stored_client(credential: &Credential) -> Option<OAuthClient> {
    match credential {
        Credential::Oauth2Tokens {
            client_id,
            client_secret,
            ..
        }
        | Credential::Oauth2ClientCredentials {
            client_id,
            client_secret,
            ..
        } => Some(OAuthClient {
            id: client_id.clone(),
            secret: client_secret.clone(),
        }),
        _ => None,
    }
}

/// The OAuth2 scheme a flow authorizes with: the one `named`, else the
/// integration's `auth` when it is OAuth2, else its first OAuth2 `authSchemes`.
fn oauth2_scheme<'d>(
    def: &'d IntegrationDef,
    named: Option<&str>,
) -> ApiResult<(&'d str, &'d AuthSpec)> {
    let oauth2 = |spec: &AuthSpec| matches!(spec, AuthSpec::Oauth2 { .. });
    let found = match named {
        Some(name) => {
            let (name, spec) = def.schemes().find(|(n, _)| *n == name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "integration '{}' has no auth scheme '{name}'",
                    def.slug
                ))
            })?;
            oauth2(spec).then_some((name, spec))
        }
        None => def.schemes().find(|(_, spec)| oauth2(spec)),
    };
    found.ok_or_else(|| {
        ApiError::bad_request(format!(
            "integration '{}' has no OAuth2 scheme{} (its auth is '{}')",
            def.slug,
            named.map(|n| format!(" named '{n}'")).unwrap_or_default(),
            def.auth.kind()
        ))
    })
}

/// Start OAuth2 authorization code + PKCE for a connection.
#[utoipa::path(
    post,
    operation_id = "connect",
    path = "/integrations/{idOrSlug}/connect",
    tag = "connections",
    params(("idOrSlug" = String, Path, description = "Integration id or slug")),
    request_body = ConnectRequest,
    responses((status = 200, body = ConnectResponse), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn connect(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Option<Json<ConnectRequest>>,
) -> ApiResult<Json<ConnectResponse>> {
    let Json(body) = body.unwrap_or_default();
    let summary = find(&app, &tenant, &id).await?;
    let def = definition(&app, &tenant, &summary.slug).await?;
    let connection = body
        .connection
        .unwrap_or_else(|| Connection::DEFAULT.to_owned());
    let client = match (body.client_id, body.client_secret) {
        (Some(id), Some(secret)) => Some(OAuthClient { id, secret }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "clientId and clientSecret go together",
            ));
        }
        (None, None) => None,
    };
    let existing = app
        .store
        .load_connection(&tenant, &def.slug, &connection)
        .await
        .map_err(|e| store_error("reading the connection", &e))?;
    let named = body
        .auth_scheme
        .or_else(|| existing.as_ref().and_then(|c| c.auth_scheme.clone()));
    let (scheme, auth) = oauth2_scheme(&def, named.as_deref())?;
    let client_id = client
        .as_ref()
        .map(|c| c.id.clone())
        .or_else(|| {
            existing
                .as_ref()
                .and_then(|c| stored_client(&c.credential))
                .map(|c| c.id)
        })
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "connection '{connection}' has no OAuth client yet: send clientId and clientSecret"
            ))
        })?;
    let redirect = redirect_uri(&app, &headers, body.redirect_uri)?;
    let start = begin_authorization(auth, &client_id, &redirect, body.scopes.as_deref())?;
    let pending = PendingAuthorization {
        tenant: tenant.clone(),
        integration: def.slug.clone(),
        connection,
        redirect_uri: redirect,
        verifier: start.verifier,
        client,
        auth_scheme: (scheme != DEFAULT_AUTH_SCHEME).then(|| scheme.to_owned()),
    };
    app.store
        .create_oauth_state(&start.state, &pending, STATE_TTL)
        .await
        .map_err(|e| store_error("storing the authorization state", &e))?;
    Ok(Json(ConnectResponse {
        authorization_url: start.url.to_string(),
        state: start.state,
        expires_at: rfc3339(app.clock.now() + STATE_TTL),
    }))
}

/// The provider's redirect: checks the state, exchanges the code with the
/// verifier, stores the tokens on the connection, and says so in a page.
///
/// A person's browser lands here, so every answer is an HTML page (never the
/// JSON error shape), its text escaped, under a CSP that allows no script.
pub async fn callback(
    State(app): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    // A flow the dashboard started goes back to it (decision 105).
    let back = |integration: &str| {
        let started = cookie(&headers, RETURN_COOKIE);
        let state = query.as_ref().ok().and_then(|Query(q)| q.state.as_deref());
        (started.is_some() && started == state)
            .then(|| format!("/integrations/{integration}?done=authorized"))
    };
    let outcome = match &query {
        Ok(Query(q)) => finish(&app, q.clone()).await,
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            format!("the redirect's query cannot be read ({})", e.body_text()),
        )),
    };
    match outcome {
        Ok((integration, connection)) => {
            let back = back(&integration);
            let mut response = page(
                StatusCode::OK,
                "Connected",
                &format!(
                    "Connection '{connection}' of integration '{integration}' is authorized.{}",
                    if back.is_some() {
                        ""
                    } else {
                        " You can close this window."
                    }
                ),
                back.as_deref(),
            );
            if back.is_some() {
                response.headers_mut().append(
                    header::SET_COOKIE,
                    HeaderValue::from_str(&format!(
                        "{RETURN_COOKIE}=; Path={CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax"
                    ))
                    .unwrap_or_else(|_| HeaderValue::from_static("")),
                );
            }
            response
        }
        Err((status, message)) => page(status, "Authorization failed", &message, None),
    }
}

async fn finish(
    app: &AppState,
    q: CallbackQuery,
) -> Result<(String, String), (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned());
    let state = q
        .state
        .as_deref()
        .ok_or_else(|| bad("the redirect carries no state"))?;
    let pending = match app.store.consume_oauth_state(state).await {
        Ok(StateOutcome::Consumed(p)) => p,
        Ok(StateOutcome::Unknown) => return Err(bad("this authorization is unknown: start again")),
        Ok(StateOutcome::Replayed) => {
            return Err(bad("this authorization was already completed: start again"));
        }
        Ok(StateOutcome::Expired) => return Err(bad("this authorization expired: start again")),
        Ok(_) => return Err(bad("this authorization cannot be completed: start again")),
        Err(e) => {
            tracing::error!(error = %crate::app::causes(&e), "consuming an OAuth state failed");
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "storage is unavailable".into(),
            ));
        }
    };
    if let Some(error) = q.error {
        let detail = q
            .error_description
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(bad(&format!(
            "the provider did not authorize ({error}{detail}); nothing was stored"
        )));
    }
    let code = q
        .code
        .as_deref()
        .ok_or_else(|| bad("the redirect carries no code"))?;
    let (tenant, slug, name) = (&pending.tenant, &pending.integration, &pending.connection);
    let unavailable = |context: &str, e: &waygate_store::Error| {
        tracing::error!(error = %crate::app::causes(e), "{context}");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage is unavailable: start again shortly".to_owned(),
        )
    };
    let def = app
        .store
        .load_integration(tenant, slug)
        .await
        .map_err(|e| unavailable("reading the integration of an OAuth callback failed", &e))?
        .ok_or_else(|| bad("the integration no longer exists"))?
        .def;
    let existing = app
        .store
        .load_connection(tenant, slug, name)
        .await
        .map_err(|e| unavailable("reading the connection of an OAuth callback failed", &e))?;
    let client = pending
        .client
        .clone()
        .or_else(|| existing.as_ref().and_then(|c| stored_client(&c.credential)))
        .ok_or_else(|| bad("the connection has no OAuth client"))?;
    let auth = match pending.auth_scheme.as_deref() {
        Some(name) => def.auth_scheme(name).ok_or_else(|| {
            bad("the integration no longer has the auth scheme the flow started with")
        })?,
        None => &def.auth,
    };
    let exchanged = app
        .oauth
        .exchange_code(
            auth,
            &client.id,
            &client.secret,
            code,
            &pending.redirect_uri,
            pending.verifier.as_ref(),
        )
        .await;
    let result = match exchanged {
        Ok(credential) => {
            let mut connection = Connection::new(name.clone(), credential);
            connection.base_url = existing.and_then(|c| c.base_url);
            connection.auth_scheme = pending.auth_scheme.clone();
            app.writes()
                .store_connection(tenant, slug, &connection)
                .await
                .map_err(|e| unavailable("storing OAuth tokens failed", &e))
        }
        Err(e) => Err(exchange_failed(app, &pending, existing, &client, &e).await),
    };
    result.map(|()| (slug.clone(), name.clone()))
}

/// The code exchange failed: the page says why (502: the provider, not the
/// browser's request, failed), and the connection shows that it is not
/// authorized, so the failure does not pass unnoticed:
///
/// - a new connection is stored `needs_reauth` with its OAuth client and no
///   token (calls fail fast; `connect` again needs no client secret);
/// - an existing one becomes `needs_reauth` when the provider refused (its
///   tokens are no longer trusted by the person re-authorizing it), and keeps
///   its tokens and status when the provider could not be reached.
async fn exchange_failed(
    app: &AppState,
    pending: &PendingAuthorization,
    existing: Option<Connection>,
    client: &OAuthClient,
    error: &waygate_core::Error,
) -> (StatusCode, String) {
    let (tenant, slug, name) = (&pending.tenant, &pending.integration, &pending.connection);
    let refused = matches!(error.kind(), CoreKind::Credentials { .. });
    let key = CredentialKey::new(tenant, slug, name);
    let marked = match existing {
        None => {
            // Stored active, then marked: `store_connection` makes what it stores active.
            let placeholder = Connection::new(
                name.clone(),
                Credential::Oauth2Tokens {
                    client_id: client.id.clone(),
                    client_secret: client.secret.clone(),
                    access_token: SecretString::from(String::new()),
                    refresh_token: None,
                    expires_at: None,
                    scopes: Vec::new(),
                },
            );
            match app
                .writes()
                .store_connection(tenant, slug, &placeholder)
                .await
            {
                Ok(()) => app
                    .writes()
                    .set_connection_status(&key, ConnectionStatus::NeedsReauth)
                    .await
                    .map(|()| true),
                Err(e) => Err(e),
            }
        }
        Some(_) if refused => app
            .writes()
            .set_connection_status(&key, ConnectionStatus::NeedsReauth)
            .await
            .map(|()| true),
        Some(_) => Ok(false),
    };
    let state = match marked {
        Ok(true) => format!("connection '{name}' needs to be authorized again"),
        Ok(false) => format!("connection '{name}' keeps its current tokens"),
        Err(e) => {
            tracing::error!(error = %crate::app::causes(&e), "marking a connection needs_reauth failed");
            format!("connection '{name}' is unchanged")
        }
    };
    let why = if refused {
        "the provider's token endpoint refused the code"
    } else {
        "the provider's token endpoint could not be used"
    };
    (
        StatusCode::BAD_GATEWAY,
        format!("{why} ({error}); {state}: start the authorization again"),
    )
}

/// The policy of the callback's pages: nothing loads, nothing runs, nothing
/// frames them; the only style is the page's own `<style>` element.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A small self-contained HTML page (no scripts, no external assets), not
/// cached and not sent as a referrer (its URL carried the code). With `back`
/// (a path of this gateway), it links there and goes there at once.
fn page(status: StatusCode, title: &str, message: &str, back: Option<&str>) -> Response {
    let (refresh, link) = match back {
        Some(path) => (
            format!(
                "<meta http-equiv=\"refresh\" content=\"0;url={}\">",
                escape(path)
            ),
            format!(
                "<p><a href=\"{}\">Back to the dashboard</a></p>",
                escape(path)
            ),
        ),
        None => (String::new(), String::new()),
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}<title>{t} · Waygate</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:4em auto}}</style></head>\
         <body><h1>{t}</h1><p>{m}</p>{link}</body></html>",
        t = escape(title),
        m = escape(message)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Refresh a connection's OAuth2 tokens now.
#[utoipa::path(
    post,
    operation_id = "refreshConnection",
    path = "/connections/{id}/refresh",
    tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, body = RefreshResponse), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 502, body = super::ErrorBody)))]
pub async fn refresh(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    Path(id): Path<String>,
) -> ApiResult<Json<RefreshResponse>> {
    let info = app
        .store
        .connection_info_by_id(&tenant, &id)
        .await
        .map_err(|e| store_error("reading the connection", &e))?
        .ok_or_else(|| ApiError::not_found(format!("connection '{id}'")))?;
    let def = definition(&app, &tenant, &info.integration).await?;
    let expires = app
        .writes()
        .refresh_connection(&tenant, &def, &info.name)
        .await?;
    let info = app
        .store
        .connection_info_by_id(&tenant, &id)
        .await
        .map_err(|e| store_error("reading the connection", &e))?
        .ok_or_else(|| ApiError::not_found(format!("connection '{id}'")))?;
    Ok(Json(RefreshResponse {
        connection: info.into(),
        expires_at: expires.map(rfc3339),
    }))
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
