//! Steps 9 to 11 together: with `fetchAll`, every page is validated against
//! the output schema (which describes one page) and mapped before its items
//! are taken out, against a real upstream on 127.0.0.1.

mod support;

use serde_json::{Value, json};
use support::{Reply, Upstream};
use waygate_core::pipeline::FetchAll;
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

fn waygate(upstream: &Upstream, validation: &str) -> Waygate {
    let def = json!({
        "slug": "crm", "name": "CRM", "baseUrl": upstream.url(), "auth": {"type": "bearer"},
        "actions": [{
            "slug": "list", "method": "GET", "path": "/contacts",
            "parameters": [{"name": "cursor", "in": "query"}],
            "pagination": {"strategy": "cursor", "itemsPath": "/items",
                           "cursorPath": "/next", "cursorParam": "cursor"},
            "outputSchema": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object", "required": ["id"],
                          "properties": {"id": {"type": "integer"}}}},
                "next": {"type": ["string", "null"]}}},
            "validation": validation
        }]
    });
    Waygate::builder()
        .integration(IntegrationDef::from_json(&def.to_string()).unwrap())
        .connection("crm", Connection::default_with(Credential::bearer("t")))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap()
}

/// Two pages; the second breaks the schema (an id that is not an integer).
fn two_pages(upstream: &Upstream) {
    upstream.script([
        Reply::json(200, json!({"items": [{"id": 1}, {"id": 2}], "next": "p2"})),
        Reply::json(200, json!({"items": [{"id": "three"}], "next": null})),
    ]);
}

#[tokio::test]
async fn a_strict_action_fails_on_the_page_that_breaks_its_schema() {
    let upstream = Upstream::start().await;
    two_pages(&upstream);
    let e = waygate(&upstream, "strict")
        .invoke("crm.list", json!({}))
        .fetch_all(FetchAll::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "RESPONSE_VALIDATION_ERROR", "{e}");
    assert!(e.to_string().contains("/items/0/id"), "{e}");
    assert_eq!(upstream.received().len(), 2);
}

#[tokio::test]
async fn a_warn_action_returns_every_item_and_reports_the_bad_page() {
    let upstream = Upstream::start().await;
    two_pages(&upstream);
    let all = waygate(&upstream, "warn")
        .invoke("crm.list", json!({}))
        .fetch_all(FetchAll::default())
        .await
        .unwrap();
    assert_eq!(all.data, json!([{"id": 1}, {"id": 2}, {"id": "three"}]));
    let meta = serde_json::to_value(&all.meta).unwrap();
    assert_eq!(meta["validation"]["valid"], Value::Bool(false), "{meta}");
    assert_eq!(meta["pagination"]["pages"], json!(2), "{meta}");
}

#[tokio::test]
async fn a_lenient_action_coerces_each_page() {
    let upstream = Upstream::start().await;
    upstream.script([
        Reply::json(200, json!({"items": [{"id": "1"}], "next": "p2"})),
        Reply::json(200, json!({"items": [{"id": "2"}], "next": null})),
    ]);
    let all = waygate(&upstream, "lenient")
        .invoke("crm.list", json!({}))
        .fetch_all(FetchAll::default())
        .await
        .unwrap();
    assert_eq!(
        all.data,
        json!([{"id": 1}, {"id": 2}]),
        "coerced on both pages"
    );
}
