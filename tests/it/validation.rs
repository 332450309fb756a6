//! Response validation and field mappings through the gateway over HTTP
//! (issue 18): each mode, the bypass header (response only, never input),
//! drift in health, metrics and the log, and each mapping transform with the
//! mappings API and a connection's override.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::routing::{get, post};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, serve_upstream};

fn schema() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"}, "active": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "object", "properties": {"price": {"type": "number"}}}}}})
}

/// Invokes `integration.action` with `body`, with extra headers.
async fn invoke(
    gw: &Gateway,
    key: &str,
    action: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = gw
        .client
        .post(format!("{}/api/v1/actions/{action}", gw.url))
        .bearer_auth(key)
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn each_validation_mode_the_bypass_and_drift_over_http() {
    let flips = Arc::new(AtomicUsize::new(0));
    let counter = flips.clone();
    let upstream = serve_upstream(
        axum::Router::new()
            .route(
                "/bad",
                get(|| async { Json(json!({"id": "7", "active": "true", "extra": 1})) }),
            )
            .route("/text", get(|| async { "plain words" }))
            // Ten good answers, one odd one, ten good, then a changed format.
            .route(
                "/flip",
                get(move || {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let price = match n {
                        10 => json!("odd"),
                        0..=20 => json!(1.5),
                        _ => json!({"amount": 1.5}),
                    };
                    async move { Json(json!({"id": 1, "items": [{"price": price}]})) }
                }),
            ),
    )
    .await;
    let mut gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Checks").await;
    let action = |slug: &str, path: &str, validation: Value| {
        let mut a = json!({"slug": slug, "method": "GET", "path": path, "outputSchema": schema(),
            "inputSchema": {"type": "object", "properties": {"q": {"type": "integer"}}}});
        if !validation.is_null() {
            a["validation"] = validation;
        }
        a
    };
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "shop", "name": "Shop", "baseUrl": upstream, "actions": [
            action("warn", "/bad", Value::Null),
            action("strict", "/bad", json!("strict")),
            action("lenient", "/bad", json!("lenient")),
            action("stripped", "/bad", json!({"mode": "warn", "stripUnknown": true})),
            action("text", "/text", json!("strict")),
            action("flip", "/flip", Value::Null),
        ]}),
    )
    .await;
    let call = |action: &'static str| {
        let (gw, key) = (&gw, &key);
        async move {
            let path = format!("shop/{action}");
            invoke(gw, key, &path, json!({"input": {}}), &[]).await
        }
    };

    // warn (the default): the data as sent, the issues in meta.validation.
    let (status, body) = call("warn").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({"id": "7", "active": "true", "extra": 1})
    );
    assert_eq!(body["meta"]["validation"]["mode"], "warn");
    assert_eq!(body["meta"]["validation"]["valid"], false);
    let issues = body["meta"]["validation"]["issues"].as_array().unwrap();
    assert!(
        issues
            .iter()
            .any(|i| i["pointer"] == "/id" && i["rule"] == "type"),
        "{body}"
    );

    // strict: 502 with pointers, rules and a resolution.
    let (status, body) = call("strict").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "RESPONSE_VALIDATION_ERROR");
    let violations = body["error"]["details"]["violations"].as_array().unwrap();
    assert!(
        violations
            .iter()
            .any(|v| v["pointer"] == "/id" && v["rule"] == "type"),
        "{body}"
    );
    assert_eq!(
        body["error"]["suggestedResolution"]["action"],
        "CHECK_INTEGRATION_CONFIG"
    );

    // lenient: coerced, and said so.
    let (status, body) = call("lenient").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({"id": 7, "active": true, "extra": 1, "items": null})
    );
    let coerced = &body["meta"]["validation"]["coerced"];
    assert_eq!(
        coerced[0],
        json!({"pointer": "/active", "from": "string", "to": "boolean"})
    );
    assert_eq!(
        coerced[1],
        json!({"pointer": "/id", "from": "string", "to": "integer"})
    );

    // stripUnknown: the unlisted field goes.
    let (_, body) = call("stripped").await;
    assert_eq!(body["data"], json!({"id": "7", "active": "true"}));
    assert_eq!(body["meta"]["validation"]["stripped"], json!(["/extra"]));

    // A body that is not JSON is not validated, even in strict mode.
    let (status, body) = call("text").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["validation"]["skipped"], "not JSON");

    // The header and the option bypass response validation…
    let bypass = [("X-Waygate-Bypass-Validation", "true")];
    let (status, body) = invoke(&gw, &key, "shop/strict", json!({"input": {}}), &bypass).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["meta"]["validation"]["skipped"], "bypassed");
    let options = json!({"input": {}, "options": {"bypassValidation": true}});
    let (status, _) = invoke(&gw, &key, "shop/strict", options, &[]).await;
    assert_eq!(status, StatusCode::OK);
    // …and never input validation.
    let bad_input = json!({"input": {"q": "not a number"}});
    let (status, body) = invoke(&gw, &key, "shop/warn", bad_input.clone(), &bypass).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    let mut with_option = bad_input;
    with_option["options"] = json!({"bypassValidation": true});
    let (status, _) = invoke(&gw, &key, "shop/warn", with_option, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Drift: one odd response among good ones is not drift…
    for _ in 0..21 {
        let (status, _) = call("flip").await;
        assert_eq!(status, StatusCode::OK);
    }
    // The health answer, and the drift entry of the `flip` action in it.
    let health = || {
        let (gw, key) = (&gw, &key);
        async move {
            let h = gw
                .call(Method::GET, "/api/v1/integrations/shop/health", key, None)
                .await
                .1;
            let flip = h["drift"]
                .as_array()
                .and_then(|d| d.iter().find(|d| d["action"] == "flip"))
                .cloned()
                .unwrap_or_else(|| panic!("no drift entry for flip: {h}"));
            (h, flip)
        }
    };
    let (h, flip) = health().await;
    assert_eq!(flip["drifting"], false, "{h}");
    assert_eq!(flip["failed"], 1, "{h}");
    assert_eq!(h["status"], "healthy", "{h}");
    // …a changed format is: flagged in health, metrics and the log.
    let mut last = Value::Null;
    for _ in 0..11 {
        last = call("flip").await.1;
    }
    assert_eq!(last["meta"]["validation"]["drifting"], true, "{last}");
    let (h, flip) = health().await;
    assert_eq!(flip["drifting"], true, "{h}");
    assert_eq!(flip["path"], "/items/*/price", "{h}");
    assert_eq!(h["status"], "degraded", "{h}");
    let metrics = gw.metrics().await;
    let gauge = metrics
        .lines()
        .find(|l| l.starts_with("waygate_response_drift{") && l.contains("action=\"flip\""))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(gauge.ends_with(" 1"), "{gauge}");
    assert!(
        metrics.contains("waygate_response_validations_total{"),
        "{metrics}"
    );
    // The log is written in batches: stopping the server flushes it.
    gw.stop();
    let log = gw.log();
    assert!(log.contains("response drift"), "{log}");
}

