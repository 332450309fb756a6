//! Figures for waygate-store: resolving an integration through the
//! `IntegrationStore` port, listing and searching actions, and sustained
//! request-log inserts, on SQLite and (when `WAYGATE_TEST_POSTGRES_URL` is set)
//! on PostgreSQL in a fresh database.
//!
//! Run with: cargo bench -p waygate-store --bench store
//!
//! `WAYGATE_BENCH_INTEGRATIONS` sets the registry size (default 10 000
//! integrations × 50 actions); `WAYGATE_BENCH_LOGS` the log entries (default 200 000).

use std::time::{Duration, Instant, SystemTime};

use sea_orm::{ConnectionTrait, Database};
use waygate_core::IntegrationDef;
use waygate_core::clock::SystemClock;
use waygate_core::model::ActionDef;
use waygate_core::pipeline::{LogEntry, LogSink};
use waygate_core::storage::{CachedIntegrations, IntegrationStore};
use waygate_store::{ActionQuery, LogSinkOptions, SqlLogSink, Store};

const ACTIONS: usize = 50;
const TENANT: &str = "bench";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn definition(i: usize) -> IntegrationDef {
    let slug = format!("api-{i:05}");
    let mut def = IntegrationDef::new(&slug, format!("API number {i}"));
    def.base_url = Some(format!("https://api{i}.example.com/v1"));
    def.tags = vec!["bench".into(), format!("group-{}", i % 20)];
    for a in 0..ACTIONS {
        let mut action = ActionDef::new(
            format!("op-{a:02}"),
            if a % 3 == 0 { "POST" } else { "GET" },
            format!("/resources{a}/{{id}}"),
        );
        action.name = Some(format!("Operation {a} of {slug}"));
        action.description = Some(format!(
            "Does thing {a} to the resources of {slug}; returns the updated resource."
        ));
        action.group = Some(format!("group-{}", a % 5));
        action.input_schema = serde_json::json!({
            "type": "object",
            "properties": {"id": {"type": "string"}, "limit": {"type": "integer"}},
            "required": ["id"]
        });
        def.actions.push(action);
    }
    def
}

struct Stats(Vec<Duration>);

impl Stats {
    fn pct(&mut self, p: f64) -> Duration {
        self.0.sort();
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i]
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// A cheap deterministic sequence, so both backends see the same lookups.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

async fn time_many<F, Fut>(samples: usize, mut f: F) -> Stats
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        f(i).await;
        out.push(t.elapsed());
    }
    Stats(out)
}

