//! Spans exported over OTLP/HTTP (decisions 92, 94): `waygate serve` pointed
//! at a receiver on 127.0.0.1 exports each invocation as a trace (the
//! `invoke` span, a child per pipeline step, one `send` per attempt) with its
//! attributes and no secret; bad `OTEL_*` settings stop the start. The
//! receiver and the set-up are shared with `propagation.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message as _;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Gateway, serve_upstream};

const TOKEN: &str = "tok-otlp-secret-41d7c0aa93";

/// One exported span: its name, ids and attributes as text.
#[derive(Debug, Clone)]
pub(crate) struct Exported {
    pub(crate) name: String,
    pub(crate) trace: Vec<u8>,
    pub(crate) id: Vec<u8>,
    pub(crate) parent: Vec<u8>,
    pub(crate) attributes: BTreeMap<String, String>,
}

/// What the receiver got: every span, and every request body as it came.
#[derive(Default)]
pub(crate) struct Received {
    spans: Vec<Exported>,
    bodies: Vec<Bytes>,
    services: Vec<String>,
}

fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        Some(Any::IntValue(i)) => i.to_string(),
        Some(Any::DoubleValue(d)) => d.to_string(),
        Some(Any::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// An OTLP/HTTP receiver on 127.0.0.1: `POST /v1/traces` with protobuf bodies.
pub(crate) async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let kept = received.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let protobuf = headers
                    .get("content-type")
                    .is_some_and(|v| v == "application/x-protobuf");
                let Ok(request) = ExportTraceServiceRequest::decode(body.clone()) else {
                    return AxumStatus::BAD_REQUEST;
                };
                let mut kept = kept.lock().unwrap();
                kept.bodies.push(body);
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|a| a.key == "service.name")
                        .map(|a| text(a.value.as_ref()));
                    kept.services.extend(service);
                    for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                        kept.spans.push(Exported {
                            name: span.name,
                            trace: span.trace_id,
                            id: span.span_id,
                            parent: span.parent_span_id,
                            attributes: span
                                .attributes
                                .iter()
                                .map(|a| (a.key.clone(), text(a.value.as_ref())))
                                .collect(),
                        });
                    }
                }
                if protobuf {
                    AxumStatus::OK
                } else {
                    AxumStatus::UNSUPPORTED_MEDIA_TYPE
                }
            }
        }),
    );
    (serve_upstream(router).await, received)
}

/// An upstream whose first answer is a 503 (so the call is retried), then 200s
/// that check the bearer token.
async fn upstream() -> String {
    let calls = Arc::new(AtomicUsize::new(0));
    serve_upstream(axum::Router::new().route(
        "/items/{id}",
        get(move |headers: HeaderMap| {
            let calls = calls.clone();
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    return (AxumStatus::SERVICE_UNAVAILABLE, Json(json!({"busy": true})))
                        .into_response();
                }
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
                match auth == Some(&format!("Bearer {TOKEN}")) {
                    true => Json(json!({"id": "7", "name": "thing"})).into_response(),
                    false => AxumStatus::UNAUTHORIZED.into_response(),
                }
            }
        }),
    ))
    .await
}

/// A tenant with the `crm` integration on `upstream` (`get_item`: `GET
/// /items/{id}`, retried once) and a bearer connection; its tenant id and key.
pub(crate) async fn connect(gw: &Gateway, upstream: &str) -> (String, String) {
    let (tenant, key) = gw.tenant("Traced").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "crm", "name": "CRM", "baseUrl": upstream, "auth": {"type": "bearer"},
               "defaults": {"retry": {"maxAttempts": 2, "baseDelayMs": 1, "maxDelayMs": 1}},
               "actions": [{"slug": "get_item", "method": "GET", "path": "/items/{id}",
                            "parameters": [{"name": "id", "in": "path"}],
                            "inputSchema": {"type": "object", "required": ["id"],
                                            "properties": {"id": {"type": "string"}}}}]}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/crm/connections",
        &key,
        json!({"credential": {"type": "bearer", "token": TOKEN}}),
    )
    .await;
    (tenant, key)
}

