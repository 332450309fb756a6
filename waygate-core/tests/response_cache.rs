//! Step 4, the response cache, against a real HTTP server on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::{Reply, Upstream};
use waygate_core::clock::ManualClock;
use waygate_core::model::check;
use waygate_core::pipeline::{CacheKey, CachedResponse, MemoryResponseCache, ResponseCache};
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

fn definition(base_url: &str, cache: Value) -> IntegrationDef {
    IntegrationDef::from_json(
        &json!({
            "slug": "crm",
            "name": "CRM",
            "baseUrl": base_url,
            "auth": {"type": "bearer"},
            "actions": [
                {"slug": "get_contact", "method": "GET", "path": "/contacts/{id}",
                 "parameters": [{"name": "id", "in": "path"}],
                 "cache": cache},
                {"slug": "list_contacts", "method": "GET", "path": "/contacts"},
            ]
        })
        .to_string(),
    )
    .unwrap()
}

struct Setup {
    upstream: Upstream,
    waygate: Waygate,
    clock: Arc<ManualClock>,
}

async fn setup() -> Setup {
    let upstream = Upstream::start().await;
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000));
    let waygate = Waygate::builder()
        .integration(definition(&upstream.url(), json!({"ttlSeconds": 60})))
        .connection("crm", Connection::default_with(Credential::bearer("alice")))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .clock(clock.clone())
        .build()
        .unwrap();
    Setup {
        upstream,
        waygate,
        clock,
    }
}

impl Setup {
    async fn get(&self, id: &str) -> waygate_core::Invocation {
        self.waygate
            .invoke("crm.get_contact", json!({"id": id}))
            .await
            .unwrap()
    }
}

fn meta_cache(invocation: &waygate_core::Invocation) -> Value {
    serde_json::to_value(&invocation.meta).unwrap()["cache"].clone()
}

#[tokio::test]
async fn a_repeated_read_is_answered_from_the_cache_until_its_ttl() {
    let s = setup().await;
    s.upstream.script([
        Reply::json(200, json!({"name": "Ada"})),
        Reply::json(200, json!({"name": "Ada L."})),
    ]);

    let first = s.get("1").await;
    assert_eq!(first.data, json!({"name": "Ada"}));
    assert_eq!(
        meta_cache(&first),
        json!({"hit": false, "ageMs": 0, "ttlMs": 60_000})
    );
    assert_eq!(first.meta.attempts, 1);

    s.clock.advance(Duration::from_secs(59));
    let second = s.get("1").await;
    assert_eq!(second.data, json!({"name": "Ada"}));
    assert_eq!(
        meta_cache(&second),
        json!({"hit": true, "ageMs": 59_000, "ttlMs": 60_000})
    );
    assert_eq!(second.meta.attempts, 0, "nothing was sent");
    assert_eq!(
        second.meta.upstream_status,
        Some(200),
        "the cached answer's status"
    );
    assert_eq!(s.upstream.received().len(), 1);

    s.clock.advance(Duration::from_secs(1));
    let third = s.get("1").await;
    assert_eq!(
        third.data,
        json!({"name": "Ada L."}),
        "expired: fetched again"
    );
    assert_eq!(meta_cache(&third)["hit"], json!(false));
    assert_eq!(s.upstream.received().len(), 2);
}

#[tokio::test]
async fn another_input_another_account_or_another_revision_is_a_miss() {
    let s = setup().await;
    s.get("1").await;
    s.get("2").await;
    assert_eq!(s.upstream.received().len(), 2, "another input");

    s.waygate
        .put_connection("crm", Connection::default_with(Credential::bearer("bob")))
        .unwrap();
    let as_bob = s.get("1").await;
    assert_eq!(
        meta_cache(&as_bob)["hit"],
        json!(false),
        "another credential"
    );
    assert_eq!(s.upstream.received().len(), 3);
    assert_eq!(
        s.upstream.received()[2].header("authorization"),
        Some("Bearer bob")
    );

    s.waygate
        .put_integration(definition(&s.upstream.url(), json!({"ttlSeconds": 60})))
        .unwrap();
    let after_edit = s.get("1").await;
    assert_eq!(
        meta_cache(&after_edit)["hit"],
        json!(false),
        "a new revision"
    );
    assert_eq!(s.upstream.received().len(), 4);

    let hit = s.get("1").await;
    assert_eq!(meta_cache(&hit)["hit"], json!(true));
    assert_eq!(s.upstream.received().len(), 4);
}

