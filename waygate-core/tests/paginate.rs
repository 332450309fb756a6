//! Pagination (step 9) against a real upstream on 127.0.0.1 serving 1,000
//! items with each strategy: `fetchAll`, its limits and continuations, the
//! loop guards, failed pages, and the page and item streams.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use waygate_core::clock::ManualClock;
use waygate_core::pipeline::{FetchAll, StopReason};
use waygate_core::{Connection, Credential, IntegrationDef, Invocation, UrlPolicy, Waygate};

const TOTAL: u64 = 1000;
const TOKEN: &str = "page-token-123";

/// What the upstream saw and how it behaves.
#[derive(Default)]
struct Seen {
    requests: AtomicU32,
    /// Authorization header of each request, by path.
    auth: Mutex<Vec<(String, Option<String>)>>,
    /// `/flaky` fails its third page while this is set.
    fail: AtomicBool,
    /// `/retry` answers 503 to its second page once.
    retried: AtomicBool,
    /// Where `/foreign` sends its next page (another origin).
    foreign: Mutex<String>,
}

type Shared = Arc<Seen>;

fn item(n: u64) -> Value {
    json!({"id": n, "name": format!("item {n}")})
}

/// Items `from+1 ..= from+size`, within the total.
fn slice(from: u64, size: u64) -> Vec<Value> {
    (from + 1..=(from + size).min(TOTAL)).map(item).collect()
}

fn param(q: &HashMap<String, String>, name: &str, default: u64) -> u64 {
    q.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn note(seen: &Seen, path: &str, headers: &HeaderMap) {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.auth.lock().unwrap().push((path.to_owned(), auth));
}

/// Cursor: `after-N` in `/meta/next`; items under `/items`.
async fn cursor(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    note(&seen, "/cursor", &headers);
    let from = q
        .get("cursor")
        .map(|c| c.strip_prefix("after-").unwrap().parse().unwrap())
        .unwrap_or(0);
    let items = slice(from, param(&q, "limit", 10));
    let end = from + items.len() as u64;
    let next = (end < TOTAL).then(|| format!("after-{end}"));
    Json(json!({"items": items, "meta": {"next": next.unwrap_or_default()}}))
}

/// Cursor in a response header; the body is the array.
async fn cursor_header(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    note(&seen, "/cursor-header", &headers);
    let from = param(&q, "cursor", 0);
    let items = slice(from, param(&q, "limit", 10));
    let end = from + items.len() as u64;
    let mut response = Json(items).into_response();
    if end < TOTAL {
        response
            .headers_mut()
            .insert("x-next-cursor", end.to_string().parse().unwrap());
    }
    response
}

/// POST-style: cursor and limit in the JSON body.
async fn search(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    note(&seen, "/search", &headers);
    assert_eq!(body["query"], "all", "the input's own fields are kept");
    let from = body["cursor"].as_str().map_or(0, |c| c.parse().unwrap());
    let items = slice(from, body["limit"].as_u64().unwrap_or(10));
    let end = from + items.len() as u64;
    let next = (end < TOTAL).then(|| end.to_string());
    Json(json!({"results": items, "next_cursor": next}))
}

/// Stripe: `starting_after` is the last item's id; `has_more`.
async fn stripe(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    note(&seen, "/stripe", &headers);
    let from = param(&q, "starting_after", 0);
    let items = slice(from, param(&q, "limit", 10));
    let end = from + items.len() as u64;
    Json(json!({"object": "list", "data": items, "has_more": end < TOTAL}))
}

/// Offset and limit; the body is the array; past the end, an empty page.
async fn offset(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    note(&seen, "/offset", &headers);
    Json(json!(slice(param(&q, "offset", 0), param(&q, "limit", 10))))
}

/// Page number (from 1) and page size.
async fn page(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    note(&seen, "/page", &headers);
    let size = param(&q, "per_page", 10);
    let page = param(&q, "page", 1);
    Json(json!({"data": slice((page - 1) * size, size)}))
}

/// GitHub: a relative `Link: <…>; rel="next"` beside `rel="last"`.
async fn link(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    note(&seen, "/link", &headers);
    let size = param(&q, "per_page", 10);
    let page = param(&q, "page", 1);
    let mut response = Json(slice((page - 1) * size, size)).into_response();
    let last = TOTAL.div_ceil(size);
    let mut links = vec![format!("</link?page={last}&per_page={size}>; rel=\"last\"")];
    if page < last {
        links.insert(
            0,
            format!("</link?per_page={size}&page={}>; rel=\"next\", ", page + 1),
        );
    }
    response
        .headers_mut()
        .insert("link", links.concat().parse().unwrap());
    response
}

/// The next page's absolute URL in the body.
async fn next_url(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    note(&seen, "/next", &headers);
    let host = headers["host"].to_str().unwrap().to_owned();
    let size = param(&q, "size", 10);
    let from = param(&q, "from", 0);
    let items = slice(from, size);
    let end = from + items.len() as u64;
    let next = (end < TOTAL).then(|| format!("http://{host}/next?from={end}&size={size}"));
    Json(json!({"items": items, "links": {"next": next}}))
}

/// A cursor that never advances: page 1, then page 2 forever.
async fn stuck(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    note(&seen, "/stuck", &headers);
    let from = if q.contains_key("cursor") { 10 } else { 0 };
    Json(json!({"items": slice(from, 10), "meta": {"next": "same"}}))
}

/// An upstream that ignores the offset: the same page every time.
async fn ignores_offset(State(seen): State<Shared>, headers: HeaderMap) -> Json<Value> {
    note(&seen, "/ignores-offset", &headers);
    Json(json!(slice(0, 10)))
}

/// Page 3 fails with a 500 while `fail` is set.
async fn flaky(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    note(&seen, "/flaky", &headers);
    let page = param(&q, "page", 1);
    if page == 3 && seen.fail.load(Ordering::SeqCst) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "boom"})),
        )
            .into_response();
    }
    Json(json!({"data": slice((page - 1) * 10, 10)})).into_response()
}

