//! Step 12's trace spans (decision 92): one `invoke` span per invocation with
//! a child per step and one `send` span per attempt, their fields as
//! documented, and no secret in any of them.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::{Reply, Upstream};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

const TOKEN: &str = "tok-span-secret-8c41e2d9";

/// One span as a subscriber saw it.
#[derive(Debug, Clone)]
struct Seen {
    name: &'static str,
    parent: Option<usize>,
    fields: BTreeMap<String, String>,
}

/// A layer that keeps every span, in the order they were opened.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<Seen>>>);

/// A span's index in [`Spans`], kept in its extensions.
struct Index(usize);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").replace('"', ""),
        );
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Index>().map(|i| i.0));
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut all = self.0.lock().unwrap();
        all.push(Seen {
            name: span.name(),
            parent,
            fields,
        });
        span.extensions_mut().insert(Index(all.len() - 1));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).unwrap();
        let index = span.extensions().get::<Index>().unwrap().0;
        values.record(&mut Fields(&mut self.0.lock().unwrap()[index].fields));
    }
}

impl Spans {
    /// Keeps the spans of this thread until the guard is dropped.
    fn listen() -> (Self, tracing::subscriber::DefaultGuard) {
        let spans = Self::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        (spans, tracing::subscriber::set_default(subscriber))
    }

    fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

fn waygate(upstream: &Upstream) -> Waygate {
    let def = IntegrationDef::from_json(
        &json!({
            "slug": "crm", "name": "CRM", "baseUrl": upstream.url(), "auth": {"type": "bearer"},
            "defaults": {"retry": {"maxAttempts": 2, "baseDelayMs": 1, "maxDelayMs": 1},
                         "rateLimit": {"requestsPerSecond": 1000.0, "burst": 100}},
            "actions": [{"slug": "get_item", "method": "GET", "path": "/items/{id}",
                         "parameters": [{"name": "id", "in": "path"}],
                         "cache": {"ttlSeconds": 60},
                         "inputSchema": {"type": "object", "required": ["id"],
                                         "properties": {"id": {"type": "string"}}},
                         "outputSchema": {"type": "object"}},
                        {"slug": "list", "method": "GET", "path": "/items",
                         "parameters": [{"name": "cursor", "in": "query"}],
                         "pagination": {"strategy": "cursor", "itemsPath": "/results",
                                        "cursorPath": "/next_cursor", "cursorParam": "cursor"}}]
        })
        .to_string(),
    )
    .unwrap();
    Waygate::builder()
        .integration(def)
        .connection("crm", Connection::default_with(Credential::bearer(TOKEN)))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_invocation_is_one_span_with_a_child_per_step_and_one_per_attempt() {
    let upstream = Upstream::start().await;
    // The first attempt fails with 503 and is retried.
    upstream.script([Reply::status(503)]);
    let waygate = waygate(&upstream);
    let (spans, _default) = Spans::listen();

    let invocation = waygate
        .invoke("crm.get_item", json!({"id": "7"}))
        .await
        .unwrap();
    assert_eq!(invocation.meta.attempts, 2);

    let all = spans.all();
    let invoke = all.iter().position(|s| s.name == "invoke").unwrap();
    assert_eq!(all[invoke].parent, None, "{all:#?}");
    let fields = &all[invoke].fields;
    assert_eq!(fields["request_id"], invocation.meta.request_id);
    assert_eq!(fields["tenant"], "embedded");
    assert_eq!(fields["integration"], "crm");
    assert_eq!(fields["action"], "get_item");
    assert_eq!(fields["connection"], "default");
    assert_eq!(fields["attempts"], "2");
    assert_eq!(fields["upstream_status"], "200");
    assert!(!fields.contains_key("error_code"), "{fields:?}");

    // Every step is a child of `invoke`, in the pipeline's order.
    let children: Vec<&str> = all
        .iter()
        .filter(|s| s.parent == Some(invoke))
        .map(|s| s.name)
        .collect();
    assert_eq!(
        children,
        [
            "resolve",
            "map_input",
            "validate_input",
            "cache_lookup",
            "credential",
            "build_request",
            "authorize",
            "breaker",
            "rate_limit",
            "send",
            "rate_limit",
            "send",
            "cache_store",
            "validate_response",
            "map_output",
        ],
        "{all:#?}"
    );
    let attempts: Vec<(&str, &str)> = all
        .iter()
        .filter(|s| s.name == "send")
        .map(|s| (s.fields["attempt"].as_str(), s.fields["status"].as_str()))
        .collect();
    assert_eq!(attempts, [("1", "503"), ("2", "200")]);
    for send in all.iter().filter(|s| s.name == "send") {
        let ms: f64 = send.fields["duration_ms"].parse().unwrap();
        assert!(ms > 0.0, "{send:?}");
    }

    // A second call is answered from the cache: no attempt at all.
    let before = all.len();
    waygate
        .invoke("crm.get_item", json!({"id": "7"}))
        .await
        .unwrap();
    let again = spans.all();
    let names: Vec<&str> = again[before..].iter().map(|s| s.name).collect();
    assert!(names.contains(&"cache_lookup"), "{names:?}");
    assert!(!names.contains(&"send"), "{names:?}");

    let text = format!("{again:?}");
    assert!(!text.contains(TOKEN), "the credential in a span: {text}");
}

#[tokio::test]
async fn a_failed_invocation_records_its_error_code() {
    let upstream = Upstream::start().await;
    upstream.script([Reply::status(404)]);
    let waygate = waygate(&upstream);
    let (spans, _default) = Spans::listen();

    let e = waygate
        .invoke("crm.get_item", json!({"id": "8"}))
        .await
        .unwrap_err();
    let all = spans.all();
    let invoke = all.iter().find(|s| s.name == "invoke").unwrap();
    assert_eq!(invoke.fields["error_code"], e.code());
    assert_eq!(invoke.fields["otel.status_code"], "ERROR");
    assert_eq!(invoke.fields["upstream_status"], "404");
    let send = all.iter().find(|s| s.name == "send").unwrap();
    assert_eq!(send.fields["status"], "404");

    // Input that fails validation: the span ends at validate_input.
    let (spans, _default) = Spans::listen();
    let e = waygate
        .invoke("crm.get_item", json!({"id": 8}))
        .await
        .unwrap_err();
    let all = spans.all();
    let invoke = all.iter().find(|s| s.name == "invoke").unwrap();
    assert_eq!(invoke.fields["error_code"], e.code());
    assert_eq!(invoke.fields["attempts"], "0");
    assert!(all.iter().all(|s| s.name != "send"), "{all:#?}");
}

#[tokio::test]
async fn each_page_of_fetch_all_is_a_span_around_its_attempts() {
    let upstream = Upstream::start().await;
    upstream.script([
        Reply::json(200, json!({"results": [{"id": 1}], "next_cursor": "c2"})),
        Reply::json(200, json!({"results": [{"id": 2}], "next_cursor": null})),
    ]);
    let waygate = waygate(&upstream);
    let (spans, _default) = Spans::listen();

    let invocation = waygate
        .invoke("crm.list", json!({}))
        .fetch_all(waygate_core::pipeline::FetchAll::default())
        .await
        .unwrap();
    assert_eq!(invocation.data, json!([{"id": 1}, {"id": 2}]));
    let all = spans.all();
    let invoke = all.iter().position(|s| s.name == "invoke").unwrap();
    let pages: Vec<usize> = (0..all.len()).filter(|&i| all[i].name == "page").collect();
    assert_eq!(pages.len(), 2, "{all:#?}");
    for (number, &page) in pages.iter().enumerate() {
        assert_eq!(all[page].parent, Some(invoke));
        assert_eq!(all[page].fields["page"], (number + 1).to_string());
        let sends: Vec<&Seen> = all
            .iter()
            .filter(|s| s.name == "send" && s.parent == Some(page))
            .collect();
        assert_eq!(sends.len(), 1, "{all:#?}");
        assert_eq!(sends[0].fields["status"], "200");
    }
}