#[tokio::test]
async fn failures_are_not_cached_and_uncached_actions_say_nothing() {
    let s = setup().await;
    s.upstream.script([Reply::status(404)]);
    let missing = s
        .waygate
        .invoke("crm.get_contact", json!({"id": "1"}))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "UPSTREAM_ERROR");
    let found = s.get("1").await;
    assert_eq!(
        meta_cache(&found)["hit"],
        json!(false),
        "the 404 was not kept"
    );
    assert_eq!(s.upstream.received().len(), 2);

    let listed = s
        .waygate
        .invoke("crm.list_contacts", json!({}))
        .await
        .unwrap();
    assert_eq!(meta_cache(&listed), Value::Null, "no cache, no cache meta");
}

#[test]
fn only_reads_and_marked_reads_may_be_cached() {
    let refused = |action: Value| {
        let def = json!({"slug": "crm", "name": "CRM", "baseUrl": "https://crm.example.com",
                         "actions": [action]});
        match IntegrationDef::from_json(&def.to_string()) {
            Ok(def) => check(&def).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        }
    };
    let e = refused(
        json!({"slug": "create", "method": "POST", "path": "/c", "cache": {"ttlSeconds": 5}}),
    );
    assert!(
        e.contains("actions[0].cache") && e.contains("idempotent: true"),
        "{e}"
    );
    let e = refused(
        json!({"slug": "drop", "method": "DELETE", "path": "/c", "idempotent": true,
                           "cache": {"ttlSeconds": 5}}),
    );
    assert!(e.contains("DELETE responses are not cached"), "{e}");
    let e =
        refused(json!({"slug": "get", "method": "GET", "path": "/c", "cache": {"ttlSeconds": 0}}));
    assert!(e.contains("actions[0].cache.ttlSeconds"), "{e}");
    let e = refused(json!({"slug": "get", "method": "GET", "path": "/c", "cache": {"ttl": 5}}));
    assert!(e.contains("ttl"), "an unknown cache field is refused: {e}");

    let search = json!({"slug": "crm", "name": "CRM", "baseUrl": "https://crm.example.com",
        "actions": [{"slug": "search", "method": "POST", "path": "/search", "idempotent": true,
                     "cache": {"ttlSeconds": 30}}]});
    let search = IntegrationDef::from_json(&search.to_string()).unwrap();
    check(&search).expect("a marked POST search may be cached");
}

#[tokio::test]
async fn the_memory_cache_keeps_within_its_budget() {
    let cache = MemoryResponseCache::new(64 * 1024);
    let key = |n: u8| CacheKey::from_bytes([n; 32]);
    let big = CachedResponse {
        data: Arc::new(json!("x".repeat(16 * 1024))),
        upstream_status: Some(200),
        stored_at: SystemTime::UNIX_EPOCH,
    };
    cache.put(key(1), big, Duration::from_secs(60)).await;
    assert!(
        cache.get(&key(1)).await.is_none(),
        "over an eighth of the budget: not kept"
    );
    let small = CachedResponse {
        data: Arc::new(json!({"ok": true})),
        upstream_status: Some(200),
        stored_at: SystemTime::UNIX_EPOCH,
    };
    cache
        .put(key(2), small.clone(), Duration::from_secs(60))
        .await;
    assert_eq!(cache.get(&key(2)).await, Some(small));
}