/// Page 2 answers 503 once: the retry step takes it.
async fn retry(
    State(seen): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    note(&seen, "/retry", &headers);
    let page = param(&q, "page", 1);
    if page == 2 && !seen.retried.swap(true, Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    Json(json!({"data": slice((page - 1) * 10, 10)})).into_response()
}

/// First page here, the next on another origin.
async fn foreign(State(seen): State<Shared>, headers: HeaderMap) -> Json<Value> {
    note(&seen, "/foreign", &headers);
    let next = seen.foreign.lock().unwrap().clone();
    Json(json!({"items": slice(0, 10), "links": {"next": next}}))
}

struct Setup {
    waygate: Waygate,
    seen: Shared,
    other: Shared,
    _servers: Vec<tokio::task::JoinHandle<()>>,
}

async fn serve(seen: Shared) -> (String, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .route("/cursor", get(cursor))
        .route("/cursor-header", get(cursor_header))
        .route("/search", post(search))
        .route("/stripe", get(stripe))
        .route("/offset", get(offset))
        .route("/page", get(page))
        .route("/link", get(link))
        .route("/next", get(next_url))
        .route("/stuck", get(stuck))
        .route("/ignores-offset", get(ignores_offset))
        .route("/flaky", get(flaky))
        .route("/retry", get(retry))
        .route("/foreign", get(foreign))
        .with_state(seen);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, task)
}

fn q(name: &str) -> Value {
    json!({"name": name, "in": "query"})
}

