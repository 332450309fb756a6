//! Dashboard sessions: opened for a tenant's key, found by token, ended by
//! sign-out, by revoking the key, and by expiry — on SQLite always and on
//! PostgreSQL when `WAYGATE_TEST_POSTGRES_URL` is set.

mod support;

use std::time::Duration;

use secrecy::ExposeSecret;
use support::TestDb;

async fn lifecycle(db: &TestDb) {
    let s = &db.store;
    let pepper = s.api_key_pepper().await.unwrap();
    s.create_tenant("t", "T").await.unwrap();
    s.create_tenant("u", "U").await.unwrap();
    let key = s.issue_api_key("t", "browser", &pepper).await.unwrap();
    let other = s.issue_api_key("t", "other", &pepper).await.unwrap();

    let token = s
        .open_dashboard_session("t", &key.id, &pepper, Duration::from_secs(3600))
        .await
        .unwrap();
    let token = token.expose_secret();
    let found = s.dashboard_session(&pepper, token).await.unwrap().unwrap();
    assert_eq!(
        (found.tenant.as_str(), found.key_id.as_str()),
        ("t", key.id.as_str())
    );
    assert!(
        s.dashboard_session(&pepper, "wg_session_00")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.dashboard_session(&pepper, key.key.expose_secret())
            .await
            .unwrap()
            .is_none(),
        "an API key is no session token"
    );

    // A second session is independent; ending one leaves the other.
    let second = s
        .open_dashboard_session("t", &other.id, &pepper, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(s.end_dashboard_session(&pepper, token).await.unwrap());
    assert!(
        !s.end_dashboard_session(&pepper, token).await.unwrap(),
        "ended once"
    );
    assert!(s.dashboard_session(&pepper, token).await.unwrap().is_none());
    assert!(
        s.dashboard_session(&pepper, second.expose_secret())
            .await
            .unwrap()
            .is_some()
    );

    // Revoking the key ends its sessions.
    assert!(s.revoke_api_key("t", &other.id).await.unwrap());
    assert!(
        s.dashboard_session(&pepper, second.expose_secret())
            .await
            .unwrap()
            .is_none()
    );

    // A session of another tenant's key cannot be opened under this tenant.
    let theirs = s.issue_api_key("u", "u", &pepper).await.unwrap();
    let crossed = s
        .open_dashboard_session("t", &theirs.id, &pepper, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(
        s.dashboard_session(&pepper, crossed.expose_secret())
            .await
            .unwrap()
            .is_none(),
        "the key must belong to the session's tenant"
    );

    // Expired sessions are not found, and are removed when the next one opens.
    let fresh = s.issue_api_key("t", "fresh", &pepper).await.unwrap();
    let brief = s
        .open_dashboard_session("t", &fresh.id, &pepper, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        s.dashboard_session(&pepper, brief.expose_secret())
            .await
            .unwrap()
            .is_none()
    );
    s.open_dashboard_session("t", &fresh.id, &pepper, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        !s.end_dashboard_session(&pepper, brief.expose_secret())
            .await
            .unwrap(),
        "pruned"
    );
}

mod run {
    crate::on_every_backend!(lifecycle);
}
