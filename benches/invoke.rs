//! Run with: cargo bench -p waygate-core --bench invoke
//!
//! The same GET against a local upstream, through Waygate's full pipeline (on
//! the general transport, the embedded default, and on the gateway's pooled
//! one) and through a bare `reqwest::Client`, measured side by side in one
//! run. The last line states the overhead Waygate adds per call.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{Json, Router, routing::get};
use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};
use waygate_core::pipeline::MemoryLogSink;
use waygate_core::{Connection, Credential, IntegrationDef, Transport, UrlPolicy, Waygate};

struct Fixture {
    rt: tokio::runtime::Runtime,
    url: String,
    waygate: Waygate,
    pooled: Waygate,
    logged: Waygate,
    client: reqwest::Client,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let app = Router::new().route(
            "/items/{id}",
            get(|| async { Json(json!({"id": "1", "name": "thing", "ok": true})) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    let def = IntegrationDef::from_json(
        &json!({
            "slug": "bench", "name": "Bench", "baseUrl": url, "auth": {"type": "bearer"},
            "actions": [{"slug": "get_item", "method": "GET", "path": "/items/{id}",
                         "parameters": [{"name": "id", "in": "path"}],
                         "inputSchema": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}]
        })
        .to_string(),
    )
    .unwrap();
    let build = |transport: Transport, logs: Option<Arc<MemoryLogSink>>| {
        let mut b = Waygate::builder()
            .integration(def.clone())
            .connection(
                "bench",
                Connection::default_with(Credential::bearer("bench-token")),
            )
            .url_policy(UrlPolicy::strict().allow_loopback())
            .transport(transport);
        if let Some(sink) = logs {
            b = b.log_sink(sink);
        }
        b.build().unwrap()
    };
    let general = || Transport::general().no_proxy_from_env();
    Fixture {
        waygate: build(general(), None),
        pooled: build(Transport::pooled(), None),
        logged: build(general(), Some(Arc::new(MemoryLogSink::new(10_000)))),
        client: reqwest::Client::new(),
        rt,
        url,
    }
}

async fn via_waygate(w: &Waygate) -> Value {
    w.invoke("bench.get_item", json!({"id": "1"}))
        .await
        .unwrap()
        .data
}

async fn via_reqwest(client: &reqwest::Client, url: &str) -> Value {
    let response = client
        .get(format!("{url}/items/1"))
        .bearer_auth("bench-token")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    response.json().await.unwrap()
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("invoke");
    group.bench_function("reqwest", |b| {
        b.to_async(&f.rt)
            .iter(|| async { black_box(via_reqwest(&f.client, &f.url).await) })
    });
    group.bench_function("waygate", |b| {
        b.to_async(&f.rt)
            .iter(|| async { black_box(via_waygate(&f.waygate).await) })
    });
    group.bench_function("waygate-pooled", |b| {
        b.to_async(&f.rt)
            .iter(|| async { black_box(via_waygate(&f.pooled).await) })
    });
    group.bench_function("waygate+log", |b| {
        b.to_async(&f.rt)
            .iter(|| async { black_box(via_waygate(&f.logged).await) })
    });
    group.finish();
}

/// Interleaved rounds of the clients, so drift on a shared machine hits them alike.
fn summary() {
    let f = fixture();
    let (rounds, per_round) = (20, 250);
    let (mut waygate, mut pooled, mut reqwest) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    f.rt.block_on(async {
        for _ in 0..50 {
            via_waygate(&f.waygate).await;
            via_waygate(&f.pooled).await;
            via_reqwest(&f.client, &f.url).await;
        }
        for _ in 0..rounds {
            let t = Instant::now();
            for _ in 0..per_round {
                black_box(via_reqwest(&f.client, &f.url).await);
            }
            reqwest += t.elapsed();
            let t = Instant::now();
            for _ in 0..per_round {
                black_box(via_waygate(&f.waygate).await);
            }
            waygate += t.elapsed();
            let t = Instant::now();
            for _ in 0..per_round {
                black_box(via_waygate(&f.pooled).await);
            }
            pooled += t.elapsed();
        }
    });
    let calls = f64::from(rounds * per_round);
    let per_call = |d: Duration| d.as_secs_f64() * 1e6 / calls;
    let (w, p, r) = (per_call(waygate), per_call(pooled), per_call(reqwest));
    println!(
        "invoke overhead: waygate (general transport) {w:.1} µs/call, waygate (pooled transport) {p:.1} µs/call, reqwest {r:.1} µs/call; ratios {:.2} and {:.2} (added {:.1} and {:.1} µs/call)",
        w / r,
        p / r,
        w - r,
        p - r
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