fn definition(base_url: &str) -> IntegrationDef {
    let list = |slug: &str, path: &str, params: Vec<Value>, pagination: Value| json!({"slug": slug, "method": "GET", "path": path, "parameters": params, "pagination": pagination});
    let actions = vec![
        list(
            "cursor",
            "/cursor",
            vec![q("cursor"), q("limit")],
            json!({"strategy": "cursor", "itemsPath": "/items", "cursorPath": "/meta/next", "cursorParam": "cursor", "limitParam": "limit", "pageSize": 25}),
        ),
        list(
            "cursor_header",
            "/cursor-header",
            vec![q("cursor"), q("limit")],
            json!({"strategy": "cursor", "cursorHeader": "x-next-cursor", "cursorParam": "cursor", "limitParam": "limit", "pageSize": 40}),
        ),
        json!({"slug": "search", "method": "POST", "path": "/search",
            "pagination": {"strategy": "cursor", "itemsPath": "/results", "cursorPath": "/next_cursor", "cursorParam": "cursor", "limitParam": "limit", "pageSize": 20}}),
        list(
            "stripe",
            "/stripe",
            vec![q("starting_after"), q("limit")],
            json!({"strategy": "cursor", "itemsPath": "/data", "cursorItemPath": "/id", "hasMorePath": "/has_more", "cursorParam": "starting_after", "limitParam": "limit", "pageSize": 40}),
        ),
        list(
            "offset",
            "/offset",
            vec![q("offset"), q("limit")],
            json!({"strategy": "offset", "offsetParam": "offset", "limitParam": "limit", "pageSize": 25}),
        ),
        list(
            "page",
            "/page",
            vec![q("page"), q("per_page")],
            json!({"strategy": "page", "itemsPath": "/data", "pageParam": "page", "limitParam": "per_page", "pageSize": 30}),
        ),
        list(
            "link",
            "/link",
            vec![q("per_page")],
            json!({"strategy": "link", "limitParam": "per_page", "pageSize": 50}),
        ),
        list(
            "next_url",
            "/next",
            vec![q("size")],
            json!({"strategy": "next_url", "itemsPath": "/items", "nextUrlPath": "/links/next", "limitParam": "size", "pageSize": 100}),
        ),
        list(
            "stuck",
            "/stuck",
            vec![q("cursor")],
            json!({"strategy": "cursor", "itemsPath": "/items", "cursorPath": "/meta/next", "cursorParam": "cursor"}),
        ),
        list(
            "ignores_offset",
            "/ignores-offset",
            vec![q("offset")],
            json!({"strategy": "offset", "offsetParam": "offset"}),
        ),
        list(
            "flaky",
            "/flaky",
            vec![q("page")],
            json!({"strategy": "page", "itemsPath": "/data", "pageParam": "page"}),
        ),
        list(
            "retry",
            "/retry",
            vec![q("page")],
            json!({"strategy": "page", "itemsPath": "/data", "pageParam": "page"}),
        ),
        list(
            "foreign",
            "/foreign",
            vec![],
            json!({"strategy": "next_url", "itemsPath": "/items", "nextUrlPath": "/links/next"}),
        ),
        json!({"slug": "single", "method": "GET", "path": "/offset"}),
    ];
    IntegrationDef::from_json(
        &json!({"slug": "pages", "name": "Pages", "baseUrl": base_url,
                "auth": {"type": "bearer"}, "actions": actions})
        .to_string(),
    )
    .unwrap()
}

async fn setup() -> Setup {
    let seen = Shared::default();
    let other = Shared::default();
    let (url, main) = serve(seen.clone()).await;
    let (other_url, second) = serve(other.clone()).await;
    *seen.foreign.lock().unwrap() = format!("{other_url}/next?from=10&size=10");
    let waygate = Waygate::builder()
        .integration(definition(&url))
        .connection("pages", Connection::default_with(Credential::bearer(TOKEN)))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .clock(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000),
        ))
        .build()
        .unwrap();
    Setup {
        waygate,
        seen,
        other,
        _servers: vec![main, second],
    }
}

/// Limits high enough for the whole list.
fn everything() -> FetchAll {
    FetchAll::default()
        .max_pages(10_000)
        .max_items(100_000)
        .max_characters(10_000_000)
}

async fn fetch(s: &Setup, action: &str, input: Value, options: FetchAll) -> Invocation {
    s.waygate
        .invoke(&format!("pages.{action}"), input)
        .fetch_all(options)
        .await
        .unwrap_or_else(|e| panic!("{action}: {e}"))
}

fn ids(data: &Value) -> Vec<u64> {
    data.as_array()
        .expect("fetchAll data is an array")
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect()
}

fn all() -> Vec<u64> {
    (1..=TOTAL).collect()
}

const STRATEGIES: [(&str, u32, StopReason); 8] = [
    ("cursor", 40, StopReason::Complete),
    ("cursor_header", 25, StopReason::Complete),
    ("search", 50, StopReason::Complete),
    ("stripe", 25, StopReason::Complete),
    ("offset", 41, StopReason::EmptyPage),
    ("page", 34, StopReason::ShortPage),
    ("link", 20, StopReason::Complete),
    ("next_url", 10, StopReason::Complete),
];

