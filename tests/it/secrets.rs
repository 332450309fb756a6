//! No secret leaks: with API key (header and query), basic and bearer
//! credentials in use, including failing calls whose upstream echoes the
//! credential, no secret appears in any API answer, the server's log output,
//! or the raw bytes of the data directory; the raw API key is not stored.

use std::path::Path;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN_KEY, Gateway, serve_upstream};

const HEADER_KEY: &str = "sk-hdr-7f3a9c1e55d04b2a";
const QUERY_KEY: &str = "sk-qry-19be66f0a2c34d7e";
const PASSWORD: &str = "pw-basic-c0ffee9d8e7f";
const TOKEN: &str = "tok-bearer-5ab1d2e3f4a5";

fn basic_header() -> String {
    let pair = format!("ann:{PASSWORD}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn ok_if(good: bool) -> axum::response::Response {
    if good {
        Json(json!({"ok": true})).into_response()
    } else {
        (
            AxumStatus::UNAUTHORIZED,
            Json(json!({"error": "bad credential"})),
        )
            .into_response()
    }
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn upstream() -> String {
    let router = axum::Router::new()
        .route(
            "/check/header",
            get(|h: HeaderMap| async move { ok_if(header(&h, "x-api-key") == HEADER_KEY) }),
        )
        .route(
            "/check/query",
            get(|r: Request| async move {
                ok_if(r.uri().query() == Some(&format!("api_key={QUERY_KEY}")))
            }),
        )
        .route(
            "/check/basic",
            get(|h: HeaderMap| async move { ok_if(header(&h, "authorization") == basic_header()) }),
        )
        .route(
            "/check/bearer",
            get(|h: HeaderMap| async move {
                ok_if(header(&h, "authorization") == format!("Bearer {TOKEN}"))
            }),
        )
        // A careless upstream: its error echoes everything it received.
        .route(
            "/echo-fail",
            get(|r: Request| async move {
                let headers: serde_json::Map<String, Value> = r
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
                    .collect();
                (
                    AxumStatus::BAD_REQUEST,
                    Json(json!({"received": {"uri": r.uri().to_string(), "headers": headers}})),
                )
            }),
        );
    serve_upstream(router).await
}

fn definition(slug: &str, auth: Value, check: &str, upstream: &str) -> Value {
    json!({
        "slug": slug, "name": slug, "baseUrl": upstream, "auth": auth,
        "defaults": {"retry": {"maxAttempts": 1}},
        "actions": [
            {"slug": "check", "method": "GET", "path": check, "inputSchema": {"type": "object"}},
            {"slug": "fail", "method": "GET", "path": "/echo-fail", "inputSchema": {"type": "object"}}
        ]
    })
}

#[tokio::test]
async fn no_secret_in_answers_logs_or_data_files() {
    let upstream = upstream().await;
    let mut gw = Gateway::start(&[]);
    let (tenant, key) = gw.tenant("Secretive").await;
    let cases = [
        (
            "hdr",
            json!({"type": "api_key", "in": "header", "name": "X-Api-Key"}),
            "/check/header",
            json!({"type": "api_key", "key": HEADER_KEY}),
        ),
        (
            "qry",
            json!({"type": "api_key", "in": "query", "name": "api_key"}),
            "/check/query",
            json!({"type": "api_key", "key": QUERY_KEY}),
        ),
        (
            "basic",
            json!({"type": "basic"}),
            "/check/basic",
            json!({"type": "basic", "username": "ann", "password": PASSWORD}),
        ),
        (
            "bearer",
            json!({"type": "bearer"}),
            "/check/bearer",
            json!({"type": "bearer", "token": TOKEN}),
        ),
    ];
    let mut answers = Vec::new();
    let mut record = |(status, body): (StatusCode, Value)| {
        answers.push(format!("{status} {body}"));
        (status, body)
    };
    for (slug, auth, check, credential) in &cases {
        let (status, body) = record(
            gw.call(
                Method::POST,
                "/api/v1/integrations",
                &key,
                Some(definition(slug, auth.clone(), check, &upstream)),
            )
            .await,
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = record(
            gw.call(
                Method::POST,
                &format!("/api/v1/integrations/{slug}/connections"),
                &key,
                Some(json!({"credential": credential})),
            )
            .await,
        );
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let invoke = |action: &str| {
            let path = format!("/api/v1/actions/{slug}/{action}");
            let (gw, key) = (&gw, &key);
            async move {
                gw.call(Method::POST, &path, key, Some(json!({"input": {}})))
                    .await
            }
        };
        let (status, body) = record(invoke("check").await);
        assert_eq!(status, StatusCode::OK, "{slug}: {body}");
        let (status, body) = record(invoke("fail").await);
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{slug}: {body}");
        assert!(body["error"]["details"]["upstreamBody"]["received"].is_object());
        let (status, body) = record(invoke("test").await);
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        for path in ["connections", "export", "health"] {
            record(
                gw.call(
                    Method::GET,
                    &format!("/api/v1/integrations/{slug}/{path}"),
                    &key,
                    None,
                )
                .await,
            );
        }
        let (status, body) = record(
            gw.call(
                Method::POST,
                &format!("/api/v1/actions/{slug}/check/test"),
                &key,
                Some(json!({"input": {}})),
            )
            .await,
        );
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Logs hold every call; read them all back through the API.
    for _ in 0..50 {
        let (_, logs) = gw
            .call(Method::GET, "/api/v1/logs?limit=100", &key, None)
            .await;
        if logs["data"].as_array().map_or(0, Vec::len) >= 12 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, logs) = record(
        gw.call(Method::GET, "/api/v1/logs?limit=100", &key, None)
            .await,
    );
    // Per integration: check, fail, and the unknown action `test`.
    assert_eq!(logs["data"].as_array().unwrap().len(), 12, "{logs}");
    record(gw.call(Method::GET, "/api/v1/metrics", &key, None).await);
    record(
        gw.call(
            Method::GET,
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            ADMIN_KEY,
            None,
        )
        .await,
    );
    let prometheus = gw.metrics().await;
    gw.stop();

    let secrets = [
        HEADER_KEY,
        QUERY_KEY,
        PASSWORD,
        TOKEN,
        basic_header().leak(),
    ];
    let answers = answers.join("\n");
    let log = gw.log();
    assert!(log.contains("\"request\""), "the server logged no requests");
    for secret in secrets {
        assert!(!answers.contains(secret), "{secret} in an API answer");
        assert!(!log.contains(secret), "{secret} in the server log");
        assert!(!prometheus.contains(secret), "{secret} in /metrics");
    }
    assert!(!log.contains(&key), "the API key in the server log");
    let mut files = 0;
    for (path, bytes) in files_under(&gw.dir.0.join("data")) {
        files += 1;
        for secret in secrets.iter().copied().chain([key.as_str()]) {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "{secret} in the bytes of {}",
                path.display()
            );
        }
    }
    assert!(files >= 2, "the data dir holds the database and the key");
}

fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
