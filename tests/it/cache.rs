//! Response caching through the gateway (issue 18: `cache` is acted on, not
//! accepted and ignored): a cached read is answered without an upstream call
//! and says so in `meta.cache`; a write cannot be cached.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, serve_upstream};

/// An upstream counting its calls to `/rates/{base}`.
async fn counting_upstream() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let url = serve_upstream(axum::Router::new().route(
        "/rates/{base}",
        get(
            move |axum::extract::Path(base): axum::extract::Path<String>| {
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                async move { axum::Json(json!({"base": base, "call": n})) }
            },
        ),
    ))
    .await;
    (url, calls)
}

fn definition(upstream: &str) -> Value {
    json!({"slug": "fx", "name": "FX", "baseUrl": upstream,
        "actions": [{"slug": "rates", "method": "GET", "path": "/rates/{base}",
                     "parameters": [{"name": "base", "in": "path"}],
                     "cache": {"ttlSeconds": 300}}]})
}

async fn invoke(gw: &Gateway, key: &str, base: &str) -> Value {
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/actions/fx/rates",
            key,
            Some(json!({"input": {"base": base}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_cached_read_is_answered_without_calling_the_upstream() {
    let (upstream, calls) = counting_upstream().await;
    let gw = Gateway::start(&[("WAYGATE_ALLOW_PRIVATE_NETWORKS", "1")]);
    let (_, key) = gw.tenant("Cache").await;
    gw.created("/api/v1/integrations", &key, definition(&upstream))
        .await;

    let first = invoke(&gw, &key, "EUR").await;
    assert_eq!(first["data"], json!({"base": "EUR", "call": 1}));
    assert_eq!(first["meta"]["cache"]["hit"], json!(false));
    assert_eq!(first["meta"]["cache"]["ttlMs"], json!(300_000));

    let second = invoke(&gw, &key, "EUR").await;
    assert_eq!(
        second["data"],
        json!({"base": "EUR", "call": 1}),
        "{second}"
    );
    assert_eq!(second["meta"]["cache"]["hit"], json!(true));
    assert_eq!(second["meta"]["attempts"], json!(0));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let other = invoke(&gw, &key, "USD").await;
    assert_eq!(other["meta"]["cache"]["hit"], json!(false));

    // Another tenant with the same definition shares nothing.
    let (_, other_key) = gw.tenant("Other").await;
    gw.created("/api/v1/integrations", &other_key, definition(&upstream))
        .await;
    let theirs = invoke(&gw, &other_key, "EUR").await;
    assert_eq!(theirs["meta"]["cache"]["hit"], json!(false));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn no_cache_memory_keeps_nothing_and_writes_cannot_be_cached() {
    let (upstream, calls) = counting_upstream().await;
    let gw = Gateway::start(&[
        ("WAYGATE_ALLOW_PRIVATE_NETWORKS", "1"),
        ("WAYGATE_RESPONSE_CACHE_BYTES", "0"),
    ]);
    let (_, key) = gw.tenant("No cache").await;
    gw.created("/api/v1/integrations", &key, definition(&upstream))
        .await;
    invoke(&gw, &key, "EUR").await;
    let again = invoke(&gw, &key, "EUR").await;
    assert_eq!(again["meta"]["cache"]["hit"], json!(false));
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/integrations",
            &key,
            Some(json!({"slug": "pay", "name": "Pay", "baseUrl": upstream,
                "actions": [{"slug": "charge", "method": "POST", "path": "/charges",
                             "cache": {"ttlSeconds": 60}}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.to_string().contains("actions[0].cache"),
        "the error names the field: {body}"
    );
}