#[tokio::test]
async fn mappings_each_transform_the_api_and_a_connections_override_over_http() {
    // Echoes the body it got, with members whose e-mail sits in a profile.
    let upstream = serve_upstream(axum::Router::new().route(
        "/echo",
        post(|Json(body): Json<Value>| async move {
            Json(json!({"received": body,
                "members": [{"profile": {"email": "a@x"}}, {"profile": {}}]}))
        }),
    ))
    .await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Maps").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "sheets", "name": "Sheets", "baseUrl": upstream, "actions": [
            {"slug": "append", "method": "POST", "path": "/echo",
             "inputSchema": {"type": "object", "required": ["values"], "properties": {
                 "values": {"type": "array", "items": {"type": "array"}}}},
             "mappings": {
                 "input": [
                     {"from": "/user/email", "to": "/emailAddress"},
                     {"from": "/values", "transform": "wrap"},
                     {"from": "/count", "transform": "number"},
                     {"from": "/flag", "transform": "boolean"},
                     {"from": "/id", "transform": "string"},
                     {"from": "/day", "transform": {"date": "%d/%m/%Y"}},
                     {"from": "/debug", "transform": "omit"},
                     {"from": "/nickname", "to": "/nick", "default": "anon"}],
                 "output": [
                     {"from": "/members/*/profile/email", "to": "/members/*/email"},
                     {"from": "/members/*/profile", "transform": "omit"}]}}]}),
    )
    .await;
    let (status, body) = invoke(
        &gw,
        &key,
        "sheets/append",
        json!({"input": {"user": {"email": "u@x"}, "values": [1, 2, 3], "count": "3",
            "flag": "false", "id": 12, "day": "2026-12-03", "debug": true}}),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["received"],
        json!({"user": {}, "emailAddress": "u@x", "values": [[1, 2, 3]], "count": 3,
               "flag": false, "id": "12", "day": "03/12/2026", "nick": "anon"})
    );
    assert_eq!(body["data"]["members"], json!([{"email": "a@x"}, {}]));
    // The second member had no e-mail: skipped and reported, not a 500.
    assert_eq!(
        body["meta"]["mappings"]["skipped"][0]["pointer"],
        "/members/1/profile/email"
    );
    assert_eq!(
        body["meta"]["mappings"]["skipped"][0]["direction"],
        "output"
    );

    // The API: read, refuse a bad mapping by its field, replace.
    let path = "/api/v1/integrations/sheets/actions/append/mappings";
    let (status, view) = gw.call(Method::GET, path, &key, None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["source"], "definition");
    assert_eq!(view["input"].as_array().unwrap().len(), 8);
    let bad = json!({"input": [{"from": "/a/*/b", "to": "/c"}]});
    let (status, body) = gw.call(Method::PUT, path, &key, Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"]["details"]["problems"][0]["field"], "input[0].to",
        "{body}"
    );
    let simpler = json!({"input": [{"from": "/row", "to": "/values", "transform": "wrap"}]});
    let (status, body) = gw.call(Method::PUT, path, &key, Some(simpler)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Seen by the next call at once (a new revision).
    let (status, body) = invoke(
        &gw,
        &key,
        "sheets/append",
        json!({"input": {"row": [4]}}),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["received"], json!({"values": [[4]]}));
    assert_eq!(
        body["data"]["members"][0]["profile"]["email"], "a@x",
        "no output mappings now"
    );

    // A connection's own mappings replace the definition's for its calls.
    gw.created(
        "/api/v1/integrations/sheets/connections",
        &key,
        json!({"name": "team", "credential": {"type": "none"}}),
    )
    .await;
    let own = json!({"input": [{"from": "/cells", "to": "/values"}],
        "output": [{"from": "/received", "transform": "omit"}]});
    let team = format!("{path}?connection=team");
    let (status, body) = gw.call(Method::PUT, &team, &key, Some(own)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, view) = gw.call(Method::GET, &team, &key, None).await;
    assert_eq!(view["source"], "connection", "{view}");
    let (status, body) = invoke(
        &gw,
        &key,
        "sheets/append",
        json!({"input": {"cells": [[5]]}, "connection": "team"}),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"].get("received").is_none(), "{body}");
    let (status, _) = gw
        .call(
            Method::PUT,
            &format!("{path}?connection=nobody"),
            &key,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The OpenAPI document describes the routes and meta.validation.
    let doc = gw.text("/api/v1/openapi.json").await;
    assert!(doc.contains("/integrations/{idOrSlug}/actions/{action}/mappings"));
    assert!(doc.contains("ValidationMeta") && doc.contains("MappingsMeta"));
}
