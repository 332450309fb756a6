//! OAuth2 end to end against a real OAuth 2 server process: npm's
//! `oauth2-mock-server`, started by `tests/oauth/server.js`, which also counts
//! token requests per grant type, can enforce refresh-token rotation or answer
//! `invalid_grant`, and serves a protected API that accepts only its unexpired
//! tokens. Calls go through the full `Executor` with the SQL store.
//!
//! Needs Node and the npm package; `.ci/run` installs it and runs
//! `WAYGATE_OAUTH_MOCK_MODULES=…/node_modules cargo test -p waygate-store --test oauth_mock -- --ignored`.
//! The two-replica scenario runs on SQLite (two stores on one file: leases) and
//! on PostgreSQL (advisory locks) when `WAYGATE_TEST_POSTGRES_URL` is set.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use support::{POSTGRES_ENV, TestDb};
use waygate_core::IntegrationDef;
use waygate_core::credential::{Connection, ConnectionStatus, Credential};
use waygate_core::error::ResolutionAction;
use waygate_core::oauth2::RefreshConfig;
use waygate_core::oauth2::{OAuth2Resolver, begin_authorization};
use waygate_core::pipeline::{Call, CallOptions, Executor};
use waygate_core::storage::IntegrationStore;
use waygate_core::{Error, UrlPolicy};
use waygate_store::{MasterKey, OAuthClient, PendingAuthorization, StateOutcome, Store};

#[path = "../../tests/oauth/mock.rs"]
mod mock;

use mock::MockOAuth;

/// The mock server's integration, as the engine reads it.
fn integration(mock: &MockOAuth) -> IntegrationDef {
    IntegrationDef::from_json(&mock.definition().to_string()).unwrap()
}

fn resolver(store: &Store) -> OAuth2Resolver {
    resolver_with(store, RefreshConfig::default())
}

fn resolver_with(store: &Store, config: RefreshConfig) -> OAuth2Resolver {
    OAuth2Resolver::builder(Arc::new(store.clone()))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .config(config)
        .build()
        .unwrap()
}

fn executor(store: &Store, resolver: &OAuth2Resolver) -> Executor {
    Executor::builder()
        .integration_store(Arc::new(store.clone()))
        .connection_store(Arc::new(store.clone()))
        .credential_resolver(Arc::new(resolver.clone()))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap()
}

fn whoami() -> Call {
    Call {
        tenant: "t1".into(),
        integration: "acme".into(),
        action: "whoami".into(),
        input: json!({}),
        options: CallOptions::default(),
    }
}

/// A connection whose access token expired a minute ago (and was never valid
/// at the protected API): every call must refresh first.
fn expired(refresh_token: &str) -> Connection {
    Connection::default_with(Credential::Oauth2Tokens {
        client_id: "client-a".into(),
        client_secret: SecretString::from("secret-a".to_owned()),
        access_token: SecretString::from("expired-access-token".to_owned()),
        refresh_token: Some(SecretString::from(refresh_token.to_owned())),
        expires_at: Some(SystemTime::now() - Duration::from_secs(60)),
        scopes: vec!["read".into()],
    })
}

async fn setup(store: &Store, mock: &MockOAuth, connection: Option<Connection>) {
    store.create_tenant("t1", "t1").await.unwrap();
    store
        .put_integration("t1", integration(mock))
        .await
        .unwrap();
    if let Some(c) = connection {
        store.store_connection("t1", "acme", &c).await.unwrap();
    }
}

