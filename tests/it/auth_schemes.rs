//! Several security schemes through the gateway (decision 86): Figma imported
//! with its personal token and OAuth2 schemes, one connection per scheme,
//! each action sent with its connection's scheme to a local upstream (the
//! OAuth2 one refreshed at the upstream's token endpoint first), and clear
//! 400s for an unknown scheme or a credential that fits none.

use axum::Json;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, openapi_fixture_text, serve_upstream};

/// Answers with the credential headers it received.
async fn echo(headers: HeaderMap) -> Json<Value> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    Json(json!({"figmaToken": header("x-figma-token"), "authorization": header("authorization")}))
}

async fn token() -> Json<Value> {
    Json(
        json!({"access_token": "fresh-token", "token_type": "bearer", "expires_in": 3600,
        "refresh_token": "r2"}),
    )
}

#[tokio::test]
async fn figma_connections_choose_their_scheme() {
    let upstream = serve_upstream(
        axum::Router::new()
            .route("/v1/me", get(echo))
            .route("/v1/activity_logs", get(echo))
            .route("/v1/oauth/token", post(token))
            .route("/v1/oauth/refresh", post(token)),
    )
    .await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Design").await;
    // The provider's OAuth endpoints, moved to the local upstream.
    let spec = openapi_fixture_text("figma/openapi.yaml").replace(
        "https://api.figma.com/v1/oauth",
        &format!("{upstream}/v1/oauth"),
    );
    let imported = gw
        .created(
            "/api/v1/integrations/import",
            &key,
            json!({"openapi": spec, "slug": "figma", "baseUrl": upstream}),
        )
        .await;
    assert_eq!(imported["integration"]["slug"], "figma", "{imported}");
    let (status, detail) = gw
        .call(Method::GET, "/api/v1/integrations/figma", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["auth"]["type"], "oauth2");
    assert_eq!(
        detail["authSchemes"]["PersonalAccessToken"]["name"], "X-Figma-Token",
        "{detail}"
    );

    let connections = "/api/v1/integrations/figma/connections";
    let token = gw
        .created(
            connections,
            &key,
            json!({"name": "token", "credential": {"type": "api_key", "key": "figd-1"}}),
        )
        .await;
    assert!(token.get("authScheme").is_none(), "{token}");
    gw.created(
        connections,
        &key,
        json!({"name": "oauth", "credential": {"type": "oauth2_tokens", "clientId": "c",
            "clientSecret": "s", "accessToken": "stale", "refreshToken": "r1",
            "expiresAt": "2020-01-01T00:00:00Z"}}),
    )
    .await;
    let org = gw
        .created(
            connections,
            &key,
            json!({"name": "org", "authScheme": "OrgOAuth2",
                "credential": {"type": "bearer", "token": "org-token"}}),
        )
        .await;
    assert_eq!(org["authScheme"], "OrgOAuth2");

    for (body, expected) in [
        (
            json!({"name": "x", "authScheme": "Nope", "credential": {"type": "api_key", "key": "k"}}),
            "auth scheme 'Nope' is not one of the integration's",
        ),
        (
            json!({"name": "y", "credential": {"type": "basic", "username": "u", "password": "p"}}),
            "a basic credential fits none of the integration's auth schemes",
        ),
    ] {
        let (status, answer) = gw.call(Method::POST, connections, &key, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }

    let invoke = |action: &'static str, connection: &'static str| {
        let gw = &gw;
        let key = key.clone();
        async move {
            gw.call(
                Method::POST,
                &format!("/api/v1/actions/figma/{action}"),
                &key,
                Some(json!({"input": {}, "connection": connection})),
            )
            .await
        }
    };
    let (status, answer) = invoke("getMe", "token").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"figmaToken": "figd-1", "authorization": null})
    );
    let (status, answer) = invoke("getMe", "oauth").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"figmaToken": null, "authorization": "Bearer fresh-token"}),
        "refreshed at the OAuth2 scheme's endpoint, then sent as a bearer token"
    );
    let (status, answer) = invoke("getActivityLogs", "org").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["authorization"], "Bearer org-token");
    let (status, answer) = invoke("getActivityLogs", "token").await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "CONFIGURATION_ERROR");

    // Choosing another scheme later: an unknown one is refused, a known one sticks.
    let org_path = "/api/v1/integrations/figma/connections/org";
    let (status, answer) = gw
        .call(
            Method::PATCH,
            org_path,
            &key,
            Some(json!({"authScheme": "Nope"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, answer) = gw
        .call(
            Method::PATCH,
            org_path,
            &key,
            Some(json!({"authScheme": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.get("authScheme").is_none(), "{answer}");
    let (status, answer) = invoke("getActivityLogs", "org").await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (StatusCode::CONFLICT, &json!("CONFIGURATION_ERROR")),
        "a bearer token now goes with the default OAuth2 scheme: {answer}"
    );
    let (status, answer) = invoke("getMe", "org").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["data"]["authorization"], "Bearer org-token");
}
