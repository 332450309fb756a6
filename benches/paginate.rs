//! Run with: cargo bench -p waygate-core --bench paginate
//!
//! 10,000 items over 100 pages of a local upstream, read two ways in one run:
//! Waygate's `fetchAll` (every page through the full pipeline: limiter,
//! breaker, authorize, retry, pager, limits) and a hand-written `reqwest`
//! loop following the same cursors. The last line states both and the
//! overhead Waygate adds per page.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::{Json, Router, routing::get};
use criterion::{Criterion, criterion_group};
use serde::Deserialize;
use serde_json::{Value, json};
use waygate_core::pipeline::FetchAll;
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

const ITEMS: u64 = 10_000;
const PAGE: u64 = 100;
const PAGES: u32 = (ITEMS / PAGE) as u32;

#[derive(Deserialize)]
struct Cursor {
    cursor: Option<u64>,
    limit: Option<u64>,
}

/// A page of items after `cursor`; `next` is null on the last page.
async fn page(Query(q): Query<Cursor>) -> Json<Value> {
    let from = q.cursor.unwrap_or(0);
    let to = (from + q.limit.unwrap_or(PAGE)).min(ITEMS);
    let items: Vec<Value> = (from + 1..=to)
        .map(|n| json!({"id": n, "name": format!("item {n}"), "active": n % 2 == 0}))
        .collect();
    let next = (to < ITEMS).then(|| to.to_string());
    Json(json!({"items": items, "meta": {"next": next}}))
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    url: String,
    waygate: Waygate,
    client: reqwest::Client,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let app = Router::new().route("/items", get(page));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    let def = IntegrationDef::from_json(
        &json!({
            "slug": "bench", "name": "Bench", "baseUrl": url, "auth": {"type": "bearer"},
            "actions": [{"slug": "list", "method": "GET", "path": "/items",
                "parameters": [{"name": "cursor", "in": "query"}, {"name": "limit", "in": "query"}],
                "pagination": {"strategy": "cursor", "itemsPath": "/items", "cursorPath": "/meta/next",
                               "cursorParam": "cursor", "limitParam": "limit", "pageSize": PAGE}}]
        })
        .to_string(),
    )
    .unwrap();
    let waygate = Waygate::builder()
        .integration(def)
        .connection(
            "bench",
            Connection::default_with(Credential::bearer("bench-token")),
        )
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap();
    Fixture {
        rt,
        url,
        waygate,
        client: reqwest::Client::new(),
    }
}

async fn via_waygate(w: &Waygate) -> usize {
    let all = FetchAll::default()
        .max_pages(PAGES + 1)
        .max_items(ITEMS as u32)
        .max_characters(10_000_000);
    let data = w
        .invoke("bench.list", json!({}))
        .fetch_all(all)
        .await
        .unwrap()
        .data;
    let n = data.as_array().unwrap().len();
    assert_eq!(n as u64, ITEMS);
    n
}

async fn via_reqwest(client: &reqwest::Client, url: &str) -> usize {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = client
            .get(format!("{url}/items"))
            .bearer_auth("bench-token")
            .query(&[("limit", PAGE.to_string())]);
        if let Some(c) = &cursor {
            request = request.query(&[("cursor", c)]);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        let mut body: Value = response.json().await.unwrap();
        if let Value::Array(page) = body["items"].take() {
            items.extend(page);
        }
        match body["meta"]["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(items.len() as u64, ITEMS);
    items.len()
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("paginate_10k_items_100_pages");
    group.sample_size(10);
    group.bench_function("reqwest loop", |b| {
        b.to_async(&f.rt)
            .iter(|| async { black_box(via_reqwest(&f.client, &f.url).await) })
    });
    group.bench_function("waygate fetchAll", |b| {
        b.to_async(&f.rt)
            .iter(|| async { black_box(via_waygate(&f.waygate).await) })
    });
    group.finish();
}

/// Interleaved rounds of both, so drift on a shared machine hits both alike.
fn summary() {
    let f = fixture();
    let rounds = 20;
    let (mut waygate, mut reqwest) = (Duration::ZERO, Duration::ZERO);
    f.rt.block_on(async {
        for _ in 0..3 {
            via_waygate(&f.waygate).await;
            via_reqwest(&f.client, &f.url).await;
        }
        for _ in 0..rounds {
            let t = Instant::now();
            black_box(via_reqwest(&f.client, &f.url).await);
            reqwest += t.elapsed();
            let t = Instant::now();
            black_box(via_waygate(&f.waygate).await);
            waygate += t.elapsed();
        }
    });
    let w = waygate.as_secs_f64() * 1e3 / f64::from(rounds);
    let r = reqwest.as_secs_f64() * 1e3 / f64::from(rounds);
    println!(
        "paginate 10,000 items / {PAGES} pages: waygate fetchAll {w:.2} ms, reqwest loop {r:.2} ms, ratio {:.2} (added {:.1} µs/page)",
        w / r,
        (w - r) * 1e3 / f64::from(PAGES)
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
