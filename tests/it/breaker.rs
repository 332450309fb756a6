//! The circuit breaker as a gateway client meets it (issue 13): consecutive
//! failures open it for the failing action only, successes on retry never
//! open it, and an open breaker answers 503 `CIRCUIT_OPEN` without calling
//! the upstream.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Gateway, serve_upstream};

#[tokio::test]
async fn a_failing_action_opens_its_own_breaker_and_a_flaky_one_none() {
    let broken_calls = Arc::new(AtomicUsize::new(0));
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let (broken, flaky) = (broken_calls.clone(), flaky_calls.clone());
    let upstream = serve_upstream(
        axum::Router::new()
            .route(
                "/broken",
                get(move || {
                    broken.fetch_add(1, Ordering::SeqCst);
                    async { AxumStatus::INTERNAL_SERVER_ERROR }
                }),
            )
            // Every other call fails: each invocation succeeds on its retry.
            .route(
                "/flaky",
                get(move || {
                    let n = flaky.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n % 2 == 0 {
                            AxumStatus::SERVICE_UNAVAILABLE
                        } else {
                            AxumStatus::OK
                        }
                    }
                }),
            )
            .route("/fine", get(|| async { "{}" })),
    )
    .await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Breakers").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "up", "name": "Up", "baseUrl": upstream,
            "defaults": {
                "retry": {"maxAttempts": 2, "baseDelayMs": 1, "maxDelayMs": 1},
                "circuitBreaker": {"failureThreshold": 3, "windowMs": 60000, "openMs": 60000}},
            "actions": [
                {"slug": "broken", "method": "GET", "path": "/broken", "retry": {"maxAttempts": 1}},
                {"slug": "flaky", "method": "GET", "path": "/flaky"},
                {"slug": "fine", "method": "GET", "path": "/fine"}]}),
    )
    .await;
    let invoke = |action: &'static str| {
        let path = format!("/api/v1/actions/up/{action}");
        let (gw, key) = (&gw, &key);
        async move {
            gw.call(Method::POST, &path, key, Some(json!({"input": {}})))
                .await
        }
    };

    // A flaky upstream that succeeds on retry: twenty successes, nothing opens.
    for _ in 0..20 {
        let (status, body) = invoke("flaky").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 40);

    // Three failures in a row open the broken action's breaker: the fourth
    // call is refused without reaching the upstream.
    for _ in 0..3 {
        let (status, body) = invoke("broken").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    }
    let (status, body) = invoke("broken").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "CIRCUIT_OPEN", "{body}");
    assert_eq!(broken_calls.load(Ordering::SeqCst), 3);

    // The integration's other actions still flow.
    for action in ["fine", "flaky"] {
        let (status, body) = invoke(action).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    let (status, health) = gw
        .call(Method::GET, "/api/v1/integrations/up/health", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["circuitBreaker"], "open", "{health}");
}
