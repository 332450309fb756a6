//! `fetchAll` through the gateway over real HTTP: limits, continuations,
//! `partial` and the refusal of companion options without `fetchAll`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Gateway, serve_upstream};

const TOTAL: u64 = 1000;

/// `/items?offset=&limit=`: 1,000 items; while `fail` is set, the page at
/// offset 200 answers 500. Only the connection's token is let in.
async fn items(
    State(fail): State<Arc<AtomicBool>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, u64>>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer page-token") {
        return AxumStatus::UNAUTHORIZED.into_response();
    }
    let offset = q.get("offset").copied().unwrap_or(0);
    let limit = q.get("limit").copied().unwrap_or(10);
    if offset == 200 && fail.load(Ordering::SeqCst) {
        return (
            AxumStatus::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "boom"})),
        )
            .into_response();
    }
    let items: Vec<Value> = (offset + 1..=(offset + limit).min(TOTAL))
        .map(|n| json!({"id": n}))
        .collect();
    Json(json!({"records": items, "total": TOTAL})).into_response()
}

async fn gateway(fail: Arc<AtomicBool>) -> (Gateway, String) {
    let upstream = serve_upstream(
        axum::Router::new()
            .route("/items", get(items))
            .with_state(fail),
    )
    .await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Pages").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "records", "name": "Records", "baseUrl": upstream, "auth": {"type": "bearer"},
            "actions": [
                {"slug": "list", "method": "GET", "path": "/items",
                 "parameters": [{"name": "offset", "in": "query"}, {"name": "limit", "in": "query"}],
                 "pagination": {"strategy": "offset", "itemsPath": "/records", "offsetParam": "offset",
                                "limitParam": "limit", "pageSize": 50}},
                {"slug": "one", "method": "GET", "path": "/items"}]}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/records/connections",
        &key,
        json!({"credential": {"type": "bearer", "token": "page-token"}}),
    )
    .await;
    (gw, key)
}

/// Invokes `records.{action}` with `options`.
async fn invoke(gw: &Gateway, key: &str, action: &str, options: Value) -> (StatusCode, Value) {
    let response = gw
        .client
        .post(format!("{}/api/v1/actions/records/{action}", gw.url))
        .bearer_auth(key)
        .json(&json!({"input": {}, "options": options}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn ids(data: &Value) -> Vec<u64> {
    data.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn fetch_all_over_http_returns_every_item_and_resumes_exactly() {
    let (gw, key) = gateway(Arc::default()).await;
    let (status, all) = invoke(
        &gw,
        &key,
        "list",
        json!({"fetchAll": true, "maxPages": 100, "maxItems": 5000, "maxCharacters": 1000000}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(ids(&all["data"]), (1..=TOTAL).collect::<Vec<_>>());
    assert_eq!(
        all["meta"]["pagination"],
        json!({"pages": 21, "items": 1000, "truncated": false, "stopReason": "empty_page"})
    );
    assert_eq!(all["meta"]["attempts"], 21);

    // Defaults (5 pages, 500 items, 100,000 characters), then 37 items at a
    // time from each continuation.
    let (_, first) = invoke(&gw, &key, "list", json!({"fetchAll": true})).await;
    assert_eq!(ids(&first["data"]), (1..=250).collect::<Vec<_>>());
    assert_eq!(first["meta"]["pagination"]["stopReason"], "max_pages");
    let mut got = ids(&first["data"]);
    let mut token = first["meta"]["pagination"]["continuation"].clone();
    while let Some(t) = token.as_str() {
        let (status, next) = invoke(
            &gw,
            &key,
            "list",
            json!({"fetchAll": true, "maxItems": 37, "continuation": t}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{next}");
        got.extend(ids(&next["data"]));
        token = next["meta"]["pagination"]["continuation"].clone();
        assert!(got.len() <= TOTAL as usize, "items repeated");
    }
    assert_eq!(got, (1..=TOTAL).collect::<Vec<_>>());

    // A continuation is the call's own: another action's is refused.
    let (status, refused) = invoke(
        &gw,
        &key,
        "list",
        json!({"fetchAll": true, "continuation": "eyJwIjoiZmlyc3QiLCJzIjowfQ.AAAA"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("options.continuation")
    );
}

#[tokio::test]
async fn options_without_fetch_all_and_actions_without_pagination_are_refused() {
    let (gw, key) = gateway(Arc::default()).await;
    for (options, named) in [
        (json!({"maxPages": 3}), "options.maxPages"),
        (json!({"partial": true}), "options.partial"),
        (json!({"fetchAll": true}), "no pagination"),
        (json!({"fetchAll": true, "maxItems": 0}), "options.maxItems"),
    ] {
        let action = if named == "no pagination" {
            "one"
        } else {
            "list"
        };
        let (status, body) = invoke(&gw, &key, action, options.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{options}: {body}");
        let text = body["error"].to_string();
        assert!(text.contains(named), "{options}: {text}");
    }
}

#[tokio::test]
async fn a_failed_page_fails_the_call_unless_partial() {
    let fail = Arc::new(AtomicBool::new(true));
    let (gw, key) = gateway(fail.clone()).await;
    let options = json!({"fetchAll": true, "maxPages": 100, "maxItems": 5000});
    let (status, failed) = invoke(&gw, &key, "list", options.clone()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{failed}");
    assert_eq!(failed["error"]["code"], "UPSTREAM_ERROR");
    let fetched = &failed["error"]["details"]["pagination"];
    assert_eq!(
        (&fetched["pages"], &fetched["items"], &fetched["stopReason"]),
        (&json!(4), &json!(200), &json!("page_failed"))
    );

    let mut partial_options = options.clone();
    partial_options["partial"] = json!(true);
    let (status, partial) = invoke(&gw, &key, "list", partial_options).await;
    assert_eq!(status, StatusCode::OK, "{partial}");
    assert_eq!(ids(&partial["data"]), (1..=200).collect::<Vec<_>>());
    let meta = &partial["meta"]["pagination"];
    assert_eq!(meta["error"]["code"], "UPSTREAM_ERROR");
    assert_eq!(meta["truncated"], true);

    fail.store(false, Ordering::SeqCst);
    let mut resume = options;
    resume["continuation"] = meta["continuation"].clone();
    let (status, rest) = invoke(&gw, &key, "list", resume).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(ids(&rest["data"]), (201..=TOTAL).collect::<Vec<_>>());
}
