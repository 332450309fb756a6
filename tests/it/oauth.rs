//! OAuth2 through the running gateway, against a real OAuth 2 server process
//! (`tests/oauth/server.js`): the authorization code flow through `/connect`,
//! the provider and `/oauth/callback`; refresh now; and two `waygate serve`
//! processes sharing PostgreSQL that refresh an expired token exactly once.
//!
//! Needs Node and npm's `oauth2-mock-server` (`WAYGATE_OAUTH_MOCK_MODULES`);
//! `.ci/run` installs both and runs these `--ignored` tests.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[allow(dead_code)] // each test binary uses part of the shared harness
#[path = "../oauth/mock.rs"]
mod mock;

use mock::MockOAuth;

use crate::support::{Gateway, PG_MASTER_KEY, PgDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn authorization_code_through_connect_and_callback_then_invoke() {
    let mock = MockOAuth::start().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("OAuth").await;
    gw.created("/api/v1/integrations", &key, mock.definition())
        .await;

    // No client yet: /connect says what it needs.
    let (status, err) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/acme/connect",
            &key,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("clientId")
    );
    // A redirect URI elsewhere is refused.
    let (status, err) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/acme/connect",
            &key,
            Some(json!({"clientId": "client-a", "clientSecret": "secret-a",
                "redirectUri": "https://attacker.example/oauth/callback"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    let (status, start) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/acme/connect",
            &key,
            Some(json!({"clientId": "client-a", "clientSecret": "secret-a"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let url = start["authorizationUrl"].as_str().unwrap();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains(&format!("state={}", start["state"].as_str().unwrap())));

    // Consent: the provider redirects the browser to the gateway's callback.
    let consent = mock.http.get(url).send().await.unwrap();
    assert!(consent.status().is_redirection(), "{}", consent.status());
    let location = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/oauth/callback?", gw.url)),
        "{location}"
    );
    let page = gw.client.get(&location).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("is authorized"));

    // The verifier reached the token endpoint; the connection holds the tokens.
    let exchange = mock.code_exchange().await.expect("the code was exchanged");
    assert!(
        exchange["code_verifier"]
            .as_str()
            .is_some_and(|v| v.len() >= 43)
    );
    let (_, connections) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/acme/connections",
            &key,
            None,
        )
        .await;
    assert_eq!(connections["data"][0]["credentialType"], "oauth2_tokens");
    assert_eq!(connections["data"][0]["status"], "active");
    assert!(!connections.to_string().contains("secret-a"));

    let (status, result) = gw
        .call(
            Method::POST,
            "/api/v1/actions/acme/whoami",
            &key,
            Some(json!({"input": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["data"]["sub"], "johndoe");

    // The same redirect again: the state is used up; nothing changes.
    let replay = gw.client.get(&location).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("already completed"));

    // Refresh now, through the API.
    let id = connections["data"][0]["id"].as_str().unwrap();
    let before = mock.count("refresh_token").await;
    let (status, refreshed) = gw
        .call(
            Method::POST,
            &format!("/api/v1/connections/{id}/refresh"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert!(refreshed["expiresAt"].is_string());
    assert_eq!(mock.count("refresh_token").await, before + 1);
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains(r#"waygate_oauth_refreshes_total{outcome="success"} 1"#),
        "{metrics}"
    );

    // Denied consent: a clear page, nothing stored on another connection.
    let (_, start) = gw
        .call(
            Method::POST,
            "/api/v1/integrations/acme/connect",
            &key,
            Some(
                json!({"connection": "second", "clientId": "client-a", "clientSecret": "secret-a"}),
            ),
        )
        .await;
    let denied = gw
        .client
        .get(format!(
            "{}/oauth/callback?state={}&error=access_denied",
            gw.url,
            start["state"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::BAD_REQUEST);
    assert!(denied.text().await.unwrap().contains("access_denied"));
    let (_, connections) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/acme/connections",
            &key,
            None,
        )
        .await;
    assert_eq!(connections["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES) and PostgreSQL (WAYGATE_TEST_POSTGRES_URL); run by .ci/run"]
async fn two_gateways_sharing_postgres_refresh_an_expired_token_once() {
    let admin = std::env::var("WAYGATE_TEST_POSTGRES_URL")
        .expect("set WAYGATE_TEST_POSTGRES_URL to a PostgreSQL server");
    let db = PgDatabase::create(&admin);
    let mock = MockOAuth::start().await;
    let env = [
        ("WAYGATE_DATABASE_URL", db.url.as_str()),
        ("WAYGATE_MASTER_KEY", PG_MASTER_KEY),
    ];
    let first = Gateway::start(&env);
    let (_, key) = first.tenant("Replicas").await;
    first
        .created("/api/v1/integrations", &key, mock.definition())
        .await;
    first
        .created(
            "/api/v1/integrations/acme/connections",
            &key,
            json!({"credential": {"type": "oauth2_tokens", "clientId": "client-a",
                "clientSecret": "secret-a", "accessToken": "expired-access-token",
                "refreshToken": "rt-0", "expiresAt": "2020-01-01T00:00:00Z"}}),
        )
        .await;
    let second = Gateway::start(&env);

    let mut calls = Vec::new();
    for gw in [&first, &second] {
        for _ in 0..25 {
            let request = gw
                .client
                .post(format!("{}/api/v1/actions/acme/whoami", gw.url))
                .bearer_auth(&key)
                .json(&json!({"input": {}}))
                .send();
            calls.push(request);
        }
    }
    let answers = futures::future::join_all(calls).await;
    for answer in answers {
        let answer = answer.unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["sub"], "johndoe");
    }
    assert_eq!(
        mock.count("refresh_token").await,
        1,
        "{}",
        mock.stats().await
    );
}
