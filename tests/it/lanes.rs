//! Invocations answer alike whether the direct lane serves them or the router
//! does: the same request is sent in a form the lane takes and in forms it
//! leaves to the router (a percent-encoded path, a `+json` media type), and
//! the answers must agree, errors included.

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN_KEY, Gateway, serve_upstream};

/// Sends `body` (raw text) to the action with `content_type`; returns the
/// status and the answer without what differs per call (ids, timings).
async fn invoke(
    gw: &Gateway,
    path: &str,
    key: Option<&str>,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let mut request = gw
        .client
        .post(format!("{}{path}", gw.url))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let mut answer: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
    for pointer in ["/meta", "/error"] {
        if let Some(Value::Object(map)) = answer.pointer_mut(pointer) {
            map.remove("requestId");
            map.remove("durationMs");
        }
    }
    (status, answer)
}

#[tokio::test]
async fn the_direct_lane_and_the_router_answer_alike() {
    let upstream = serve_upstream(axum::Router::new().route(
        "/ping",
        get(|headers: HeaderMap| async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            Json(json!({"pong": true, "auth": auth}))
        }),
    ))
    .await;
    let gw = Gateway::start(&[("WAYGATE_MAX_BODY_BYTES", "4096")]);
    let (_, key) = gw.tenant("Lanes").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "echo", "name": "Echo", "baseUrl": upstream, "auth": {"type": "bearer"},
            "actions": [{"slug": "ping", "method": "GET", "path": "/ping",
                "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}}]}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/echo/connections",
        &key,
        json!({"credential": {"type": "bearer", "token": "lane-token"}}),
    )
    .await;

    let lane = ("/api/v1/actions/echo/ping", "application/json");
    let routed = [
        ("/api/v1/actions/echo/p%69ng", "application/json"),
        ("/api/v1/actions/echo/ping", "application/vnd.waygate+json"),
    ];
    let cases: [(Option<&str>, &str, StatusCode); 9] = [
        (Some(&key), r#"{"input": {"n": 1}}"#, StatusCode::OK),
        (Some(&key), r#"{}"#, StatusCode::OK),
        (
            Some(&key),
            r#"{"input": {"n": "one"}}"#,
            StatusCode::BAD_REQUEST,
        ),
        (Some(&key), r#"{"input": []}"#, StatusCode::BAD_REQUEST),
        (Some(&key), r#"{"inputs": {}}"#, StatusCode::BAD_REQUEST),
        (Some(&key), r#"{"input": {"#, StatusCode::BAD_REQUEST),
        (
            Some(&key),
            r#"{"options": {"fetchAll": true}}"#,
            StatusCode::BAD_REQUEST,
        ),
        (Some(ADMIN_KEY), r#"{}"#, StatusCode::FORBIDDEN),
        (None, r#"{}"#, StatusCode::UNAUTHORIZED),
    ];
    for (key, body, status) in cases {
        let expected = invoke(&gw, lane.0, key, lane.1, body).await;
        assert_eq!(expected.0, status, "{body}: {}", expected.1);
        for (path, content_type) in routed {
            let other = invoke(&gw, path, key, content_type, body).await;
            assert_eq!(other, expected, "{body} to {path} as {content_type}");
        }
    }
    let (_, ok) = invoke(&gw, lane.0, Some(&key), lane.1, "{}").await;
    assert_eq!(
        ok["data"],
        json!({"pong": true, "auth": "Bearer lane-token"})
    );
    assert_eq!(ok["meta"]["attempts"], 1);

    // An unknown action, and a body over the limit, still get the router's answers.
    let (status, missing) =
        invoke(&gw, "/api/v1/actions/echo/nope", Some(&key), lane.1, "{}").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["error"]["code"], "NOT_FOUND");
    let big = json!({"input": {"pad": "x".repeat(5000)}}).to_string();
    let (status, large) = invoke(&gw, lane.0, Some(&key), lane.1, &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{large}");
    assert_eq!(large["error"]["code"], "PAYLOAD_TOO_LARGE");
}

/// The lane authenticates before reading the body and hands on what it does
/// not serve with the caller admitted: the router neither authenticates nor
/// rate-counts it again, so each request costs the tenant one unit of its limit.
#[tokio::test]
async fn a_request_the_lane_hands_on_is_admitted_once() {
    let gw = Gateway::start(&[("WAYGATE_TENANT_RATE_LIMIT", "6")]);
    let (_, key) = gw.tenant("Once").await;
    let lane = "/api/v1/actions/echo/ping";
    // Each body is read by the lane, is no invocation, and goes to the router.
    for n in 1..=6 {
        let (status, answer) =
            invoke(&gw, lane, Some(&key), "application/json", "{\"input\": {").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "request {n}: {answer}");
        assert_eq!(answer["error"]["code"], "VALIDATION_ERROR");
    }
    let (status, answer) = invoke(&gw, lane, Some(&key), "application/json", "{}").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    // An unknown key is refused from its headers on both paths alike.
    for content_type in ["application/json", "application/vnd.waygate+json"] {
        let (status, answer) = invoke(&gw, lane, Some("wg_live_unknown"), content_type, "{").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{content_type}: {answer}");
    }
}
