//! The invocation route, `POST /api/v1/actions/{integration}/{action}`, on the
//! gateway's one request path (decision 110): every answer it can give comes
//! through the router and its layers — the request id and access headers,
//! authentication (401, 403) and the tenant's rate limit (429) from the
//! `/api/v1` layer, the body limit (413) and the JSON extractor's refusals
//! (a wrong content type, a malformed body) in the one error shape, unknown
//! actions (404), and the engine's answers: success, upstream errors and
//! `passthroughErrors`; a call's own `retry` and `timeoutMs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN_KEY, Gateway, serve_upstream};

/// An answer: status, headers and JSON body.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// Sends `body` (raw text) to `path` with `content_type` (none when `None`)
/// and the extra `headers`.
async fn post(
    gw: &Gateway,
    path: &str,
    key: Option<&str>,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut request = gw
        .client
        .post(format!("{}{path}", gw.url))
        .body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
    Answer {
        status,
        headers,
        body,
    }
}

/// A JSON invocation of `echo.{action}` with `key`.
async fn invoke(gw: &Gateway, action: &str, key: Option<&str>, body: &str) -> Answer {
    let path = format!("/api/v1/actions/echo/{action}");
    post(gw, &path, key, Some("application/json"), &[], body).await
}

/// An upstream with an answer of each kind, and the `echo` integration on it
/// for a new tenant; returns the tenant's key.
async fn echo(gw: &Gateway) -> String {
    let upstream = serve_upstream(
        axum::Router::new()
            .route(
                "/ping",
                get(|headers: HeaderMap| async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                    Json(json!({"pong": true, "auth": auth}))
                }),
            )
            .route(
                "/refuse",
                get(|| async {
                    (
                        AxumStatus::UNPROCESSABLE_ENTITY,
                        Json(json!({"message": "no such thing"})),
                    )
                        .into_response()
                }),
            ),
    )
    .await;
    // A port nothing listens on: the call cannot connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, key) = gw.tenant("Echo").await;
    let action = |slug: &str, path: &str| {
        json!({"slug": slug, "method": "GET", "path": path,
            "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}})
    };
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "echo", "name": "Echo", "baseUrl": upstream, "auth": {"type": "bearer"},
            "defaults": {"retry": {"maxAttempts": 1}},
            "actions": [action("ping", "/ping"), action("refuse", "/refuse"),
                {"slug": "away", "method": "GET", "path": "/ping",
                 "baseUrl": format!("http://127.0.0.1:{closed}"), "inputSchema": {"type": "object"}}]}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/echo/connections",
        &key,
        json!({"credential": {"type": "bearer", "token": "echo-token"}}),
    )
    .await;
    key
}

