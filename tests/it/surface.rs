//! The gateway's surface: its OpenAPI document (checked against the golden
//! file `docs/openapi.json`), the offline docs page, authentication, the
//! tenant rate limit, the body limit, request ids and the error shape of
//! axum's own rejections.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN_KEY, Gateway};

fn golden_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// `WAYGATE_UPDATE_GOLDEN=1 cargo test -p waygate-server --test it openapi`
/// rewrites the golden file after an intended change of the API.
#[test]
fn openapi_document_matches_the_golden_file() {
    let doc = serde_json::to_value(waygate_server::api::openapi()).unwrap();
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("WAYGATE_UPDATE_GOLDEN").is_some() {
        std::fs::write(golden_path(), &text).unwrap();
    }
    let golden = std::fs::read_to_string(golden_path()).unwrap_or_default();
    assert!(
        golden == text,
        "docs/openapi.json differs from the API: review the change, then rerun with WAYGATE_UPDATE_GOLDEN=1"
    );
    assert_eq!(doc["openapi"], "3.1.0");
    // Every route of API.md this issue owns is described.
    for path in [
        "/tenants",
        "/tenants/{id}",
        "/tenants/{id}/api-keys",
        "/tenants/{id}/api-keys/{keyId}",
        "/integrations",
        "/integrations/import",
        "/integrations/{idOrSlug}",
        "/integrations/{idOrSlug}/export",
        "/integrations/{idOrSlug}/actions",
        "/integrations/{idOrSlug}/health",
        "/integrations/{idOrSlug}/connections",
        "/integrations/{idOrSlug}/disconnect",
        "/integrations/{idOrSlug}/connect",
        "/connections/{id}/refresh",
        "/actions/{integration}/{action}",
        "/actions/{integration}/{action}/schema",
        "/actions/{integration}/{action}/test",
        "/logs",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not described");
    }
}

#[tokio::test]
async fn the_document_and_the_docs_page_are_served_offline() {
    let gw = Gateway::start(&[]);
    let served: Value = gw
        .client
        .get(format!("{}/api/v1/openapi.json", gw.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served,
        serde_json::to_value(waygate_server::api::openapi()).unwrap()
    );
    let page = gw
        .client
        .get(format!("{}/docs/", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page loads assets from the internet"
    );
    let bundle = gw
        .client
        .get(format!("{}/docs/swagger-ui-bundle.js", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    let init = gw.text("/docs/swagger-initializer.js").await;
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
}

#[tokio::test]
async fn requests_are_authenticated_and_errors_keep_one_shape() {
    let gw = Gateway::start(&[("WAYGATE_MAX_BODY_BYTES", "4096")]);
    let (_, key) = gw.tenant("Shape").await;

    let response = gw
        .client
        .get(format!("{}/api/v1/integrations", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    for bad in ["wg_live_0000", "not-a-key", ADMIN_KEY.trim_end_matches('f')] {
        let (status, body) = gw
            .call(Method::GET, "/api/v1/integrations", bad, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}: {body}");
    }
    // The operator manages tenants but owns no integrations.
    let (status, body) = gw
        .call(Method::GET, "/api/v1/integrations", ADMIN_KEY, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Malformed JSON, a wrong field, an unknown route, a wrong method, a big body.
    let response = gw
        .client
        .post(format!("{}/api/v1/integrations/import", gw.url))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/import",
            &key,
            Some(json!({"openapi": {}, "slugg": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("slugg"),
        "{body}"
    );
    let (status, body) = gw
        .call(Method::GET, "/api/v1/nothing-here", &key, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let (status, body) = gw.call(Method::PUT, "/api/v1/logs", &key, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let big = json!({"openapi": "x".repeat(8192)});
    let (status, body) = gw
        .call(Method::POST, "/api/v1/integrations/import", &key, Some(big))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    // A document that is not OpenAPI: a clear 400 that says so.
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/import",
            &key,
            Some(json!({"openapi": {"info": {"title": "x"}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Request ids: a sane one is kept, otherwise one is made.
    let response = gw
        .client
        .get(format!("{}/healthz", gw.url))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-123");
    let response = gw
        .client
        .get(format!("{}/healthz", gw.url))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "{id}");

    // Prometheus metrics are exposed.
    let metrics = gw.metrics().await;
    assert!(metrics.contains("waygate_http_requests_total"), "{metrics}");
    assert!(metrics.contains("waygate_log_queue_depth"), "{metrics}");
}

#[tokio::test]
async fn the_tenant_rate_limit_answers_429_and_can_be_changed_per_tenant() {
    let gw = Gateway::start(&[("WAYGATE_TENANT_RATE_LIMIT", "3")]);
    let (tenant, key) = gw.tenant("Busy").await;
    for _ in 0..3 {
        let (status, _) = gw
            .call(Method::GET, "/api/v1/integrations", &key, None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = gw
        .client
        .get(format!("{}/api/v1/integrations", gw.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    assert!(body["error"]["details"]["retryAfterMs"].as_u64().unwrap() > 0);

    // Another tenant has its own budget.
    let (_, other) = gw.tenant("Quiet").await;
    let (status, _) = gw
        .call(Method::GET, "/api/v1/integrations", &other, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // The operator lifts the limit for this tenant (0 = none); bad values are refused.
    let (status, body) = gw
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/{tenant}"),
            ADMIN_KEY,
            Some(json!({"settings": {"rateLimitPerMinute": -1}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = gw
        .call(
            Method::PATCH,
            &format!("/api/v1/tenants/{tenant}"),
            ADMIN_KEY,
            Some(json!({"settings": {"rateLimitPerMinute": 0}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["settings"]["rateLimitPerMinute"], 0);
    for _ in 0..10 {
        let (status, _) = gw
            .call(Method::GET, "/api/v1/integrations", &key, None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn keys_are_shown_once_listed_without_secrets_and_revocable() {
    let gw = Gateway::start(&[]);
    let (tenant, key) = gw.tenant("Keys").await;
    let issued = gw
        .created(
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            &key,
            json!({"name": "ci"}),
        )
        .await;
    let second = issued["apiKey"].as_str().unwrap().to_owned();
    assert!(
        second.starts_with("wg_live_") && second.len() >= 8 + 64,
        "{second}"
    );
    let (status, _) = gw
        .call(Method::GET, "/api/v1/integrations", &second, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, keys) = gw
        .call(
            Method::GET,
            &format!("/api/v1/tenants/{tenant}/api-keys"),
            &key,
            None,
        )
        .await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 2);
    assert!(!keys.to_string().contains(&second));
    assert!(!keys.to_string().contains(&key));
    let id = issued["id"].as_str().unwrap();
    let (status, _) = gw
        .call(
            Method::DELETE,
            &format!("/api/v1/tenants/{tenant}/api-keys/{id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = gw
        .call(Method::GET, "/api/v1/integrations", &second, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = gw
        .call(Method::GET, "/api/v1/integrations", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK);
}
