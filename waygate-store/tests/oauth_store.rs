//! The store's side of OAuth2: the refresh protocol's port (`TokenStore`) and
//! pending authorizations (`state`s), on SQLite always and on PostgreSQL when
//! `WAYGATE_TEST_POSTGRES_URL` is set. The flows against a real OAuth server
//! are in `oauth_mock.rs`.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sea_orm::{ConnectionTrait, Statement};
use secrecy::{ExposeSecret, SecretString};
use support::TestDb;
use waygate_core::IntegrationDef;
use waygate_core::credential::{Connection, ConnectionStatus, Credential};
use waygate_core::oauth2::{CredentialKey, PkceVerifier, TokenStore};
use waygate_core::storage::IntegrationStore;
use waygate_store::{ErrorKind, OAuthClient, PendingAuthorization, StateOutcome, Store};

async fn setup(store: &Store, tenants: &[&str]) {
    for t in tenants {
        store.create_tenant(t, t).await.unwrap();
        let mut def = IntegrationDef::new("acme", "Acme");
        def.base_url = Some("https://api.example.com".into());
        store.put_integration(t, def).await.unwrap();
    }
}

fn tokens(access: &str, refresh: &str, expires_in: Duration) -> Credential {
    Credential::Oauth2Tokens {
        client_id: "cid".into(),
        client_secret: SecretString::from("client-secret".to_owned()),
        access_token: SecretString::from(access.to_owned()),
        refresh_token: Some(SecretString::from(refresh.to_owned())),
        expires_at: Some(SystemTime::now() + expires_in),
        scopes: vec!["read".into()],
    }
}

fn access_token(c: &Credential) -> &str {
    match c {
        Credential::Oauth2Tokens { access_token, .. } => access_token.expose_secret(),
        other => panic!("not tokens: {other:?}"),
    }
}

fn pending(tenant: &str, verifier: Option<PkceVerifier>) -> PendingAuthorization {
    PendingAuthorization {
        tenant: tenant.into(),
        integration: "acme".into(),
        connection: "default".into(),
        redirect_uri: "https://gw.example.com/oauth/callback".into(),
        verifier,
        client: None,
        auth_scheme: None,
    }
}