fn input(action: &str) -> Value {
    match action {
        "search" => json!({"query": "all"}),
        _ => json!({}),
    }
}

#[tokio::test]
async fn fetch_all_returns_every_item_in_order_with_each_strategy() {
    let s = setup().await;
    for (action, pages, stop) in STRATEGIES {
        let before = s.seen.requests.load(Ordering::SeqCst);
        let got = fetch(&s, action, input(action), everything()).await;
        assert_eq!(ids(&got.data), all(), "{action}");
        let meta = got.meta.pagination.expect("fetchAll reports pagination");
        assert_eq!(
            (meta.pages, meta.items, meta.truncated, meta.stop_reason),
            (pages, TOTAL, false, stop),
            "{action}"
        );
        assert_eq!(meta.continuation, None, "{action}");
        let sent = s.seen.requests.load(Ordering::SeqCst) - before;
        assert_eq!((sent, got.meta.attempts), (pages, pages), "{action}");
    }
    // Every page carried the connection's credential.
    let auth = s.seen.auth.lock().unwrap();
    assert!(
        auth.iter()
            .all(|(_, a)| a.as_deref() == Some("Bearer page-token-123"))
    );
}

#[tokio::test]
async fn the_defaults_cut_and_continuations_resume_at_the_next_item() {
    let s = setup().await;
    // Defaults: 5 pages of 25 → 125 items, cut by maxPages.
    let first = fetch(&s, "cursor", json!({}), FetchAll::default()).await;
    assert_eq!(ids(&first.data), (1..=125).collect::<Vec<_>>());
    let json = serde_json::to_value(&first.meta).unwrap();
    assert_eq!(json["pagination"]["stopReason"], "max_pages");
    let meta = first.meta.pagination.unwrap();
    assert_eq!(
        (meta.pages, meta.truncated, meta.stop_reason),
        (5, true, StopReason::MaxPages)
    );
    assert!(meta.continuation.is_some());

    // Every strategy, resumed again and again with limits that cut pages in
    // the middle (37 items; 3 pages; 700 characters): nothing lost, nothing twice.
    for (action, _, _) in STRATEGIES {
        for limits in [
            FetchAll::default().max_items(37).max_pages(100),
            FetchAll::default().max_pages(3).max_items(10_000),
            FetchAll::default().max_characters(700).max_items(10_000),
        ] {
            let mut got = Vec::new();
            let mut token: Option<String> = None;
            let mut calls = 0;
            loop {
                let mut options = limits.clone();
                if let Some(t) = token.take() {
                    options = options.continuation(t);
                }
                let page = fetch(&s, action, input(action), options).await;
                got.extend(ids(&page.data));
                calls += 1;
                assert!(calls <= 400, "{action}: no end");
                let meta = page.meta.pagination.unwrap();
                match meta.continuation {
                    Some(t) => {
                        assert!(meta.truncated);
                        token = Some(t);
                    }
                    None => break,
                }
            }
            assert_eq!(got, all(), "{action} with {limits:?}");
        }
    }
}

#[tokio::test]
async fn a_continuation_of_another_call_is_refused() {
    let s = setup().await;
    let first = fetch(&s, "cursor", json!({}), FetchAll::default().max_items(5)).await;
    let token = first.meta.pagination.unwrap().continuation.unwrap();
    for (action, input) in [("offset", json!({})), ("cursor", json!({"limit": 3}))] {
        let e = s
            .waygate
            .invoke(&format!("pages.{action}"), input)
            .fetch_all(FetchAll::default().continuation(token.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "VALIDATION_ERROR", "{e}");
        assert!(e.to_string().contains("options.continuation"), "{e}");
    }
    let mut forged = token.clone();
    forged.replace_range(2..3, if &token[2..3] == "A" { "B" } else { "A" });
    let e = s
        .waygate
        .invoke("pages.cursor", json!({}))
        .fetch_all(FetchAll::default().continuation(forged))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "VALIDATION_ERROR", "{e}");
}