async fn run(label: &str, store: Store, integrations: usize, logs: usize) {
    store.create_tenant(TENANT, "Bench").await.unwrap();
    let t = Instant::now();
    // Four writers at a time: PostgreSQL overlaps them; SQLite serialises them
    // (one writer) and the busy timeout makes the others wait their turn.
    let per = integrations.div_ceil(4);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w * per)..((w + 1) * per).min(integrations) {
                store.put_integration(TENANT, definition(i)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let load = t.elapsed();
    println!(
        "[{label}] loaded {integrations} integrations × {ACTIONS} actions in {:.1} s ({:.0} integrations/s)",
        load.as_secs_f64(),
        integrations as f64 / load.as_secs_f64()
    );

    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let slugs: Vec<String> = (0..2000)
        .map(|_| format!("api-{:05}", next(&mut seed) as usize % integrations))
        .collect();
    let mut resolve = time_many(slugs.len(), |i| {
        let store = store.clone();
        let slug = slugs[i].clone();
        async move {
            let found = store.integration(TENANT, &slug).await.unwrap();
            assert_eq!(found.unwrap().def.actions.len(), ACTIONS);
        }
    })
    .await;
    // The same lookups through core's in-memory cache, warmed once.
    let cached = std::sync::Arc::new(CachedIntegrations::new(
        store.clone(),
        Duration::from_secs(2),
        std::sync::Arc::new(SystemClock),
    ));
    for slug in &slugs {
        cached.integration(TENANT, slug).await.unwrap();
    }
    let mut resolve_cached = time_many(slugs.len(), |i| {
        let cached = cached.clone();
        let slug = slugs[i].clone();
        async move {
            let found = cached.integration(TENANT, &slug).await.unwrap();
            assert_eq!(found.unwrap().def.actions.len(), ACTIONS);
        }
    })
    .await;
    let mut list = time_many(1000, |i| {
        let store = store.clone();
        let slug = slugs[i].clone();
        async move {
            assert_eq!(
                store.list_actions(TENANT, &slug).await.unwrap().len(),
                ACTIONS
            );
        }
    })
    .await;
    // A term matching one integration's actions (selective) and one matching
    // many (the first 20 rows of a broad match).
    let mut search_one = time_many(50, |i| {
        let store = store.clone();
        let term = slugs[i].clone();
        async move {
            assert!(
                !store
                    .search_actions(TENANT, &term, 20)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    })
    .await;
    let mut search_broad = time_many(50, |_| {
        let store = store.clone();
        async move {
            assert_eq!(
                store
                    .search_actions(TENANT, "operation 7", 20)
                    .await
                    .unwrap()
                    .len(),
                20
            );
        }
    })
    .await;
    // The worst case for ranking: one word every action has, so every row matches.
    let mut search_all = time_many(20, |_| {
        let store = store.clone();
        async move {
            assert_eq!(
                store
                    .search_actions(TENANT, "operation", 20)
                    .await
                    .unwrap()
                    .len(),
                20
            );
        }
    })
    .await;
    // `GET /actions`: the same search as one page with its total, every
    // action by slug, and a tag-filtered page continued by its cursor.
    let mut page_search = time_many(50, |_| {
        let store = store.clone();
        async move {
            let mut query = ActionQuery::new();
            query.text = Some("operation 7".into());
            query.limit = Some(20);
            let page = store.action_page(TENANT, &query).await.unwrap();
            assert_eq!(page.entries.len(), 20);
        }
    })
    .await;
    let mut page_all = time_many(50, |_| {
        let store = store.clone();
        async move {
            let mut query = ActionQuery::new();
            query.limit = Some(50);
            let page = store.action_page(TENANT, &query).await.unwrap();
            assert_eq!(page.total as usize, integrations * ACTIONS);
        }
    })
    .await;
    let mut page_next = time_many(50, |i| {
        let store = store.clone();
        async move {
            let mut query = ActionQuery::new();
            query.tag = Some(format!("group-{}", i % 20));
            query.limit = Some(50);
            let first = store.action_page(TENANT, &query).await.unwrap();
            query.cursor = first.next_cursor;
            store.action_page(TENANT, &query).await.unwrap();
        }
    })
    .await;
    println!(
        "[{label}] resolve tenant+slug via IntegrationStore (parse incl.): p50 {} p95 {}",
        ms(resolve.pct(0.5)),
        ms(resolve.pct(0.95))
    );
    println!(
        "[{label}] resolve through CachedIntegrations (warm, 2 s TTL):   p50 {} p95 {}",
        ms(resolve_cached.pct(0.5)),
        ms(resolve_cached.pct(0.95))
    );
    println!(
        "[{label}] list actions of an integration:                  p50 {} p95 {}",
        ms(list.pct(0.5)),
        ms(list.pct(0.95))
    );
    println!(
        "[{label}] search actions, selective term (limit 20):       p50 {} p95 {}",
        ms(search_one.pct(0.5)),
        ms(search_one.pct(0.95))
    );
    println!(
        "[{label}] search actions, broad term (limit 20):           p50 {} p95 {}",
        ms(search_broad.pct(0.5)),
        ms(search_broad.pct(0.95))
    );
    println!(
        "[{label}] search actions, a word in every action (limit 20): p50 {} p95 {}",
        ms(search_all.pct(0.5)),
        ms(search_all.pct(0.95))
    );

    println!(
        "[{label}] action page, search + total (limit 20, beside the search above): p50 {} p95 {}",
        ms(page_search.pct(0.5)),
        ms(page_search.pct(0.95))
    );
    println!(
        "[{label}] action page, every action + total (limit 50):    p50 {} p95 {}",
        ms(page_all.pct(0.5)),
        ms(page_all.pct(0.95))
    );
    println!(
        "[{label}] action pages, by tag, first + cursor's next (2 × 50): p50 {} p95 {}",
        ms(page_next.pct(0.5)),
        ms(page_next.pct(0.95))
    );

    let mut options = LogSinkOptions::default();
    options.capacity = logs + 1;
    let sink = SqlLogSink::start(store.clone(), options);
    let start = SystemTime::now();
    let t = Instant::now();
    for i in 0..logs {
        sink.record(LogEntry {
            request_id: format!("req-{i}"),
            tenant: TENANT.into(),
            integration: slugs[i % slugs.len()].clone(),
            action: format!("op-{:02}", i % ACTIONS),
            connection: Some("default".into()),
            started_at: start + Duration::from_micros(i as u64),
            duration: Duration::from_millis(35),
            attempts: 1,
            upstream_status: Some(200),
            error_code: None,
            request: None,
            response: Some(r#"{"id":"123","status":"ok","items":[1,2,3]}"#.into()),
        });
        if i % 1000 == 999 {
            tokio::task::yield_now().await;
        }
    }
    let queued = t.elapsed();
    sink.flush().await;
    let total = t.elapsed();
    sink.shutdown().await;
    assert_eq!(sink.written() as usize, logs);
    println!(
        "[{label}] request logs: {logs} recorded in {} ({:.2} µs per record call), written in {:.2} s: {:.0} inserts/s sustained, {} dropped",
        ms(queued),
        queued.as_secs_f64() * 1e6 / logs as f64,
        total.as_secs_f64(),
        logs as f64 / total.as_secs_f64(),
        sink.dropped()
    );
    store.close().await.unwrap();
}

#[tokio::main]
async fn main() {
    let integrations = env_usize("WAYGATE_BENCH_INTEGRATIONS", 10_000);
    let logs = env_usize("WAYGATE_BENCH_LOGS", 200_000);
    let dir = std::env::temp_dir().join(format!("waygate-bench-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = Store::open(&url).await.unwrap();
    run("sqlite", store, integrations, logs).await;
    let size = std::fs::metadata(dir.join("bench.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("[sqlite] database file: {:.0} MB", size as f64 / 1e6);
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(admin_url) = std::env::var("WAYGATE_TEST_POSTGRES_URL") {
        let name = format!("waygate_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let store = Store::open(&format!("{base}/{name}")).await.unwrap();
        run("postgres", store, integrations, logs).await;
        admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
    } else {
        println!("[postgres] skipped: set WAYGATE_TEST_POSTGRES_URL");
    }
}
