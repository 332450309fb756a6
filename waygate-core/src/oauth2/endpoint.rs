//! Token endpoint requests (RFC 6749 §3.2): a form post, client authentication
//! by HTTP Basic, a JSON answer. Redirects are never followed: a token request
//! carries the client secret and a grant, which must not travel to another URL.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::clock::{self, SharedClock};
use crate::error::Error;
use crate::url_policy::UrlPolicy;

/// A successful token answer. Secrets stay in `SecretString`s.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: SecretString,
    #[serde(default)]
    pub(crate) refresh_token: Option<SecretString>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
}

/// Why a token request failed, classified for the refresh protocol. Messages
/// hold status codes and OAuth error codes, never a token or secret.
#[derive(Debug)]
pub(crate) enum GrantError {
    /// The endpoint could not be reached, timed out, or answered 5xx/429: try again.
    Transient(String),
    /// `invalid_grant`: the refresh token or code is expired, revoked or used.
    InvalidGrant,
    /// Any other refusal (`invalid_client`, a redirect, an unreadable answer).
    Rejected(String),
}

impl std::fmt::Display for GrantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transient(m) => write!(f, "token endpoint unavailable: {m}"),
            Self::InvalidGrant => f.write_str("the provider answered invalid_grant"),
            Self::Rejected(m) => write!(f, "token request refused: {m}"),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// Sends token requests through the outbound URL policy, redirects off.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    client: reqwest::Client,
    policy: UrlPolicy,
    /// Each request's total time, on `clock`.
    timeout: Duration,
    clock: SharedClock,
}

impl TokenEndpoint {
    /// A client built from `policy` with redirects disabled; each request
    /// gets `timeout` in all, measured on `clock`.
    pub(crate) fn new(
        policy: UrlPolicy,
        timeout: Duration,
        clock: SharedClock,
    ) -> Result<Self, Error> {
        let client = policy
            .client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config(format!("the OAuth2 HTTP client cannot be built: {e}")))?;
        Ok(Self {
            client,
            policy,
            timeout,
            clock,
        })
    }

    /// Posts `form` to `token_url`, authenticating as the client with HTTP Basic.
    pub(crate) async fn request(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &SecretString,
        form: &[(&str, &str)],
    ) -> Result<TokenResponse, GrantError> {
        let url = Url::parse(token_url)
            .map_err(|_| GrantError::Rejected("the tokenUrl is not a URL".into()))?;
        self.policy
            .check_url(&url)
            .map_err(|r| GrantError::Rejected(format!("the tokenUrl is refused: {}", r.0)))?;
        // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
        let id = form_encode(client_id);
        let secret = SecretString::from(form_encode(client_secret.expose_secret()));
        let exchange = async {
            let response = self
                .client
                .post(url)
                .basic_auth(id, Some(secret.expose_secret()))
                .header(reqwest::header::ACCEPT, "application/json")
                .form(form)
                .send()
                .await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        };
        let (status, body) = clock::timeout(&*self.clock, self.timeout, exchange)
            .await
            .ok_or_else(|| GrantError::Transient("timed out".into()))?
            .map_err(|e| GrantError::Transient(transport_reason(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|_| {
                GrantError::Rejected("the token answer is not a JSON token response".into())
            });
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(GrantError::Transient(format!("status {}", status.as_u16())));
        }
        if status.is_redirection() {
            return Err(GrantError::Rejected(format!(
                "status {} (redirects are not followed for token requests)",
                status.as_u16()
            )));
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) if e.error == "invalid_grant" => Err(GrantError::InvalidGrant),
            Ok(e) => Err(GrantError::Rejected(format!(
                "status {}, error {}",
                status.as_u16(),
                safe_code(&e.error)
            ))),
            Err(_) => Err(GrantError::Rejected(format!("status {}", status.as_u16()))),
        }
    }
}

/// An OAuth error code is a short ASCII word; anything else is not echoed.
fn safe_code(code: &str) -> &str {
    let ok = code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok { code } else { "(unreadable)" }
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// What went wrong, without the URL (reqwest's messages include it).
fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "the exchange broke off".into()
    }
}
