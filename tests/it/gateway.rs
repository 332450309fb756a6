//! The gateway end to end over real sockets: tenant → import a shared fixture →
//! connection → invoke against a local upstream → logs → export → delete; the
//! upstream failure mapping; tenants never see each other's things.

use std::time::Duration;

use axum::Json;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN_KEY, Gateway, openapi_fixture_text, serve_upstream};

fn petstore_yaml() -> String {
    openapi_fixture_text("oai-examples/examples/v3.0/petstore.yaml")
}

/// The petstore of the fixture, and endpoints that fail in each way.
async fn upstream() -> String {
    let router = axum::Router::new()
        .route(
            "/pets",
            get(|| async { Json(json!([{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom"}])) }),
        )
        .route(
            "/pets/{id}",
            get(|UrlPath(id): UrlPath<i64>, headers: HeaderMap| async move {
                let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
                match id {
                    422 => (
                        AxumStatus::UNPROCESSABLE_ENTITY,
                        Json(json!({"message": "bad pet id"})),
                    )
                        .into_response(),
                    _ => Json(json!({"id": id, "name": "Rex", "requestId": request_id}))
                        .into_response(),
                }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1200)).await;
                Json(json!({"slow": true}))
            }),
        )
        .route(
            "/limited",
            get(|| async {
                (
                    AxumStatus::TOO_MANY_REQUESTS,
                    [("retry-after", "7")],
                    Json(json!({"message": "slow down"})),
                )
            }),
        )
        .route(
            "/broken",
            get(|| async { (AxumStatus::SERVICE_UNAVAILABLE, "down") }),
        );
    serve_upstream(router).await
}

#[tokio::test]
async fn tenant_import_connect_invoke_logs_export_delete() {
    let upstream = upstream().await;
    let mut gw = Gateway::start(&[]);
    let (tenant, key) = gw.tenant("Acme").await;

    // Import the shared petstore fixture, given as YAML text.
    let body = gw
        .created(
            "/api/v1/integrations/import",
            &key,
            json!({"openapi": petstore_yaml(), "slug": "pets", "baseUrl": upstream}),
        )
        .await;
    assert_eq!(body["actionCount"], 3);
    assert_eq!(body["integration"]["slug"], "pets");
    assert_eq!(body["integration"]["baseUrl"], upstream.as_str());
    let id = body["integration"]["id"].as_str().unwrap().to_owned();

    // Importing the same slug again is a conflict, not an overwrite.
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/import",
            &key,
            Some(json!({"openapi": petstore_yaml(), "slug": "pets"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "CONFLICT");

    // Listed, readable by id and by slug, with actions and schemas.
    let (_, list) = gw
        .call(Method::GET, "/api/v1/integrations", &key, None)
        .await;
    assert_eq!(list["data"][0]["slug"], "pets");
    assert_eq!(list["data"][0]["actionCount"], 3);
    assert_eq!(list["pagination"]["totalCount"], 1);
    assert_eq!(list["pagination"]["hasMore"], false);
    let (status, by_id) = gw
        .call(
            Method::GET,
            &format!("/api/v1/integrations/{id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id["slug"], "pets");
    let (_, actions) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/pets/actions?q=list",
            &key,
            None,
        )
        .await;
    assert_eq!(actions["data"].as_array().unwrap().len(), 1);
    assert_eq!(actions["data"][0]["id"], "pets.listPets");
    assert!(actions["data"][0]["inputSchema"].is_object());
    let (_, schema) = gw
        .call(
            Method::GET,
            "/api/v1/actions/pets/showPetById/schema",
            &key,
            None,
        )
        .await;
    assert_eq!(schema["id"], "pets.showPetById");
    assert_eq!(schema["metadata"]["method"], "GET");

    // A connection (the petstore has no auth), then invocations.
    let conn = gw
        .created(
            "/api/v1/integrations/pets/connections",
            &key,
            json!({"credential": {"type": "none"}}),
        )
        .await;
    assert_eq!(conn["name"], "default");
    assert_eq!(conn["status"], "active");
    let (status, result) = gw
        .call(
            Method::POST,
            "/api/v1/actions/pets/listPets",
            &key,
            Some(json!({"input": {"limit": 2}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["data"][1]["name"], "Tom");
    assert_eq!(result["meta"]["upstreamStatus"], 200);
    assert_eq!(result["meta"]["attempts"], 1);
    let (status, result) = gw
        .call(
            Method::POST,
            "/api/v1/actions/pets/showPetById",
            &key,
            Some(json!({"input": {"petId": "7"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["data"]["id"], 7);
    assert_eq!(result["data"]["requestId"], result["meta"]["requestId"]);

    // One request id follows a call: the caller's `x-request-id` is sent
    // upstream, comes back in the header and in `meta`, and names the log entry.
    let answer = gw
        .client
        .post(format!("{}/api/v1/actions/pets/showPetById", gw.url))
        .bearer_auth(&key)
        .header("x-request-id", "trace-42.a")
        .json(&json!({"input": {"petId": "8"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "trace-42.a");
    let traced: Value = answer.json().await.unwrap();
    assert_eq!(traced["meta"]["requestId"], "trace-42.a", "{traced}");
    assert_eq!(traced["data"]["requestId"], "trace-42.a", "{traced}");

    // Invalid input: 400 with the violation's pointer; nothing sent.
    let (status, err) = gw
        .call(
            Method::POST,
            "/api/v1/actions/pets/showPetById",
            &key,
            Some(json!({"input": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(
        err["error"]["suggestedResolution"]["action"],
        "RETRY_WITH_MODIFIED_INPUT"
    );

    // The dry run shows the request and sends nothing.
    let (status, test) = gw
        .call(
            Method::POST,
            "/api/v1/actions/pets/showPetById/test",
            &key,
            Some(json!({"input": {"petId": "9"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{test}");
    assert_eq!(test["request"]["url"], format!("{upstream}/pets/9"));

    // Logs: the four invocations, newest first, with names.
    let (status, logs) = poll_logs(&gw, &key, 4).await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    let entries = logs["data"].as_array().unwrap();
    assert_eq!(entries[0]["status"], "error");
    assert_eq!(entries[0]["errorCode"], "VALIDATION_ERROR");
    assert_eq!(entries[1]["requestId"], "trace-42.a");
    assert_eq!(entries[3]["action"], "listPets");
    assert_eq!(entries[3]["integrationName"], "Swagger Petstore");
    let (_, only_errors) = gw
        .call(Method::GET, "/api/v1/logs?status=error", &key, None)
        .await;
    assert_eq!(only_errors["data"].as_array().unwrap().len(), 1);
    let (_, page) = gw
        .call(Method::GET, "/api/v1/logs?limit=2", &key, None)
        .await;
    let cursor = page["pagination"]["cursor"].as_str().unwrap().to_owned();
    let (_, next) = gw
        .call(
            Method::GET,
            &format!("/api/v1/logs?limit=2&cursor={cursor}"),
            &key,
            None,
        )
        .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 2);
    let (_, stats) = gw.call(Method::GET, "/api/v1/metrics", &key, None).await;
    let list_stats = stats["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "listPets")
        .unwrap();
    assert_eq!(list_stats["count"], 1);
    assert_eq!(list_stats["errorRate"], 0.0);

    // Export as config as code: JSON reads back as the definition; YAML too.
    let (status, export) = gw
        .call(Method::GET, "/api/v1/integrations/pets/export", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let def = waygate_core::IntegrationDef::from_json(&export.to_string()).unwrap();
    assert_eq!(def.actions.len(), 3);
    let yaml = gw
        .client
        .get(format!("{}/api/v1/integrations/pets/export", gw.url))
        .bearer_auth(&key)
        .header("accept", "application/yaml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(waygate_core::IntegrationDef::from_yaml(&yaml).unwrap(), def);

    // The export creates the same integration under another slug.
    let mut copy = export.clone();
    copy["slug"] = json!("pets-copy");
    let created = gw.created("/api/v1/integrations", &key, copy).await;
    assert_eq!(created["actionCount"], 3);

    // Delete: gone for listing and invocation.
    let (status, _) = gw
        .call(Method::DELETE, "/api/v1/integrations/pets", &key, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = gw
        .call(
            Method::POST,
            "/api/v1/actions/pets/listPets",
            &key,
            Some(json!({"input": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let (status, _) = gw
        .call(
            Method::DELETE,
            &format!("/api/v1/tenants/{tenant}"),
            ADMIN_KEY,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = gw
        .call(Method::GET, "/api/v1/integrations", &key, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    gw.stop();
}

/// Logs are written off the hot path: wait until `n` are there.
async fn poll_logs(gw: &Gateway, key: &str, n: usize) -> (StatusCode, Value) {
    for _ in 0..50 {
        let (status, logs) = gw.call(Method::GET, "/api/v1/logs", key, None).await;
        if status != StatusCode::OK || logs["data"].as_array().map_or(0, Vec::len) >= n {
            return (status, logs);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} log entries after 5 s");
}

fn failing_definition(slug: &str, upstream: &str) -> Value {
    json!({
        "slug": slug,
        "name": "Chaos",
        "baseUrl": upstream,
        "defaults": {
            "timeoutMs": 400,
            "retry": {"maxAttempts": 1},
            "circuitBreaker": {"failureThreshold": 2, "windowMs": 60000, "openMs": 60000}
        },
        "actions": [
            {"slug": "bad", "method": "GET", "path": "/pets/422", "inputSchema": {"type": "object"}},
            {"slug": "slow", "method": "GET", "path": "/slow", "inputSchema": {"type": "object"}},
            {"slug": "limited", "method": "GET", "path": "/limited", "inputSchema": {"type": "object"}},
            {"slug": "broken", "method": "GET", "path": "/broken", "inputSchema": {"type": "object"}}
        ]
    })
}

#[tokio::test]
async fn upstream_failures_map_to_the_documented_answers() {
    let upstream = upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Chaos").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        failing_definition("chaos", &upstream),
    )
    .await;
    let invoke = |action: &'static str| {
        let gw = &gw;
        let key = key.clone();
        async move {
            gw.call(
                Method::POST,
                &format!("/api/v1/actions/chaos/{action}"),
                &key,
                Some(json!({"input": {}})),
            )
            .await
        }
    };

    let (status, err) = invoke("bad").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert_eq!(err["error"]["code"], "UPSTREAM_ERROR");
    assert_eq!(err["error"]["details"]["upstreamStatus"], 422);
    assert_eq!(
        err["error"]["details"]["upstreamBody"]["message"],
        "bad pet id"
    );
    assert!(err["error"]["requestId"].is_string());

    // passthroughErrors: the upstream's own status and body.
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/actions/chaos/bad",
            &key,
            Some(json!({"input": {}, "options": {"passthroughErrors": true}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["message"], "bad pet id");

    let (status, err) = invoke("slow").await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{err}");
    assert_eq!(err["error"]["code"], "UPSTREAM_TIMEOUT");

    // PATCH the defaults: the next call uses the longer timeout.
    let (status, patched) = gw
        .call(
            Method::PATCH,
            "/api/v1/integrations/chaos",
            &key,
            Some(
                json!({"defaults": {"timeoutMs": 5000, "retry": {"maxAttempts": 1},
                "circuitBreaker": {"failureThreshold": 2, "windowMs": 60000, "openMs": 60000}}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["defaults"]["timeoutMs"], 5000);
    let (status, ok) = invoke("slow").await;
    assert_eq!(status, StatusCode::OK, "{ok}");

    let (status, err) = invoke("limited").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{err}");
    assert_eq!(err["error"]["code"], "RATE_LIMITED");
    assert_eq!(err["error"]["details"]["retryAfterMs"], 7000);

    // Two failures open the breaker (threshold 2; the timeout above counted
    // for `chaos`, so a fresh integration): then 503 and nothing is sent.
    let _ = gw
        .created(
            "/api/v1/integrations",
            &key,
            failing_definition("fragile", &upstream),
        )
        .await;
    let broken = || {
        gw.call(
            Method::POST,
            "/api/v1/actions/fragile/broken",
            &key,
            Some(json!({"input": {}})),
        )
    };
    for _ in 0..2 {
        let (status, err) = broken().await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
        assert_eq!(err["error"]["details"]["upstreamStatus"], 503);
    }
    let (status, err) = broken().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert_eq!(err["error"]["code"], "CIRCUIT_OPEN");
    assert_eq!(
        err["error"]["suggestedResolution"]["action"],
        "RETRY_AFTER_DELAY"
    );
    let (_, health) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/fragile/health",
            &key,
            None,
        )
        .await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["circuitBreaker"], "open", "{health}");

    // A disabled integration refuses invocations until it is active again.
    let (status, body) = gw
        .call(
            Method::PATCH,
            "/api/v1/integrations/chaos",
            &key,
            Some(json!({"status": "disabled"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "disabled");
    let (status, err) = invoke("slow").await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"]["code"], "CONFIGURATION_ERROR");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
    let (status, _) = gw
        .call(
            Method::PATCH,
            "/api/v1/integrations/chaos",
            &key,
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, ok) = invoke("slow").await;
    assert_eq!(status, StatusCode::OK, "{ok}");
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let upstream = upstream().await;
    let gw = Gateway::start(&[]);
    let (a, key_a) = gw.tenant("A").await;
    let (b, key_b) = gw.tenant("B").await;
    let _ = gw
        .created(
            "/api/v1/integrations",
            &key_a,
            failing_definition("chaos", &upstream),
        )
        .await;
    gw.created(
        "/api/v1/integrations/chaos/connections",
        &key_a,
        json!({"credential": {"type": "bearer", "token": "tenant-a-token"}}),
    )
    .await;
    let id = gw
        .call(Method::GET, "/api/v1/integrations/chaos", &key_a, None)
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for path in [
        "/api/v1/integrations/chaos".to_owned(),
        format!("/api/v1/integrations/{id}"),
        "/api/v1/integrations/chaos/export".to_owned(),
        "/api/v1/integrations/chaos/actions".to_owned(),
        "/api/v1/integrations/chaos/connections".to_owned(),
        "/api/v1/actions/chaos/bad/schema".to_owned(),
        format!("/api/v1/tenants/{a}"),
        format!("/api/v1/tenants/{a}/api-keys"),
    ] {
        let (status, body) = gw.call(Method::GET, &path, &key_b, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = gw
        .call(
            Method::POST,
            "/api/v1/actions/chaos/bad",
            &key_b,
            Some(json!({"input": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = gw
        .call(Method::DELETE, "/api/v1/integrations/chaos", &key_b, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list_b) = gw
        .call(Method::GET, "/api/v1/integrations", &key_b, None)
        .await;
    assert_eq!(list_b["data"], json!([]));
    // A tenant reads itself, not the operator's endpoints.
    let (status, me) = gw
        .call(Method::GET, &format!("/api/v1/tenants/{b}"), &key_b, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "B");
    let (status, _) = gw
        .call(
            Method::POST,
            "/api/v1/tenants",
            &key_b,
            Some(json!({"name": "C"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A's integration is intact.
    let (status, _) = gw
        .call(Method::GET, "/api/v1/integrations/chaos", &key_a, None)
        .await;
    assert_eq!(status, StatusCode::OK);
}