/// The spans received once `done` holds for them, exported in batches
/// (`OTEL_BSP_SCHEDULE_DELAY`); fails after 15 s.
pub(crate) async fn exported(
    received: &Mutex<Received>,
    gw: &Gateway,
    done: impl Fn(&[Exported]) -> bool,
) -> Vec<Exported> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let spans = received.lock().unwrap().spans.clone();
        if done(&spans) {
            return spans;
        }
        assert!(
            Instant::now() < deadline,
            "no trace exported: {spans:#?}\nlog: {}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_invocation_is_exported_as_one_trace_with_its_steps_and_no_secret() {
    let (collector, received) = receiver().await;
    let upstream = upstream().await;
    let gw = Gateway::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
        ("OTEL_SERVICE_NAME", "waygate-under-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ]);
    let (tenant, key) = connect(&gw, &upstream).await;
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/actions/crm/get_item",
            &key,
            Some(json!({"input": {"id": "7"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["attempts"], 2, "{body}");
    let request_id = body["meta"]["requestId"].as_str().unwrap().to_owned();

    // Exported in batches every 50 ms: wait for the invocation's last step.
    let spans = exported(&received, &gw, |spans| {
        spans.iter().any(|s| s.name == "invoke") && spans.iter().any(|s| s.name == "map_output")
    })
    .await;

    let invoke = spans.iter().find(|s| s.name == "invoke").unwrap();
    assert!(invoke.parent.is_empty(), "invoke is the root: {invoke:?}");
    let a = &invoke.attributes;
    assert_eq!(a["request_id"], request_id);
    assert_eq!(a["tenant"], tenant);
    assert_eq!(a["integration"], "crm");
    assert_eq!(a["action"], "get_item");
    assert_eq!(a["connection"], "default");
    assert_eq!(a["attempts"], "2");
    assert_eq!(a["upstream_status"], "200");

    let children: Vec<&str> = spans
        .iter()
        .filter(|s| s.parent == invoke.id)
        .map(|s| s.name.as_str())
        .collect();
    for step in [
        "resolve",
        "map_input",
        "validate_input",
        "credential",
        "build_request",
        "authorize",
        "breaker",
        "rate_limit",
        "validate_response",
        "map_output",
    ] {
        assert!(
            children.contains(&step),
            "{step} under invoke: {children:?}"
        );
    }
    let mut attempts: Vec<(String, String)> = spans
        .iter()
        .filter(|s| s.name == "send")
        .inspect(|s| {
            assert_eq!(s.parent, invoke.id, "{s:?}");
            assert_eq!(s.trace, invoke.trace, "{s:?}");
            assert!(s.attributes["duration_ms"].parse::<f64>().unwrap() > 0.0);
        })
        .map(|s| {
            (
                s.attributes["attempt"].clone(),
                s.attributes["status"].clone(),
            )
        })
        .collect();
    attempts.sort();
    assert_eq!(
        attempts,
        [("1".into(), "503".into()), ("2".into(), "200".into())]
    );
    let received = received.lock().unwrap();
    assert!(
        received.services.iter().all(|s| s == "waygate-under-test"),
        "{:?}",
        received.services
    );

    // No secret in anything exported or logged.
    for body in &received.bodies {
        let raw = String::from_utf8_lossy(body);
        assert!(!raw.contains(TOKEN), "the credential in an export");
        assert!(!raw.contains(&key), "the API key in an export");
    }
    let log = gw.log();
    assert!(!log.contains(TOKEN), "the credential in the log");
    assert!(!log.contains(&key), "the API key in the log");
}

#[test]
fn otlp_settings_that_cannot_be_used_stop_the_start_naming_the_variable() {
    let dir = crate::support::TempDir::new("bad-otel");
    let data = dir.0.join("data").display().to_string();
    let cases = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "only http/protobuf"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "collector:4318",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        ("OTEL_TRACES_SAMPLER", "sometimes", "OTEL_TRACES_SAMPLER"),
        ("OTEL_PROPAGATORS", "bogus", "OTEL_PROPAGATORS=\"bogus\""),
        (
            "OTEL_PROPAGATORS",
            "tracecontext,b3",
            "\"b3\" is not built in",
        ),
    ];
    for (name, value, expected) in cases {
        let err = crate::serve::fails_to_start(&["--data-dir", &data], &[(name, value)]);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
    }
}
