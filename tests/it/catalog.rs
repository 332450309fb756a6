//! `GET /api/v1/actions` (the tenant's actions across integrations, through the
//! store's search index) and `limit`/`cursor` on `/integrations/{id}/actions`,
//! over the real binary on SQLite and, when `WAYGATE_TEST_POSTGRES_URL` is
//! set, on PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, openapi_fixture_text, postgres_gateway};

/// Every page of `path` (which has a query already), following the cursors.
async fn pages(gw: &Gateway, key: &str, path: &str) -> (Vec<String>, Value) {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let (status, page) = gw.call(Method::GET, &url, key, None).await;
        assert_eq!(status, StatusCode::OK, "{url}: {page}");
        ids.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_owned()),
        );
        match page["pagination"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (ids, page["pagination"].clone()),
        }
    }
    panic!("{path}: the cursor never ends");
}

async fn search_and_pages(gw: &Gateway) {
    let (_, key) = gw.tenant("catalog").await;
    let (_, other) = gw.tenant("other").await;
    let petstore = openapi_fixture_text("oai-examples/examples/v3.0/petstore-expanded.yaml");
    let slack = openapi_fixture_text("slack/slack_web_openapi_v2.json");
    gw.created(
        "/api/v1/integrations/import",
        &key,
        json!({"openapi": petstore, "slug": "pets"}),
    )
    .await;
    gw.created(
        "/api/v1/integrations/import",
        &key,
        json!({"openapi": slack, "slug": "slack"}),
    )
    .await;
    let (status, _) = gw
        .call(
            Method::PATCH,
            "/api/v1/integrations/slack",
            &key,
            Some(json!({"tags": ["chat"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Search across integrations: slug and name matches first.
    let (found, pagination) = pages(gw, &key, "/api/v1/actions?q=post%20message&limit=2").await;
    assert_eq!(found[0], "slack.chat_postMessage", "{found:?}");
    assert_eq!(pagination["totalCount"], found.len(), "{pagination}");
    let (pets, _) = pages(gw, &key, "/api/v1/actions?q=pet").await;
    assert!(pets.iter().all(|id| id.starts_with("pets.")), "{pets:?}");
    assert_eq!(pets.len(), 4);

    // Every action, paged: nothing lost or repeated.
    let (every, pagination) = pages(gw, &key, "/api/v1/actions?limit=50").await;
    assert_eq!(every.len(), 178);
    assert_eq!(pagination["totalCount"], 178);
    let mut unique = every.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 178);

    // Filters.
    let (tagged, _) = pages(gw, &key, "/api/v1/actions?tag=chat&q=list&limit=500").await;
    assert!(!tagged.is_empty() && tagged.iter().all(|id| id.starts_with("slack.")));
    let (only, _) = pages(gw, &key, "/api/v1/actions?integration=pets&limit=3").await;
    assert_eq!(only.len(), 4);

    // Another tenant finds nothing of these.
    let (none, pagination) = pages(gw, &other, "/api/v1/actions?q=pet").await;
    assert!(none.is_empty());
    assert_eq!(pagination["totalCount"], 0);

    // A bad cursor is a 400, on both lists.
    for path in [
        "/api/v1/actions?cursor=bm9wZQ",
        "/api/v1/integrations/slack/actions?cursor=bm9wZQ",
    ] {
        let (status, error) = gw.call(Method::GET, path, &key, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("cursor"),
            "{error}"
        );
    }

    // An integration's actions in the definition's order, paged.
    let (listed, pagination) = pages(gw, &key, "/api/v1/integrations/slack/actions?limit=40").await;
    assert_eq!(listed.len(), 174);
    assert_eq!(pagination["totalCount"], 174);
    let (_, first) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/slack/actions?limit=40",
            &key,
            None,
        )
        .await;
    assert_eq!(first["data"].as_array().unwrap().len(), 40);
    assert_eq!(first["pagination"]["hasMore"], true);
}

#[tokio::test]
async fn actions_are_searched_and_paged_on_sqlite() {
    search_and_pages(&Gateway::start(&[])).await;
}

#[tokio::test]
async fn actions_are_searched_and_paged_on_postgres() {
    if let Some((gw, _db)) = postgres_gateway() {
        search_and_pages(&gw).await;
    }
}
