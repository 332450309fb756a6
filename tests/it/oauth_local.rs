//! OAuth2 edges through the running gateway against a small token endpoint
//! in the test (it counts its requests and answers as told): a dry run never
//! refreshes or fetches a token, and the callback's failures are HTML pages
//! that leave the connection saying it needs authorization.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, serve_upstream};

/// How the token endpoint answers.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Tokens,
    InvalidGrant,
    ServerError,
    Garbage,
}

/// A provider: a token endpoint and an API that echoes the bearer token.
struct Provider {
    url: String,
    hits: Arc<AtomicUsize>,
    mode: Arc<Mutex<Mode>>,
}

impl Provider {
    async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(Mutex::new(Mode::Tokens));
        let (counted, told) = (hits.clone(), mode.clone());
        let token = move || {
            let (counted, told) = (counted.clone(), told.clone());
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                let mode = *told.lock().unwrap();
                let answer: Response = match mode {
                    Mode::Tokens => Json(
                        json!({"access_token": "fresh-token", "token_type": "Bearer",
                        "expires_in": 3600, "refresh_token": "rt-2"}),
                    )
                    .into_response(),
                    Mode::InvalidGrant => (
                        AxumStatus::BAD_REQUEST,
                        Json(json!({"error": "invalid_grant"})),
                    )
                        .into_response(),
                    Mode::ServerError => {
                        (AxumStatus::INTERNAL_SERVER_ERROR, "<h1>down</h1>").into_response()
                    }
                    Mode::Garbage => (AxumStatus::OK, "<html>not a token</html>").into_response(),
                };
                answer
            }
        };
        let me = |headers: HeaderMap| async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            Json(json!({"auth": auth}))
        };
        let url = serve_upstream(
            axum::Router::new()
                .route("/token", post(token))
                .route("/me", get(me)),
        )
        .await;
        Self { url, hits, mode }
    }

    fn answer(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn definition(&self) -> Value {
        json!({
            "slug": "prov", "name": "Provider", "baseUrl": self.url,
            "auth": {"type": "oauth2", "flows": ["authorization_code", "client_credentials"],
                     "authorizationUrl": "https://provider.example/authorize",
                     "tokenUrl": format!("{}/token", self.url), "scopes": ["read"]},
            "actions": [{"slug": "me", "method": "GET", "path": "/me"}]
        })
    }
}

async fn connections(gw: &Gateway, key: &str) -> Value {
    let (status, list) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/prov/connections",
            key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["data"].clone()
}

