//! `GET /api/v1/tags` and `POST /api/v1/tags/{tag}/rename` over the real
//! binary, on SQLite and, when `WAYGATE_TEST_POSTGRES_URL` is set, on
//! PostgreSQL; and the import answer's `suggestedTags`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, openapi_fixture_text, postgres_gateway};

/// `(tag, integrationCount)` of every page of the tenant's tags, following
/// the cursors `limit` at a time.
async fn tags(gw: &Gateway, key: &str, limit: u32) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tags?limit={limit}&cursor={c}"),
            None => format!("/api/v1/tags?limit={limit}"),
        };
        let (status, page) = gw.call(Method::GET, &path, key, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit as usize, "{page}");
        out.extend(data.iter().map(|t| {
            (
                t["tag"].as_str().unwrap().to_owned(),
                t["integrationCount"].as_u64().unwrap(),
            )
        }));
        match page["pagination"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert_eq!(page["pagination"]["totalCount"], out.len(), "{page}");
                return out;
            }
        }
    }
    panic!("the cursor never ends");
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected
        .iter()
        .map(|(t, n)| ((*t).to_owned(), *n))
        .collect()
}

async fn rename(gw: &Gateway, key: &str, tag: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/tags/{}/rename", path_segment(tag));
    gw.call(Method::POST, &path, key, Some(body)).await
}

/// `tag` percent-encoded as one path segment.
fn path_segment(tag: &str) -> String {
    url::form_urlencoded::byte_serialize(tag.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The tags of the definition the gateway resolves (through its cache).
async fn exported_tags(gw: &Gateway, key: &str, slug: &str) -> Value {
    let path = format!("/api/v1/integrations/{slug}/export");
    let (status, def) = gw.call(Method::GET, &path, key, None).await;
    assert_eq!(status, StatusCode::OK, "{def}");
    def.get("tags").cloned().unwrap_or(json!([]))
}

fn message(error: &Value) -> &str {
    error["error"]["message"].as_str().unwrap_or_default()
}

async fn tags_are_counted_and_renamed(gw: &Gateway) {
    let (_, key) = gw.tenant("tags").await;
    let (_, other) = gw.tenant("other").await;

    // An import offers tags and applies none.
    let slack = openapi_fixture_text("slack/slack_web_openapi_v2.json");
    let imported = gw
        .created(
            "/api/v1/integrations/import",
            &key,
            json!({"openapi": slack, "slug": "slack"}),
        )
        .await;
    assert_eq!(
        imported["suggestedTags"][0], "communication",
        "{}",
        imported["suggestedTags"]
    );
    assert_eq!(imported["integration"]["tags"], json!([]));
    assert!(tags(gw, &key, 10).await.is_empty());

    for (slug, tags) in [
        ("crm", json!(["sales", "chat"])),
        ("mail", json!(["talk", "chat"])),
        ("plain", json!([])),
    ] {
        gw.created(
            "/api/v1/integrations",
            &key,
            json!({"slug": slug, "name": slug, "tags": tags}),
        )
        .await;
    }
    let (status, patched) = gw
        .call(
            Method::PATCH,
            "/api/v1/integrations/slack",
            &key,
            Some(json!({"tags": ["chat"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    gw.created(
        "/api/v1/integrations",
        &other,
        json!({"slug": "theirs", "name": "Theirs", "tags": ["chat", "sales"]}),
    )
    .await;

    // Counts, sorted, the same whole or a page at a time.
    let expected = pairs(&[("chat", 3), ("sales", 1), ("talk", 1)]);
    assert_eq!(tags(gw, &key, 100).await, expected);
    assert_eq!(tags(gw, &key, 1).await, expected);

    // The resolve cache holds slack's definition now; the rename must reach it.
    assert_eq!(exported_tags(gw, &key, "slack").await, json!(["chat"]));
    let (status, renamed) = rename(gw, &key, "chat", json!({"to": "talk"})).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        renamed,
        json!({"from": "chat", "to": "talk", "integrations": ["crm", "mail", "slack"]})
    );
    assert_eq!(exported_tags(gw, &key, "slack").await, json!(["talk"]));
    assert_eq!(
        exported_tags(gw, &key, "mail").await,
        json!(["talk"]),
        "merged"
    );
    assert_eq!(
        exported_tags(gw, &key, "crm").await,
        json!(["sales", "talk"])
    );
    assert_eq!(
        tags(gw, &key, 100).await,
        pairs(&[("sales", 1), ("talk", 3)])
    );
    let (_, listed) = gw
        .call(Method::GET, "/api/v1/integrations?tag=talk", &key, None)
        .await;
    assert_eq!(listed["pagination"]["totalCount"], 3, "{listed}");
    let (_, found) = gw
        .call(Method::GET, "/api/v1/actions?tag=talk&limit=1", &key, None)
        .await;
    assert_eq!(found["data"][0]["integration"], "slack", "{found}");

    // Any visible text is a tag, also in the path.
    let (status, renamed) = rename(gw, &key, "sales", json!({"to": "Sales & Ops/50%"})).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (status, renamed) = rename(gw, &key, "Sales & Ops/50%", json!({"to": "sales"})).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["integrations"], json!(["crm"]));

    // The other tenant's tags are apart, both ways.
    assert_eq!(
        tags(gw, &other, 100).await,
        pairs(&[("chat", 1), ("sales", 1)])
    );
    let (status, error) = rename(gw, &other, "talk", json!({"to": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert!(message(&error).contains("tag 'talk'"), "{error}");
    assert_eq!(
        exported_tags(gw, &other, "theirs").await,
        json!(["chat", "sales"])
    );

    // Bad input: 400 naming the field, nothing changed.
    for body in [
        json!({"to": ""}),
        json!({"to": "  "}),
        json!({"to": " padded"}),
        json!({"to": "bell\u{7}"}),
        json!({"to": "x".repeat(65)}),
    ] {
        let (status, error) = rename(gw, &key, "talk", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert!(message(&error).starts_with("to: "), "{body}: {error}");
    }
    for body in [
        json!({}),
        json!({"to": 3}),
        json!({"to": "x", "from": "y"}),
        json!([]),
    ] {
        let (status, error) = rename(gw, &key, "talk", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
    }
    let (status, error) = gw
        .call(Method::GET, "/api/v1/tags?cursor=%FF%FE", &key, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(message(&error).contains("cursor"), "{error}");
    let (status, error) = rename(gw, &key, "nothing-has-it", json!({"to": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let (status, error) = gw
        .call(
            Method::PATCH,
            "/api/v1/integrations/crm",
            &key,
            Some(json!({"tags": ["ok", ""]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error.to_string().contains("tags[1]"), "{error}");
    assert_eq!(
        tags(gw, &key, 100).await,
        pairs(&[("sales", 1), ("talk", 3)])
    );
}

#[tokio::test]
async fn tags_are_counted_and_renamed_on_sqlite() {
    tags_are_counted_and_renamed(&Gateway::start(&[])).await;
}

#[tokio::test]
async fn tags_are_counted_and_renamed_on_postgres() {
    if let Some((gw, _db)) = postgres_gateway() {
        tags_are_counted_and_renamed(&gw).await;
    }
}