async fn invoke_all(executors: &[Executor], per_executor: usize) -> Vec<Result<Value, Error>> {
    let mut tasks = Vec::new();
    for exec in executors {
        for _ in 0..per_executor {
            let exec = exec.clone();
            tasks.push(tokio::spawn(async move {
                exec.invoke(&whoami()).await.map(|i| i.data)
            }));
        }
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

fn assert_all_ok(results: &[Result<Value, Error>]) {
    for r in results {
        match r {
            Ok(data) => assert_eq!(data["sub"], "johndoe"),
            Err(e) => panic!("a call failed: {e} ({})", e.code()),
        }
    }
}

async fn stored_refresh_token(store: &Store) -> String {
    let c = store
        .load_connection("t1", "acme", "default")
        .await
        .unwrap();
    match c.unwrap().credential {
        Credential::Oauth2Tokens { refresh_token, .. } => {
            refresh_token.unwrap().expose_secret().to_owned()
        }
        other => panic!("not tokens: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn fifty_concurrent_calls_with_an_expired_token_refresh_once() {
    for db in TestDb::all().await {
        let mock = MockOAuth::start().await;
        mock.configure(json!({"tokenDelayMs": 300})).await;
        setup(&db.store, &mock, Some(expired("rt-0"))).await;
        let exec = executor(&db.store, &resolver(&db.store));
        let results = invoke_all(&[exec], 50).await;
        assert_all_ok(&results);
        let refreshes = mock.count("refresh_token").await;
        eprintln!(
            "{:?}: 50 calls, {refreshes} refresh request(s)",
            db.store.backend()
        );
        assert_eq!(refreshes, 1);
        let stats = mock.stats().await;
        assert_eq!(stats["requests"][0]["refresh_token"], "rt-0");
        assert_eq!(stats["requests"][0]["basic_auth"], true);
        assert_ne!(
            stored_refresh_token(&db.store).await,
            "rt-0",
            "rotated token saved"
        );
        db.finish().await;
    }
}

/// Two replicas: two stores (two pools) on one database, two resolvers, two
/// executors; 25 calls each at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn two_replicas_refresh_once() {
    if std::env::var(POSTGRES_ENV).is_err() {
        eprintln!("SKIPPED on PostgreSQL: {POSTGRES_ENV} is not set (SQLite still runs)");
    }
    for db in TestDb::all().await {
        let mock = MockOAuth::start().await;
        mock.configure(json!({"tokenDelayMs": 300})).await;
        let key = MasterKey::generate();
        db.store.set_master_key(key.clone());
        let replica = Store::open(&db.url).await.unwrap();
        replica.set_master_key(key);
        setup(&db.store, &mock, Some(expired("rt-0"))).await;
        let a = executor(&db.store, &resolver(&db.store));
        let b = executor(&replica, &resolver(&replica));
        let results = invoke_all(&[a, b], 25).await;
        assert_all_ok(&results);
        let refreshes = mock.count("refresh_token").await;
        eprintln!(
            "{:?}: 2 replicas x 25 calls, {refreshes} refresh request(s)",
            db.store.backend()
        );
        assert_eq!(refreshes, 1);
        replica.close().await.ok();
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn with_rotation_enforced_a_second_refresh_succeeds() {
    let db = TestDb::sqlite().await;
    let mock = MockOAuth::start().await;
    mock.configure(json!({"rotation": true, "refreshToken": "rt-0"}))
        .await;
    setup(&db.store, &mock, Some(expired("rt-0"))).await;
    let resolver = resolver(&db.store);
    let exec = executor(&db.store, &resolver);
    exec.invoke(&whoami()).await.unwrap();
    let first = stored_refresh_token(&db.store).await;
    assert_ne!(first, "rt-0");

    // The server really refuses a stale refresh token now.
    let stale = mock
        .http
        .post(format!("{}/token", mock.oauth))
        .basic_auth("client-a", Some("secret-a"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "rt-0")])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 400);

    let def = integration(&mock);
    let expiry = resolver.refresh_now("t1", &def, "default").await.unwrap();
    assert!(expiry.unwrap() > SystemTime::now() + Duration::from_secs(3000));
    let second = stored_refresh_token(&db.store).await;
    assert_ne!(second, first, "the second rotation is stored too");
    exec.invoke(&whoami()).await.unwrap();
    let stats = mock.stats().await;
    let presented: Vec<&str> = stats["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["grant_type"] == "refresh_token")
        .map(|r| r["refresh_token"].as_str().unwrap())
        .collect();
    assert_eq!(presented, ["rt-0", "rt-0", first.as_str()]);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn twenty_concurrent_client_credentials_calls_fetch_one_token() {
    let db = TestDb::sqlite().await;
    let mock = MockOAuth::start().await;
    mock.configure(json!({"tokenDelayMs": 300})).await;
    let connection = Connection::default_with(Credential::Oauth2ClientCredentials {
        client_id: "machine".into(),
        client_secret: SecretString::from("machine-secret".to_owned()),
        scopes: vec!["read".into()],
    });
    setup(&db.store, &mock, Some(connection)).await;
    let exec = executor(&db.store, &resolver(&db.store));
    let results = invoke_all(std::slice::from_ref(&exec), 20).await;
    assert_all_ok(&results);
    assert_all_ok(&invoke_all(&[exec], 5).await);
    let fetched = mock.count("client_credentials").await;
    eprintln!("25 client-credentials calls, {fetched} token request(s)");
    assert_eq!(fetched, 1);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn authorization_code_with_pkce_end_to_end() {
    let db = TestDb::sqlite().await;
    let mock = MockOAuth::start().await;
    setup(&db.store, &mock, None).await;
    let def = integration(&mock);
    let redirect_uri = "http://127.0.0.1:9/oauth/callback";
    let start = begin_authorization(&def.auth, "client-a", redirect_uri, None).unwrap();
    let verifier = start.verifier.clone().expect("the spec asks for PKCE");
    let pending = PendingAuthorization {
        tenant: "t1".into(),
        integration: "acme".into(),
        connection: "default".into(),
        redirect_uri: redirect_uri.into(),
        verifier: start.verifier.clone(),
        // As `/connect` receives them when the connection has no client yet.
        client: Some(OAuthClient {
            id: "client-a".into(),
            secret: SecretString::from("secret-a".to_owned()),
        }),
        auth_scheme: None,
    };
    db.store
        .create_oauth_state(&start.state, &pending, Duration::from_secs(600))
        .await
        .unwrap();

    // Simulated consent: the provider redirects to the callback with a code.
    let consent = mock.http.get(start.url.clone()).send().await.unwrap();
    assert!(consent.status().is_redirection(), "{}", consent.status());
    let location = consent.headers()["location"].to_str().unwrap();
    let callback = reqwest::Url::parse(location).unwrap();
    assert!(location.starts_with(redirect_uri));
    let query: std::collections::HashMap<_, _> = callback.query_pairs().into_owned().collect();
    assert_eq!(query["state"], start.state);

    // The callback: consume the state, exchange the code, store the tokens.
    let StateOutcome::Consumed(found) =
        db.store.consume_oauth_state(&query["state"]).await.unwrap()
    else {
        panic!("a fresh state is consumed");
    };
    let resolver = resolver(&db.store);
    let client = found
        .client
        .clone()
        .expect("the client was kept with the state");
    let secret = client.secret.clone();
    let credential = resolver
        .exchange_code(
            &def.auth,
            &client.id,
            &secret,
            &query["code"],
            &found.redirect_uri,
            found.verifier.as_ref(),
        )
        .await
        .unwrap();
    let connection = Connection::new(found.connection.clone(), credential);
    db.store
        .store_connection(&found.tenant, &found.integration, &connection)
        .await
        .unwrap();
    executor(&db.store, &resolver)
        .invoke(&whoami())
        .await
        .unwrap();

    let exchange = mock.code_exchange().await.expect("the code was exchanged");
    assert_eq!(exchange["code_verifier"], verifier.secret());
    assert!(matches!(
        db.store.consume_oauth_state(&start.state).await.unwrap(),
        StateOutcome::Replayed
    ));
    // The same code again (a replayed callback that skipped the state check)
    // is refused by the provider: the mock keeps no challenge for it.
    let again = resolver
        .exchange_code(
            &def.auth,
            "client-a",
            &secret,
            &query["code"],
            redirect_uri,
            Some(&verifier),
        )
        .await;
    assert!(again.is_err());
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn invalid_grant_marks_the_connection_needs_reauth() {
    for db in TestDb::all().await {
        let mock = MockOAuth::start().await;
        mock.configure(json!({"invalidGrant": true})).await;
        setup(&db.store, &mock, Some(expired("rt-revoked"))).await;
        let resolver = resolver(&db.store);
        let exec = executor(&db.store, &resolver);
        let err = exec.invoke(&whoami()).await.unwrap_err();
        assert_eq!(err.code(), "CREDENTIALS_ERROR", "{err}");
        assert_eq!(
            err.suggested_resolution().action,
            ResolutionAction::RefreshCredentials
        );
        assert!(!err.to_string().contains("rt-revoked"));
        let conn = db.store.load_connection("t1", "acme", "default").await;
        assert_eq!(conn.unwrap().unwrap().status, ConnectionStatus::NeedsReauth);
        assert_eq!(mock.count("refresh_token").await, 1);

        // Fails fast: no further token requests, from calls, refresh_now or the sweep.
        let again = exec.invoke(&whoami()).await.unwrap_err();
        assert_eq!(
            again.suggested_resolution().action,
            ResolutionAction::RefreshCredentials
        );
        let def = integration(&mock);
        assert!(resolver.refresh_now("t1", &def, "default").await.is_err());
        let report = resolver
            .refresh_expiring(&db.store as &dyn IntegrationStore)
            .await
            .unwrap();
        assert_eq!(report.due, 0);
        assert_eq!(mock.count("refresh_token").await, 1);

        // Re-authorized: the new credential works again.
        mock.configure(json!({"invalidGrant": false})).await;
        db.store
            .store_connection("t1", "acme", &expired("rt-new"))
            .await
            .unwrap();
        exec.invoke(&whoami()).await.unwrap();
        assert_eq!(mock.count("refresh_token").await, 2);
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn the_sweep_refreshes_tokens_about_to_expire() {
    let db = TestDb::sqlite().await;
    let mock = MockOAuth::start().await;
    setup(&db.store, &mock, Some(expired("rt-0"))).await;
    let resolver = resolver(&db.store);
    let report = resolver
        .refresh_expiring(&db.store as &dyn IntegrationStore)
        .await
        .unwrap();
    assert_eq!((report.due, report.refreshed, report.failed), (1, 1, 0));
    let again = resolver
        .refresh_expiring(&db.store as &dyn IntegrationStore)
        .await
        .unwrap();
    assert_eq!(again.due, 0, "fresh now");
    assert_eq!(mock.count("refresh_token").await, 1);
    // The call finds the fresh token and sends no token request.
    executor(&db.store, &resolver)
        .invoke(&whoami())
        .await
        .unwrap();
    assert_eq!(mock.count("refresh_token").await, 1);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node + oauth2-mock-server (WAYGATE_OAUTH_MOCK_MODULES); run by .ci/run"]
async fn transient_failures_are_retried_then_counted_to_needs_reauth() {
    let db = TestDb::sqlite().await;
    let mock = MockOAuth::start().await;
    setup(&db.store, &mock, Some(expired("rt-0"))).await;

    // Two 503s, then success: one call, three token requests, no failure left.
    mock.configure(json!({"failNext": 2})).await;
    let exec = executor(&db.store, &resolver(&db.store));
    exec.invoke(&whoami()).await.unwrap();
    assert_eq!(mock.count("refresh_token").await, 3);

    // Failing every time, one attempt per refresh, two failures allowed.
    db.store
        .store_connection("t1", "acme", &expired("rt-1"))
        .await
        .unwrap();
    mock.configure(json!({"failNext": 1000})).await;
    let mut config = RefreshConfig::default();
    config.attempts = 1;
    config.max_failures = 2;
    let exec = executor(&db.store, &resolver_with(&db.store, config));
    let first = exec.invoke(&whoami()).await.unwrap_err();
    assert!(first.is_retryable(), "a transient failure: {first}");
    let conn = db.store.load_connection("t1", "acme", "default").await;
    assert_eq!(conn.unwrap().unwrap().status, ConnectionStatus::Active);
    let second = exec.invoke(&whoami()).await.unwrap_err();
    assert_eq!(
        second.suggested_resolution().action,
        ResolutionAction::RefreshCredentials
    );
    let conn = db.store.load_connection("t1", "acme", "default").await;
    assert_eq!(conn.unwrap().unwrap().status, ConnectionStatus::NeedsReauth);
    assert_eq!(mock.count("refresh_token").await, 5);
    db.finish().await;
}