fn status_of(list: &Value, name: &str) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no connection '{name}' in {list}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_dry_run_refreshes_nothing_and_stores_nothing() {
    let provider = Provider::start().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Dry").await;
    gw.created("/api/v1/integrations", &key, provider.definition())
        .await;
    gw.created(
        "/api/v1/integrations/prov/connections",
        &key,
        json!({"credential": {"type": "oauth2_tokens", "clientId": "cid", "clientSecret": "csecret",
            "accessToken": "stale-access-token", "refreshToken": "rt-1",
            "expiresAt": "2020-01-01T00:00:00Z"}}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/prov/connections",
        &key,
        json!({"name": "machine", "credential": {"type": "oauth2_client_credentials",
            "clientId": "cid", "clientSecret": "csecret"}}),
    )
    .await;
    let before = connections(&gw, &key).await;

    let (status, dry) = gw
        .call(
            Method::POST,
            "/api/v1/actions/prov/me/test",
            &key,
            Some(json!({"input": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["valid"], true);
    assert_eq!(dry["request"]["headers"]["authorization"], "[REDACTED]");
    let note = dry["notes"][0].as_str().unwrap();
    assert!(
        note.contains("expired") && note.contains("refresh"),
        "{note}"
    );
    for secret in ["stale-access-token", "rt-1", "csecret"] {
        assert!(!dry.to_string().contains(secret), "{secret} in {dry}");
    }
    let (status, dry) = gw
        .call(
            Method::POST,
            "/api/v1/actions/prov/me/test",
            &key,
            Some(json!({"input": {}, "connection": "machine"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["request"]["headers"]["authorization"], "[REDACTED]");
    assert!(
        dry["notes"][0]
            .as_str()
            .unwrap()
            .contains("client credentials"),
        "{dry}"
    );

    assert_eq!(provider.hits(), 0, "a dry run called the token endpoint");
    assert_eq!(
        connections(&gw, &key).await,
        before,
        "a dry run changed the store"
    );

    // The real call refreshes first: the endpoint counts, the store changes.
    let (status, called) = gw
        .call(
            Method::POST,
            "/api/v1/actions/prov/me",
            &key,
            Some(json!({"input": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{called}");
    assert_eq!(called["data"]["auth"], "Bearer fresh-token");
    assert_eq!(provider.hits(), 1);
    assert_ne!(connections(&gw, &key).await, before);
}

/// Starts authorization of `connection` (a new one takes the client); returns the state.
async fn connect(gw: &Gateway, key: &str, connection: &str, client: bool) -> String {
    let mut body = json!({"connection": connection});
    if client {
        body["clientId"] = json!("cid");
        body["clientSecret"] = json!("csecret");
    }
    let (status, start) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/prov/connect",
            key,
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    start["state"].as_str().unwrap().to_owned()
}

/// GETs the callback with `query`; checks that the answer is a safe HTML page.
async fn callback(gw: &Gateway, query: &str) -> (StatusCode, String) {
    let response = gw
        .client
        .get(format!("{}/oauth/callback?{query}", gw.url))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let page = response.text().await.unwrap();
    assert_eq!(
        headers["content-type"], "text/html; charset=utf-8",
        "{query}: {page}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(!page.contains("<script"), "{page}");
    (status, page)
}

#[tokio::test]
async fn callback_failures_are_pages_and_mark_the_connection() {
    let provider = Provider::start().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Callback").await;
    gw.created("/api/v1/integrations", &key, provider.definition())
        .await;

    // The token endpoint refuses the code (400 invalid_grant): a page, not a 500,
    // and the new connection exists, waiting for a person.
    provider.answer(Mode::InvalidGrant);
    let state = connect(&gw, &key, "fresh", true).await;
    let (status, page) = callback(&gw, &format!("state={state}&code=abc")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("Authorization failed"), "{page}");
    assert!(page.contains("refused the code"), "{page}");
    assert!(page.contains("needs to be authorized again"), "{page}");
    assert_eq!(provider.hits(), 1);
    assert_eq!(
        status_of(&connections(&gw, &key).await, "fresh"),
        "needs_reauth"
    );
    // It kept its client: authorizing again needs no secret; it does not call.
    connect(&gw, &key, "fresh", false).await;
    let (status, called) = gw
        .call(
            Method::POST,
            "/api/v1/actions/prov/me",
            &key,
            Some(json!({"input": {}, "connection": "fresh"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{called}");
    assert_eq!(provider.hits(), 1);

    // An unreadable answer: the same.
    provider.answer(Mode::Garbage);
    let state = connect(&gw, &key, "third", true).await;
    let (status, page) = callback(&gw, &format!("state={state}&code=abc")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert_eq!(
        status_of(&connections(&gw, &key).await, "third"),
        "needs_reauth"
    );

    // An authorized connection whose re-authorization meets a provider that is
    // down keeps its tokens and stays active; one that is refused is marked.
    gw.created(
        "/api/v1/integrations/prov/connections",
        &key,
        json!({"credential": {"type": "oauth2_tokens", "clientId": "cid", "clientSecret": "csecret",
            "accessToken": "working-token", "expiresAt": "2999-01-01T00:00:00Z"}}),
    )
    .await;
    provider.answer(Mode::ServerError);
    let state = connect(&gw, &key, "default", false).await;
    let (status, page) = callback(&gw, &format!("state={state}&code=abc")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("could not be used"), "{page}");
    assert!(page.contains("keeps its current tokens"), "{page}");
    assert_eq!(
        status_of(&connections(&gw, &key).await, "default"),
        "active"
    );
    provider.answer(Mode::InvalidGrant);
    let state = connect(&gw, &key, "default", false).await;
    let (status, page) = callback(&gw, &format!("state={state}&code=abc")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("needs to be authorized again"), "{page}");
    assert_eq!(
        status_of(&connections(&gw, &key).await, "default"),
        "needs_reauth"
    );

    // A working exchange makes it active again.
    provider.answer(Mode::Tokens);
    let state = connect(&gw, &key, "default", false).await;
    let (status, page) = callback(&gw, &format!("state={state}&code=abc")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("is authorized"), "{page}");
    assert_eq!(
        status_of(&connections(&gw, &key).await, "default"),
        "active"
    );

    // What the provider or the browser sends is shown escaped, as a page.
    let state = connect(&gw, &key, "denied", true).await;
    let (status, page) = callback(
        &gw,
        &format!("state={state}&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    let (status, page) = callback(&gw, "state=unknown&code=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("unknown"), "{page}");
    let (status, page) = callback(&gw, "state=a&state=b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
}