#[tokio::test]
async fn an_invocation_answers_with_the_upstream_data_and_the_gateway_headers() {
    let gw = Gateway::start(&[]);
    let key = echo(&gw).await;

    let ok = invoke(&gw, "ping", Some(&key), r#"{"input": {"n": 1}}"#).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        ok.body["data"],
        json!({"pong": true, "auth": "Bearer echo-token"})
    );
    assert_eq!(ok.body["meta"]["attempts"], 1);
    assert_eq!(ok.header("content-type"), Some("application/json"));
    // The id the gateway made is the one in `meta` and in the header.
    let id = ok.header("x-request-id").expect("a request id");
    assert_eq!(ok.body["meta"]["requestId"], id);

    // The caller's own id is kept, on success and on errors alike.
    for (key, status) in [
        (Some(key.as_str()), StatusCode::OK),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let answer = post(
            &gw,
            "/api/v1/actions/echo/ping",
            key,
            Some("application/json"),
            &[("x-request-id", "trace-7.b")],
            "{}",
        )
        .await;
        assert_eq!(answer.status, status, "{}", answer.body);
        assert_eq!(answer.header("x-request-id"), Some("trace-7.b"));
    }

    // Other spellings of the same request reach the same route: a
    // percent-encoded slug, a `+json` media type, a charset, no body fields.
    for (path, content_type) in [
        ("/api/v1/actions/echo/p%69ng", "application/json"),
        ("/api/v1/actions/echo/ping", "application/vnd.waygate+json"),
        (
            "/api/v1/actions/echo/ping",
            "application/json; charset=utf-8",
        ),
    ] {
        let answer = post(&gw, path, Some(&key), Some(content_type), &[], "{}").await;
        assert_eq!(answer.status, StatusCode::OK, "{path} as {content_type}");
        assert_eq!(answer.body["data"], ok.body["data"]);
    }

    // Each invocation is counted once, by the one path's access record.
    let metrics = gw.metrics().await;
    let posts: f64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("waygate_http_requests_total{")
                && l.contains(r#"method="POST""#)
                && l.contains(r#"status="2xx""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    // Two setup calls (integration, connection), one tenant creation, and
    // the five successful invocations above.
    assert_eq!(posts, 8.0, "{metrics}");
}

#[tokio::test]
async fn who_calls_is_checked_before_the_body_is_read() {
    let gw = Gateway::start(&[]);
    let key = echo(&gw).await;
    let cases = [
        (None, StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        (
            Some("wg_live_unknown"),
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
        ),
        (Some("not-a-key"), StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        (Some(ADMIN_KEY), StatusCode::FORBIDDEN, "FORBIDDEN"),
    ];
    for (key, status, code) in cases {
        // The body is malformed: had it been read first, the answer would be a 400.
        let answer = invoke(&gw, "ping", key, r#"{"input": {"#).await;
        assert_eq!(answer.status, status, "{key:?}: {}", answer.body);
        assert_eq!(answer.code(), code, "{key:?}");
    }
    // And so is an unknown route's caller: a tenant's 404 names the action,
    // an anonymous caller learns nothing.
    let missing = invoke(&gw, "nope", Some(&key), "{}").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(missing.code(), "NOT_FOUND");
    let anonymous = invoke(&gw, "nope", None, "{}").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // An unknown integration, and a path that is no route at all.
    for path in [
        "/api/v1/actions/nowhere/ping",
        "/api/v1/actions/echo/ping/extra/more",
    ] {
        let answer = post(&gw, path, Some(&key), Some("application/json"), &[], "{}").await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "NOT_FOUND", "{path}");
    }
}

#[tokio::test]
async fn bodies_are_refused_in_the_one_error_shape() {
    let gw = Gateway::start(&[("WAYGATE_MAX_BODY_BYTES", "4096")]);
    let key = echo(&gw).await;

    let big = json!({"input": {"pad": "x".repeat(5000)}}).to_string();
    let large = invoke(&gw, "ping", Some(&key), &big).await;
    assert_eq!(
        large.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        large.body
    );
    assert_eq!(large.code(), "PAYLOAD_TOO_LARGE");

    // Not JSON by its type (axum's 415): the error names the type to send.
    for content_type in [Some("text/plain"), None] {
        let path = "/api/v1/actions/echo/ping";
        let answer = post(&gw, path, Some(&key), content_type, &[], "{}").await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{content_type:?}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "VALIDATION_ERROR");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("Content-Type: application/json"),
            "{message}"
        );
    }

    for body in [
        r#"{"input": {"#,
        r#"{"inputs": {}}"#,
        r#"{"input": []}"#,
        r#"{"input": {"n": "one"}}"#,
        r#"{"options": {"maxPages": 2}}"#,
        r#"{"options": {"fetchAll": true}}"#,
    ] {
        let answer = invoke(&gw, "ping", Some(&key), body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
        assert_eq!(answer.code(), "VALIDATION_ERROR", "{body}");
        assert!(answer.header("x-request-id").is_some(), "{body}");
    }
}

#[tokio::test]
async fn every_invocation_costs_the_tenant_one_unit_whatever_its_answer() {
    let gw = Gateway::start(&[("WAYGATE_TENANT_RATE_LIMIT", "8")]);
    let key = echo(&gw).await;
    // The setup spent two units (the integration and the connection).
    let bodies = ["{}", r#"{"input": {"#, "{}", r#"{"input": []}"#, "{}", "{}"];
    for (n, body) in bodies.iter().enumerate() {
        let answer = invoke(&gw, "ping", Some(&key), body).await;
        assert_ne!(answer.status, StatusCode::TOO_MANY_REQUESTS, "request {n}");
    }
    let spent = invoke(&gw, "ping", Some(&key), "{}").await;
    assert_eq!(
        spent.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        spent.body
    );
    assert_eq!(spent.code(), "RATE_LIMITED");
    let wait: u64 = spent.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    // The limit is the tenant's: the operator is not counted against it.
    let operator = invoke(&gw, "ping", Some(ADMIN_KEY), "{}").await;
    assert_eq!(operator.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn upstream_failures_answer_in_the_error_shape_or_as_passed_through() {
    let gw = Gateway::start(&[]);
    let key = echo(&gw).await;

    let refused = invoke(&gw, "refuse", Some(&key), "{}").await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.body);
    assert_eq!(refused.code(), "UPSTREAM_ERROR");
    let details = &refused.body["error"]["details"];
    assert_eq!(details["upstreamStatus"], 422);
    assert_eq!(details["upstreamBody"]["message"], "no such thing");
    assert_eq!(
        refused.body["error"]["requestId"],
        refused.header("x-request-id").unwrap()
    );

    let passed = invoke(
        &gw,
        "refuse",
        Some(&key),
        r#"{"options": {"passthroughErrors": true}}"#,
    )
    .await;
    assert_eq!(passed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(passed.body, json!({"message": "no such thing"}));
    assert!(passed.header("x-request-id").is_some());

    // Nothing answers at all: no upstream status to pass through.
    for options in ["{}", r#"{"options": {"passthroughErrors": true}}"#] {
        let away = invoke(&gw, "away", Some(&key), options).await;
        assert_eq!(
            away.status,
            StatusCode::BAD_GATEWAY,
            "{options}: {}",
            away.body
        );
        assert_eq!(away.code(), "UPSTREAM_UNREACHABLE", "{options}");
    }
}

/// An upstream whose `/fail` answers 503 and counts its calls, and whose
/// `/slow` answers after two seconds; the `calls` integration on it, sending
/// each request once unless a call says otherwise.
async fn failing(gw: &Gateway) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let upstream = serve_upstream(
        axum::Router::new()
            .route(
                "/fail",
                get(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { AxumStatus::SERVICE_UNAVAILABLE }
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    Json(json!({"late": true}))
                }),
            ),
    )
    .await;
    let (_, key) = gw.tenant("Calls").await;
    let action = |slug: &str| {
        json!({"slug": slug, "method": "GET", "path": format!("/{slug}"),
            "inputSchema": {"type": "object"}})
    };
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "calls", "name": "Calls", "baseUrl": upstream, "auth": {"type": "none"},
            "defaults": {"retry": {"maxAttempts": 1, "baseDelayMs": 1, "maxDelayMs": 5}},
            "actions": [action("fail"), action("slow")]}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/calls/connections",
        &key,
        json!({"credential": {"type": "none"}}),
    )
    .await;
    (key, hits)
}

#[tokio::test]
async fn a_call_may_set_its_own_retry_and_timeout_within_bounds() {
    let gw = Gateway::start(&[]);
    let (key, hits) = failing(&gw).await;
    let call = |action: &'static str, body: &'static str| {
        let path = format!("/api/v1/actions/calls/{action}");
        let (gw, key) = (&gw, key.clone());
        async move { post(gw, &path, Some(&key), Some("application/json"), &[], body).await }
    };

    // The action's policy: one attempt.
    let once = call("fail", "{}").await;
    assert_eq!(once.status, StatusCode::BAD_GATEWAY, "{}", once.body);
    assert_eq!(hits.swap(0, Ordering::SeqCst), 1);

    // The call's own attempts, on the action's (short) delays.
    let thrice = call("fail", r#"{"options": {"retry": {"maxAttempts": 3}}}"#).await;
    assert_eq!(thrice.status, StatusCode::BAD_GATEWAY, "{}", thrice.body);
    assert_eq!(hits.swap(0, Ordering::SeqCst), 3);

    // Each attempt's timeout, in place of the action's 30 s.
    let started = std::time::Instant::now();
    let late = call("slow", r#"{"options": {"timeoutMs": 100}}"#).await;
    assert_eq!(late.code(), "UPSTREAM_TIMEOUT", "{}", late.body);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the call's timeout was not used"
    );

    // Settings out of range are refused, naming the field; nothing is sent.
    for (body, field) in [
        (
            r#"{"options": {"retry": {"maxAttempts": 0}}}"#,
            "options.retry.maxAttempts",
        ),
        (
            r#"{"options": {"retry": {"maxAttempts": 21}}}"#,
            "options.retry.maxAttempts",
        ),
        (
            r#"{"options": {"retry": {"factor": 0.5}}}"#,
            "options.retry.factor",
        ),
        (
            r#"{"options": {"retry": {"baseDelayMs": 10, "maxDelayMs": 5}}}"#,
            "options.retry.baseDelayMs",
        ),
        (r#"{"options": {"timeoutMs": 0}}"#, "options.timeoutMs"),
        (r#"{"options": {"timeoutMs": 600001}}"#, "options.timeoutMs"),
        (r#"{"options": {"retry": {"tries": 2}}}"#, "tries"),
    ] {
        let refused = call("fail", body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.body
        );
        let message = refused.body["error"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused call reached the upstream"
    );
}