async fn states_are_single_use_bound_and_expiring(db: &TestDb) {
    let s = &db.store;
    setup(s, &["t1"]).await;
    let verifier = PkceVerifier::generate();
    let ttl = Duration::from_secs(600);
    s.create_oauth_state("state-1", &pending("t1", Some(verifier.clone())), ttl)
        .await
        .unwrap();
    let StateOutcome::Consumed(p) = s.consume_oauth_state("state-1").await.unwrap() else {
        panic!("the first use consumes");
    };
    assert_eq!(
        (
            p.tenant.as_str(),
            p.integration.as_str(),
            p.connection.as_str()
        ),
        ("t1", "acme", "default")
    );
    assert_eq!(p.redirect_uri, "https://gw.example.com/oauth/callback");
    assert_eq!(p.verifier.unwrap().secret(), verifier.secret());
    assert!(matches!(
        s.consume_oauth_state("state-1").await.unwrap(),
        StateOutcome::Replayed
    ));
    assert!(matches!(
        s.consume_oauth_state("forged").await.unwrap(),
        StateOutcome::Unknown
    ));

    s.create_oauth_state("state-2", &pending("t1", None), Duration::ZERO)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(matches!(
        s.consume_oauth_state("state-2").await.unwrap(),
        StateOutcome::Expired
    ));
    assert_eq!(s.purge_oauth_states(Duration::ZERO).await.unwrap(), 1);

    // Without PKCE there is no verifier; a client given to `/connect` comes back.
    let mut with_client = pending("t1", None);
    with_client.client = Some(OAuthClient {
        id: "client-a".into(),
        secret: SecretString::from("client-a-secret".to_owned()),
    });
    s.create_oauth_state("state-3", &with_client, ttl)
        .await
        .unwrap();
    let StateOutcome::Consumed(p) = s.consume_oauth_state("state-3").await.unwrap() else {
        panic!("consumes");
    };
    assert!(p.verifier.is_none());
    let client = p.client.expect("the client is kept");
    assert_eq!(client.id, "client-a");
    assert_eq!(client.secret.expose_secret(), "client-a-secret");

    // An unknown tenant or integration stores nothing.
    let err = s
        .create_oauth_state("state-4", &pending("nobody", None), ttl)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // Racing callbacks: exactly one consumes.
    s.create_oauth_state("state-5", &pending("t1", None), ttl)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        s.consume_oauth_state("state-5"),
        s.consume_oauth_state("state-5")
    );
    let consumed = [a.unwrap(), b.unwrap()]
        .iter()
        .filter(|o| matches!(o, StateOutcome::Consumed(_)))
        .count();
    assert_eq!(consumed, 1);

    // Neither the state nor the verifier is stored in clear.
    let mut secretive = pending("t1", Some(verifier.clone()));
    secretive.client = with_client.client.clone();
    s.create_oauth_state("state-6", &secretive, ttl)
        .await
        .unwrap();
    let raw = db.raw().await;
    let rows = raw
        .query_all_raw(Statement::from_string(
            raw.get_database_backend(),
            "SELECT state_digest, ciphertext FROM oauth_states",
        ))
        .await
        .unwrap();
    for row in rows {
        let digest: Vec<u8> = row.try_get("", "state_digest").unwrap();
        let cipher: Vec<u8> = row.try_get("", "ciphertext").unwrap();
        assert!(!contains(&digest, b"state-6"));
        assert!(!contains(&cipher, verifier.secret().as_bytes()));
        assert!(!contains(&cipher, b"client-a-secret"));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn the_token_port(db: &TestDb) {
    let s = &db.store;
    setup(s, &["t1", "t2"]).await;
    let soon = Connection::default_with(tokens("at-1", "rt-1", Duration::from_secs(60)));
    s.store_connection("t1", "acme", &soon).await.unwrap();
    let later = Connection::default_with(tokens("at-x", "rt-x", Duration::from_secs(3600)));
    s.store_connection("t2", "acme", &later).await.unwrap();
    let port: Arc<dyn TokenStore> = Arc::new(s.clone());
    let key = CredentialKey::new("t1", "acme", "default");

    let due = port
        .expiring(SystemTime::now() + Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(
        due,
        vec![key.clone()],
        "only t1's token expires within 5 min"
    );

    let loaded = port.load_tokens(&key).await.unwrap().unwrap();
    assert_eq!(access_token(&loaded.credential), "at-1");
    assert_eq!(loaded.status, ConnectionStatus::Active);
    let other_tenant = CredentialKey::new("t3", "acme", "default");
    assert!(port.load_tokens(&other_tenant).await.unwrap().is_none());

    assert_eq!(port.record_failure(&key).await.unwrap(), 1);
    assert_eq!(port.record_failure(&key).await.unwrap(), 2);
    port.save_tokens(&key, &tokens("at-2", "rt-2", Duration::from_secs(3600)))
        .await
        .unwrap();
    let loaded = port.load_tokens(&key).await.unwrap().unwrap();
    assert_eq!(access_token(&loaded.credential), "at-2");
    let Credential::Oauth2Tokens { refresh_token, .. } = &loaded.credential else {
        unreachable!()
    };
    assert_eq!(refresh_token.as_ref().unwrap().expose_secret(), "rt-2");
    assert_eq!(port.record_failure(&key).await.unwrap(), 1, "saving resets");
    assert!(
        port.expiring(SystemTime::now() + Duration::from_secs(300))
            .await
            .unwrap()
            .is_empty()
    );

    port.set_status(&key, ConnectionStatus::NeedsReauth)
        .await
        .unwrap();
    let conn = s
        .load_connection("t1", "acme", "default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.status, ConnectionStatus::NeedsReauth);
    assert_eq!(
        s.load_connection("t2", "acme", "default")
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::Active,
        "other tenants are untouched"
    );
    // A needs_reauth connection is not swept, even when it expires.
    port.save_tokens(&key, &tokens("at-3", "rt-3", Duration::from_secs(10)))
        .await
        .unwrap();
    port.set_status(&key, ConnectionStatus::NeedsReauth)
        .await
        .unwrap();
    assert!(
        port.expiring(SystemTime::now() + Duration::from_secs(300))
            .await
            .unwrap()
            .is_empty()
    );

    // Re-authorizing (storing a new credential) makes the connection active again.
    s.store_connection("t1", "acme", &soon).await.unwrap();
    let conn = s
        .load_connection("t1", "acme", "default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.status, ConnectionStatus::Active);

    let lease = Duration::from_secs(30);
    let held = port.try_lock(&key, lease).await.unwrap().expect("free");
    assert!(port.try_lock(&key, lease).await.unwrap().is_none(), "held");
    held.release().await;
    assert!(
        port.try_lock(&key, lease).await.unwrap().is_some(),
        "released"
    );

    let missing = CredentialKey::new("t1", "acme", "nope");
    assert!(port.save_tokens(&missing, &soon.credential).await.is_err());
}

mod run {
    crate::on_every_backend!(states_are_single_use_bound_and_expiring, the_token_port);
}
