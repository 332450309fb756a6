//! W3C trace context through `waygate serve` (decisions 122, 123): a caller's
//! `traceparent` makes the invocation span its child and reaches the upstream
//! with the same trace id; a malformed one starts a new trace; without export
//! the caller's context passes through unchanged; `OTEL_PROPAGATORS` chooses
//! the headers that cross, `none` none of them.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::otlp::{Exported, connect, exported, receiver};
use crate::support::{Gateway, serve_upstream};

/// The caller's trace and span ids, and its `traceparent` (sampled).
const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT: &str = "b7ad6b7169203331";
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// The trace headers of a caller in a trace, with trace state and baggage.
const CALLER: &[(&str, &str)] = &[
    ("traceparent", TRACEPARENT),
    ("tracestate", "vendor=opaque"),
    ("baggage", "user=42"),
];

/// The trace headers of one upstream request.
#[derive(Debug, Clone, Default)]
struct Seen {
    traceparent: Option<String>,
    tracestate: Option<String>,
    baggage: Option<String>,
}

/// An upstream answering every `GET /items/{id}` with 200, keeping the trace
/// headers each request carried, in order.
async fn recording_upstream() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let router = axum::Router::new().route(
        "/items/{id}",
        get(move |headers: HeaderMap| {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            kept.lock().unwrap().push(Seen {
                traceparent: header("traceparent"),
                tracestate: header("tracestate"),
                baggage: header("baggage"),
            });
            async { Json(json!({"id": "7"})) }
        }),
    );
    (serve_upstream(router).await, seen)
}

/// Invokes `crm.get_item` with these extra headers; the request id.
async fn invoke(gw: &Gateway, key: &str, headers: &[(&str, &str)]) -> String {
    let mut request = gw
        .client
        .post(format!("{}/api/v1/actions/crm/get_item", gw.url))
        .bearer_auth(key)
        .json(&json!({"input": {"id": "7"}}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["meta"]["requestId"].as_str().unwrap().to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The trace id and parent span id of a `traceparent` value.
fn ids(traceparent: &str) -> (&str, &str) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    (parts[1], parts[2])
}

/// The exported `invoke` span of the invocation `request_id`, and its `send` spans.
fn invocation<'a>(spans: &'a [Exported], request_id: &str) -> (&'a Exported, Vec<&'a Exported>) {
    let invoke = spans
        .iter()
        .find(|s| s.name == "invoke" && s.attributes["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no invoke span for {request_id}: {spans:#?}"));
    let sends = spans
        .iter()
        .filter(|s| s.name == "send" && s.parent == invoke.id)
        .collect();
    (invoke, sends)
}

#[tokio::test]
async fn a_callers_trace_continues_through_the_gateway_to_the_upstream() {
    let (collector, received) = receiver().await;
    let (upstream, seen) = recording_upstream().await;
    let gw = Gateway::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ]);
    let (_, key) = connect(&gw, &upstream).await;
    let continued = invoke(&gw, &key, CALLER).await;
    // Not a W3C traceparent (the id is not hex): ignored, not an error.
    let malformed = invoke(&gw, &key, &[("traceparent", "00-not-a-trace-id-at-all-01")]).await;

    let spans = exported(&received, &gw, |spans| {
        [&continued, &malformed].iter().all(|id| {
            spans
                .iter()
                .any(|s| s.name == "invoke" && &s.attributes["request_id"] == *id)
        })
    })
    .await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");

    // The invocation is the caller's span's child, in the caller's trace.
    let (invoke_span, sends) = invocation(&spans, &continued);
    assert_eq!(hex(&invoke_span.trace), TRACE);
    assert_eq!(hex(&invoke_span.parent), PARENT);
    // The upstream sees the same trace, its parent the attempt's `send` span;
    // the trace state goes along, baggage only when asked for.
    let sent = seen[0]
        .traceparent
        .as_deref()
        .expect("a traceparent upstream");
    let (trace, parent) = ids(sent);
    assert_eq!(trace, TRACE);
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(parent, hex(&sends[0].id));
    assert!(sent.ends_with("-01"), "sampled: {sent}");
    assert_eq!(seen[0].tracestate.as_deref(), Some("vendor=opaque"));
    assert_eq!(seen[0].baggage, None);

    // A malformed traceparent: a new trace, the invocation its root, and the
    // upstream in that trace.
    let (invoke_span, sends) = invocation(&spans, &malformed);
    assert!(invoke_span.parent.is_empty(), "{invoke_span:?}");
    assert_ne!(hex(&invoke_span.trace), TRACE);
    let sent = seen[1]
        .traceparent
        .as_deref()
        .expect("a traceparent upstream");
    assert_eq!(
        ids(sent),
        (hex(&invoke_span.trace).as_str(), hex(&sends[0].id).as_str())
    );
}

#[tokio::test]
async fn without_export_the_callers_context_passes_through_unchanged() {
    let (upstream, seen) = recording_upstream().await;
    let gw = Gateway::start(&[("OTEL_PROPAGATORS", "tracecontext,baggage")]);
    let (_, key) = connect(&gw, &upstream).await;
    invoke(&gw, &key, CALLER).await;
    invoke(&gw, &key, &[]).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].traceparent.as_deref(), Some(TRACEPARENT));
    assert_eq!(seen[0].tracestate.as_deref(), Some("vendor=opaque"));
    assert_eq!(seen[0].baggage.as_deref(), Some("user=42"));
    // Nothing records a trace: none is invented for a caller without one.
    assert_eq!(seen[1].traceparent, None, "{:?}", seen[1]);
    assert_eq!(seen[1].baggage, None, "{:?}", seen[1]);
}

#[tokio::test]
async fn otel_propagators_none_neither_continues_nor_sends_a_trace() {
    let (collector, received) = receiver().await;
    let (upstream, seen) = recording_upstream().await;
    let gw = Gateway::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_PROPAGATORS", "none"),
    ]);
    let (_, key) = connect(&gw, &upstream).await;
    let request_id = invoke(&gw, &key, &[("traceparent", TRACEPARENT)]).await;
    let spans = exported(&received, &gw, |spans| {
        spans
            .iter()
            .any(|s| s.name == "invoke" && s.attributes["request_id"] == request_id)
    })
    .await;
    let (invoke_span, _) = invocation(&spans, &request_id);
    assert!(invoke_span.parent.is_empty(), "{invoke_span:?}");
    assert_ne!(hex(&invoke_span.trace), TRACE);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].traceparent, None, "{:?}", seen[0]);
    assert_eq!(seen[0].tracestate, None, "{:?}", seen[0]);
}