#[tokio::test]
async fn loop_guards_stop_and_say_why() {
    let s = setup().await;
    let stuck = fetch(&s, "stuck", json!({}), everything()).await;
    assert_eq!(ids(&stuck.data), (1..=20).collect::<Vec<_>>());
    let meta = stuck.meta.pagination.unwrap();
    assert_eq!(
        (meta.pages, meta.truncated, meta.stop_reason),
        (2, false, StopReason::RepeatedCursor)
    );
    let same = fetch(&s, "ignores_offset", json!({}), everything()).await;
    assert_eq!(ids(&same.data), (1..=10).collect::<Vec<_>>());
    let meta = same.meta.pagination.unwrap();
    assert_eq!(
        (meta.pages, meta.stop_reason),
        (2, StopReason::RepeatedPage)
    );
}

#[tokio::test]
async fn a_failed_page_fails_the_call_unless_partial_and_its_continuation_retries_it() {
    let s = setup().await;
    s.seen.fail.store(true, Ordering::SeqCst);
    let e = s
        .waygate
        .invoke("pages.flaky", json!({}))
        .fetch_all(everything())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "UPSTREAM_ERROR");
    let meta = e.meta().unwrap().pagination.clone().unwrap();
    assert_eq!(
        (meta.pages, meta.items, meta.stop_reason, meta.truncated),
        (2, 20, StopReason::PageFailed, true)
    );
    assert_eq!(e.details()["pagination"]["pages"], 2);
    assert!(e.details()["pagination"]["continuation"].is_string());

    let partial = fetch(&s, "flaky", json!({}), everything().partial()).await;
    assert_eq!(ids(&partial.data), (1..=20).collect::<Vec<_>>());
    let meta = partial.meta.pagination.unwrap();
    assert_eq!(meta.stop_reason, StopReason::PageFailed);
    assert_eq!(meta.error.as_ref().unwrap().code, "UPSTREAM_ERROR");

    // The upstream recovers: the continuation goes on at the failed page.
    s.seen.fail.store(false, Ordering::SeqCst);
    let rest = fetch(
        &s,
        "flaky",
        json!({}),
        everything().continuation(meta.continuation.unwrap()),
    )
    .await;
    assert_eq!(ids(&rest.data), (21..=TOTAL).collect::<Vec<_>>());
}

#[tokio::test]
async fn every_page_goes_through_the_retry_step() {
    let s = setup().await;
    let got = fetch(&s, "retry", json!({}), everything()).await;
    assert_eq!(ids(&got.data), all());
    // 100 full pages and an empty one, plus the retried 503.
    assert_eq!(got.meta.attempts, 102);
}

#[tokio::test]
async fn a_next_page_on_another_origin_gets_no_credential() {
    let s = setup().await;
    let got = fetch(&s, "foreign", json!({}), everything()).await;
    assert_eq!(ids(&got.data), all());
    let own = s.seen.auth.lock().unwrap().clone();
    assert_eq!(
        own,
        [("/foreign".to_owned(), Some(format!("Bearer {TOKEN}")))]
    );
    let other = s.other.auth.lock().unwrap().clone();
    assert_eq!(other.len(), 99);
    assert!(other.iter().all(|(_, auth)| auth.is_none()), "{other:?}");
}

#[tokio::test]
async fn fetch_all_on_an_action_without_pagination_is_refused() {
    let s = setup().await;
    let e = s
        .waygate
        .invoke("pages.single", json!({}))
        .fetch_all(FetchAll::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "VALIDATION_ERROR");
    assert!(e.to_string().contains("no pagination"), "{e}");
    assert_eq!(s.seen.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn streams_fetch_pages_as_they_are_polled() {
    let s = setup().await;
    let items: Vec<Value> = s
        .waygate
        .invoke("pages.link", json!({}))
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&Value::Array(items)), all());
    assert_eq!(s.seen.requests.load(Ordering::SeqCst), 20);

    // Three pages taken, three requests sent: nothing is fetched ahead.
    let pages: Vec<_> = s
        .waygate
        .invoke("pages.offset", json!({}))
        .pages()
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(pages[2].items[0]["id"], 51);
    assert_eq!(s.seen.requests.load(Ordering::SeqCst), 23);

    // A stream ends after its loop guard, and after an error.
    let stuck: Vec<_> = s
        .waygate
        .invoke("pages.stuck", json!({}))
        .pages()
        .collect()
        .await;
    assert_eq!(stuck.len(), 2);
    let none = s
        .waygate
        .invoke("pages.single", json!({}))
        .pages()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].as_ref().unwrap_err().code(), "VALIDATION_ERROR");
}
