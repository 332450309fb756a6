//! Hostile input at the gateway (issue 13): user-supplied times and documents
//! answered with a 400 that names what is wrong, never a dropped connection;
//! IPv6 forms that embed a loopback address refused by the strict URL policy.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::Gateway;

#[tokio::test]
async fn bad_times_and_hostile_documents_are_400s_naming_the_problem() {
    // The strict URL policy, as deployed (the harness allows private networks).
    let gw = Gateway::start(&[("WAYGATE_ALLOW_PRIVATE_NETWORKS", "0")]);
    let (_, key) = gw.tenant("Hostile").await;

    // `?since=`: a non-ASCII offset (used to panic the handler), an impossible
    // date, an impossible offset.
    for since in [
        "2030-01-02T03:04:05%2B0%C3%A9:00",
        "2030-02-31T00:00:00Z",
        "2030-01-02T03:04:05%2B99:99",
    ] {
        for path in ["/api/v1/logs", "/api/v1/metrics"] {
            let (status, body) = gw
                .call(Method::GET, &format!("{path}?since={since}"), &key, None)
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {since}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.starts_with("since: "), "{message}");
        }
    }

    // An integration on a NAT64 address that embeds 127.0.0.1.
    let def = json!({"slug": "nat", "name": "NAT64", "baseUrl": "http://[64:ff9b::7f00:1]:9/",
        "auth": {"type": "oauth2", "flows": ["authorization_code"],
            "authorizationUrl": "https://auth.example.com/a", "tokenUrl": "https://auth.example.com/t"},
        "actions": [{"slug": "get", "method": "GET", "path": "/x"}]});
    gw.created("/api/v1/integrations", &key, def).await;

    // A credential whose `expiresAt` is impossible or not ASCII.
    for expires in ["2030-02-31T00:00:00Z", "2030-01-02T03:04:05+0\u{e9}:00"] {
        let (status, body) = gw
            .call(
                Method::POST,
                "/api/v1/integrations/nat/connections",
                &key,
                Some(
                    json!({"credential": {"type": "oauth2_tokens", "clientId": "c",
                    "clientSecret": "s", "accessToken": "a", "expiresAt": expires}}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("expiresAt: not an RFC 3339"), "{message}");
    }
    gw.created(
        "/api/v1/integrations/nat/connections",
        &key,
        json!({"credential": {"type": "oauth2_tokens", "clientId": "c", "clientSecret": "s",
            "accessToken": "a", "expiresAt": "2999-01-02T03:04:05Z"}}),
    )
    .await;
    let (status, body) = gw
        .call(
            Method::POST,
            "/api/v1/actions/nat/get",
            &key,
            Some(json!({"input": {}})),
        )
        .await;
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status}: {body}"
    );
    assert_eq!(body["error"]["code"], "URL_NOT_ALLOWED", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("NAT64") && message.contains("127.0.0.1"),
        "{message}"
    );

    // The document: 100,000 nested flow sequences in a YAML definition.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let yaml = format!(
        "slug: deep\nname: Deep\nactions:\n- slug: x\n  method: GET\n  path: /x\n  inputSchema: {nested}\n"
    );
    let started = Instant::now();
    let response = gw
        .client
        .post(format!("{}/api/v1/integrations", gw.url))
        .bearer_auth(&key)
        .header("content-type", "application/yaml")
        .body(yaml)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("more than 64 levels"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
