//! The store's behaviour, on SQLite always and on PostgreSQL when
//! `WAYGATE_TEST_POSTGRES_URL` is set.
//!
//! Not here: killing the server process mid-write (`kill -9`) belongs to the
//! server's end-to-end tests; this suite checks the transactions that make it safe.

mod support;

use std::time::{Duration, SystemTime};

use sea_orm::{ConnectionTrait, Statement};
use support::{TestDb, vault};
use waygate_core::IntegrationDef;
use waygate_core::credential::{Connection, Credential};
use waygate_core::model::ActionDef;
use waygate_core::pipeline::{LogEntry, LogSink};
use waygate_core::storage::{ConnectionStore, IntegrationStore, StoreErrorKind};
use waygate_store::{
    ApiKeyPepper, ErrorKind, LogOutcome, LogQuery, LogSinkOptions, MasterKey, SqlLogSink, Store,
};

fn integration(slug: &str, actions: &[&str]) -> IntegrationDef {
    let mut def = IntegrationDef::new(slug, format!("{slug} API"));
    def.base_url = Some("https://api.example.com".into());
    def.tags = vec!["crm".into()];
    for a in actions {
        let mut action = ActionDef::new(*a, "GET", format!("/{a}"));
        action.description = Some(format!("Lists the {a} of the account"));
        action.group = Some("things".into());
        def.actions.push(action);
    }
    def
}

async fn tenants(store: &Store, ids: &[&str]) {
    for id in ids {
        store.create_tenant(id, id).await.unwrap();
    }
}

async fn integrations_round_trip(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t"]).await;
    let first = s
        .put_integration("t", integration("crm", &["contacts", "deals"]))
        .await
        .unwrap();
    let second = s
        .put_integration("t", integration("crm", &["contacts", "deals", "notes"]))
        .await
        .unwrap();
    assert!(second.revision > first.revision);
    let got = s.integration("t", "crm").await.unwrap().unwrap();
    assert_eq!(got.revision, second.revision);
    assert_eq!(got.def.actions.len(), 3);
    assert_eq!(got.def.tags, ["crm"]);
    s.put_integration("t", integration("billing", &["invoices"]))
        .await
        .unwrap();
    let slugs: Vec<_> = s
        .list_integrations("t")
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.def.slug.clone())
        .collect();
    assert_eq!(slugs, ["billing", "crm"]);
    let actions = s.list_actions("t", "crm").await.unwrap();
    assert_eq!(
        actions.iter().map(|a| a.slug.as_str()).collect::<Vec<_>>(),
        ["contacts", "deals", "notes"]
    );
    assert_eq!(actions[0].group.as_deref(), Some("things"));
    let found = s.search_actions("t", "INVOICE", 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].integration, "billing");
    assert!(s.search_actions("t", "%", 10).await.unwrap().is_empty());
    assert!(s.delete_integration("t", "crm").await.unwrap());
    assert!(!s.delete_integration("t", "crm").await.unwrap());
    assert!(s.integration("t", "crm").await.unwrap().is_none());
    assert!(s.list_actions("t", "crm").await.unwrap().is_empty());
    // Re-created after a delete, the revision still moves forward.
    let again = s
        .put_integration("t", integration("crm", &["contacts"]))
        .await
        .unwrap();
    assert!(again.revision > second.revision);
    s.migrate().await.unwrap();
}

/// Creating refuses an existing slug in the same statement that writes, and
/// leaves the stored integration as it was.
async fn create_refuses_an_existing_slug(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t1"]).await;
    s.create_integration("t1", &integration("crm", &["a", "b"]))
        .await
        .unwrap();
    let err = s
        .create_integration("t1", &integration("crm", &["c"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("slug 'crm' exists"), "{err}");
    let kept = s.load_integration("t1", "crm").await.unwrap().unwrap();
    assert_eq!(kept.def.actions.len(), 2);
    assert_eq!(s.list_actions("t1", "crm").await.unwrap().len(), 2);
}

/// Replacing a definition keeps the integration's status, and says so.
async fn a_write_keeps_the_status(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t1"]).await;
    s.store_integration("t1", &integration("crm", &["a"]))
        .await
        .unwrap();
    assert!(
        s.set_integration_status("t1", "crm", "disabled")
            .await
            .unwrap()
    );
    let written = IntegrationStore::put_integration(s, "t1", integration("crm", &["a", "b"]))
        .await
        .unwrap();
    assert!(!written.enabled);
    let loaded = s.load_integration("t1", "crm").await.unwrap().unwrap();
    assert!(!loaded.enabled);
    assert_eq!(loaded.def.actions.len(), 2);
}

async fn unknown_tenants_are_refused(db: &TestDb) {
    let err = db
        .store
        .put_integration("nobody", integration("crm", &["a"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NotFound);
}

async fn tenants_never_see_each_other(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["a", "b"]).await;
    s.put_integration("a", integration("crm", &["contacts"]))
        .await
        .unwrap();
    s.put_connection(
        "a",
        "crm",
        Connection::default_with(Credential::bearer("tok-of-a")),
    )
    .await
    .unwrap();
    let pepper = ApiKeyPepper::new(vec![9; 32]).unwrap();
    let key = s.issue_api_key("a", "ci", &pepper).await.unwrap();

    assert!(s.integration("b", "crm").await.unwrap().is_none());
    assert!(s.list_integrations("b").await.unwrap().is_empty());
    assert!(s.list_actions("b", "crm").await.unwrap().is_empty());
    assert!(
        s.search_actions("b", "contacts", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.connection("b", "crm", "default").await.unwrap().is_none());
    let err = s
        .put_connection(
            "b",
            "crm",
            Connection::default_with(Credential::bearer("x")),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NotFound);
    assert!(!s.delete_connection("b", "crm", "default").await.unwrap());
    assert!(!s.delete_integration("b", "crm").await.unwrap());
    assert!(!s.revoke_api_key("b", &key.id).await.unwrap());
    assert!(s.list_api_keys("b").await.unwrap().is_empty());
    let err = s
        .try_lock_refresh("b", "crm", "default", Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // b has its own crm; a's is untouched by b's writes.
    s.put_integration("b", integration("crm", &["other"]))
        .await
        .unwrap();
    assert!(!s.delete_connection("b", "crm", "default").await.unwrap());
    let a = s.integration("a", "crm").await.unwrap().unwrap();
    assert_eq!(a.def.actions[0].slug, "contacts");
    let conn = s.connection("a", "crm", "default").await.unwrap().unwrap();
    assert_eq!(
        vault(&conn.credential),
        vault(&Credential::bearer("tok-of-a"))
    );
}

async fn a_failing_import_leaves_nothing_behind(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t"]).await;
    let v1 = s
        .put_integration("t", integration("crm", &["contacts", "deals"]))
        .await
        .unwrap();
    // Action 250 duplicates action 0: the second insert batch fails mid-transaction.
    let mut names: Vec<String> = (0..300).map(|i| format!("a{i}")).collect();
    names[250] = "a0".into();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let err = s
        .put_integration("t", integration("crm", &refs))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    let kept = s.integration("t", "crm").await.unwrap().unwrap();
    assert_eq!(kept.revision, v1.revision);
    assert_eq!(kept.def.actions.len(), 2);
    assert_eq!(s.list_actions("t", "crm").await.unwrap().len(), 2);
    // A new integration failing the same way does not exist afterwards.
    let err = s
        .put_integration("t", integration("fresh", &refs))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert!(s.integration("t", "fresh").await.unwrap().is_none());
    assert!(s.list_actions("t", "fresh").await.unwrap().is_empty());
    assert!(s.search_actions("t", "a29", 10).await.unwrap().is_empty());
}

async fn api_keys(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t"]).await;
    let pepper = ApiKeyPepper::new(vec![1; 32]).unwrap();
    let issued = s.issue_api_key("t", "ci", &pepper).await.unwrap();
    let raw = secrecy::ExposeSecret::expose_secret(&issued.key).to_owned();
    assert!(raw.starts_with("wg_live_") && raw.len() == 8 + 64, "{raw}");
    assert!(raw.starts_with(&issued.prefix));
    let info = s
        .authenticate_api_key(&pepper, &raw)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((info.tenant.as_str(), info.name.as_str()), ("t", "ci"));
    assert!(info.last_used_at.is_none());
    let other_pepper = ApiKeyPepper::new(vec![2; 32]).unwrap();
    assert!(
        s.authenticate_api_key(&other_pepper, &raw)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.authenticate_api_key(&pepper, &format!("{raw}0"))
            .await
            .unwrap()
            .is_none()
    );
    s.touch_api_key("t", &issued.id).await.unwrap();
    let listed = s.list_api_keys("t").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
    assert!(s.revoke_api_key("t", &issued.id).await.unwrap());
    assert!(
        s.authenticate_api_key(&pepper, &raw)
            .await
            .unwrap()
            .is_none()
    );
    assert!(ApiKeyPepper::new(vec![0; 8]).is_err());
}

fn credentials() -> Vec<(&'static str, Credential)> {
    vec![
        ("key", Credential::api_key("sk-live-SECRETKEY-111")),
        ("basic", Credential::basic("ann", "hunter2-SECRETPW-222")),
        ("bearer", Credential::bearer("tok-SECRETBEARER-333")),
        (
            "headers",
            Credential::custom_headers([("X-Key", "hdr-SECRETHDR-444")]),
        ),
        (
            "oauth",
            Credential::Oauth2Tokens {
                client_id: "cid".into(),
                client_secret: "cs-SECRETCS-555".into(),
                access_token: "at-SECRETAT-666".into(),
                refresh_token: Some("rt-SECRETRT-777".into()),
                expires_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
                scopes: vec!["read".into()],
            },
        ),
    ]
}

async fn credentials_round_trip(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t"]).await;
    s.put_integration("t", integration("crm", &["a"]))
        .await
        .unwrap();
    for (name, c) in credentials() {
        let conn = Connection::new(name, c.clone()).with_base_url("https://eu.example.com");
        s.put_connection("t", "crm", conn).await.unwrap();
        let back = s.connection("t", "crm", name).await.unwrap().unwrap();
        assert_eq!(back.credential.kind(), c.kind());
        assert_eq!(vault(&back.credential), vault(&c));
        assert_eq!(back.base_url.as_deref(), Some("https://eu.example.com"));
    }
    // Replacing keeps one row and the new secret.
    s.put_connection(
        "t",
        "crm",
        Connection::new("key", Credential::api_key("new-key-1")),
    )
    .await
    .unwrap();
    let back = s.connection("t", "crm", "key").await.unwrap().unwrap();
    assert_eq!(
        vault(&back.credential),
        vault(&Credential::api_key("new-key-1"))
    );
    assert!(back.base_url.is_none());
    assert!(s.delete_connection("t", "crm", "key").await.unwrap());
    assert!(s.connection("t", "crm", "key").await.unwrap().is_none());
    // A store without the master key cannot read credentials.
    let blind = Store::open(&db.url).await.unwrap();
    let err = blind
        .load_connection("t", "crm", "basic")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    blind.close().await.unwrap();
}

async fn connection_mappings_round_trip(db: &TestDb) {
    use waygate_core::model::{FieldMapping, Mappings, Transform};
    let s = &db.store;
    tenants(s, &["t", "u"]).await;
    for tenant in ["t", "u"] {
        s.put_integration(tenant, integration("crm", &["a"]))
            .await
            .unwrap();
        s.put_connection(tenant, "crm", Connection::new("team", Credential::None))
            .await
            .unwrap();
    }
    let mappings = Mappings {
        input: vec![FieldMapping {
            from: "/user/email".into(),
            to: Some("/emailAddress".into()),
            transform: None,
            default: None,
        }],
        output: vec![FieldMapping {
            from: "/values".into(),
            to: None,
            transform: Some(Transform::Date("%Y".into())),
            default: Some(serde_json::json!(0)),
        }],
    };
    s.put_connection_mappings("t", "crm", "team", "a", &mappings)
        .await
        .unwrap();
    let back = s.connection("t", "crm", "team").await.unwrap().unwrap();
    assert_eq!(back.mappings.get("a"), Some(&mappings));
    // Replaced, not added to.
    let fewer = Mappings {
        input: vec![],
        output: mappings.output.clone(),
    };
    s.put_connection_mappings("t", "crm", "team", "a", &fewer)
        .await
        .unwrap();
    let back = s.connection("t", "crm", "team").await.unwrap().unwrap();
    assert_eq!(back.mappings.get("a"), Some(&fewer));
    // Another tenant's connection of the same names sees none of it.
    let other = s.connection("u", "crm", "team").await.unwrap().unwrap();
    assert!(other.mappings.is_empty());
    // No such connection: not found.
    let err = s
        .put_connection_mappings("t", "crm", "nobody", "a", &fewer)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // Deleting the connection deletes its mappings.
    assert!(s.delete_connection("t", "crm", "team").await.unwrap());
    s.put_connection("t", "crm", Connection::new("team", Credential::None))
        .await
        .unwrap();
    let fresh = s.connection("t", "crm", "team").await.unwrap().unwrap();
    assert!(fresh.mappings.is_empty());
}

async fn a_moved_ciphertext_does_not_decrypt(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t"]).await;
    s.put_integration("t", integration("crm", &["a"]))
        .await
        .unwrap();
    for name in ["one", "two"] {
        s.put_connection(
            "t",
            "crm",
            Connection::new(name, Credential::bearer(format!("tok-{name}"))),
        )
        .await
        .unwrap();
    }
    let raw = db.raw().await;
    let backend = raw.get_database_backend();
    let copy = "UPDATE credentials SET nonce = (SELECT k.nonce FROM credentials k JOIN connections c ON c.id = k.connection_id WHERE c.name = 'one'),
                ciphertext = (SELECT k.ciphertext FROM credentials k JOIN connections c ON c.id = k.connection_id WHERE c.name = 'one')
                WHERE connection_id = (SELECT id FROM connections WHERE name = 'two')";
    let n = raw
        .execute_raw(Statement::from_string(backend, copy))
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1);
    raw.close().await.unwrap();
    let err = s.load_connection("t", "crm", "two").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(
        s.load_connection("t", "crm", "one")
            .await
            .unwrap()
            .is_some()
    );
}

async fn keys_rotate(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t", "u"]).await;
    for t in ["t", "u"] {
        s.put_integration(t, integration("crm", &["a"]))
            .await
            .unwrap();
        for (name, c) in credentials() {
            s.put_connection(t, "crm", Connection::new(name, c))
                .await
                .unwrap();
        }
    }
    let new_key = MasterKey::generate();
    let count = s.rotate_keys(new_key.clone()).await.unwrap();
    assert_eq!(count, 10);
    // Still readable here; readable by a process that has only the new key.
    assert!(s.connection("u", "crm", "oauth").await.unwrap().is_some());
    let fresh = Store::open(&db.url).await.unwrap();
    fresh.set_master_key(new_key);
    let back = fresh
        .load_connection("t", "crm", "basic")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        vault(&back.credential),
        vault(&Credential::basic("ann", "hunter2-SECRETPW-222"))
    );
    // A second rotation re-encrypts all of them again.
    assert_eq!(fresh.rotate_keys(MasterKey::generate()).await.unwrap(), 10);
    fresh.close().await.unwrap();
}

async fn refresh_locks(db: &TestDb) {
    let s = &db.store;
    tenants(s, &["t"]).await;
    s.put_integration("t", integration("crm", &["a"]))
        .await
        .unwrap();
    s.put_connection(
        "t",
        "crm",
        Connection::default_with(Credential::bearer("tok")),
    )
    .await
    .unwrap();
    let lease = Duration::from_secs(60);
    let (a, b) = tokio::join!(
        s.try_lock_refresh("t", "crm", "default", lease),
        s.try_lock_refresh("t", "crm", "default", lease)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.is_some() as u8 + b.is_some() as u8, 1, "exactly one wins");
    let held = a.or(b).unwrap();
    assert!(
        s.try_lock_refresh("t", "crm", "default", lease)
            .await
            .unwrap()
            .is_none()
    );
    held.release().await.unwrap();
    let again = s
        .try_lock_refresh("t", "crm", "default", lease)
        .await
        .unwrap();
    assert!(again.is_some(), "free after release");
    drop(again);
    // Dropping releases too (on SQLite through a spawned task).
    let mut taken = None;
    for _ in 0..100 {
        taken = s
            .try_lock_refresh("t", "crm", "default", lease)
            .await
            .unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(taken.is_some(), "free after drop");
    drop(taken);
}

async fn expired_leases_are_taken_over(db: &TestDb) {
    if db.store.backend() != waygate_store::Backend::Sqlite {
        return; // advisory locks end with their holder's connection, not by time
    }
    let s = &db.store;
    tenants(s, &["t"]).await;
    s.put_integration("t", integration("crm", &["a"]))
        .await
        .unwrap();
    s.put_connection(
        "t",
        "crm",
        Connection::default_with(Credential::bearer("tok")),
    )
    .await
    .unwrap();
    // A holder that "died": its lease has already run out.
    let stale = s
        .try_lock_refresh("t", "crm", "default", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let next = s
        .try_lock_refresh("t", "crm", "default", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(next.is_some(), "an expired lease is taken over");
    // The stale holder's release must not free the new holder's lease.
    stale.release().await.unwrap();
    assert!(
        s.try_lock_refresh("t", "crm", "default", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
}

fn entry(tenant: &str, i: u64, integration: &str, error: bool) -> LogEntry {
    LogEntry {
        request_id: format!("req-{i}"),
        tenant: tenant.into(),
        integration: integration.into(),
        action: if i.is_multiple_of(2) { "list" } else { "get" }.into(),
        connection: Some("default".into()),
        started_at: SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_800_000_000)
            + Duration::from_millis(i / 3),
        duration: Duration::from_millis(12),
        attempts: 1,
        upstream_status: Some(if error { 503 } else { 200 }),
        error_code: error.then(|| "UPSTREAM_ERROR".into()),
        request: None,
        response: Some("{\"ok\":true}".into()),
    }
}

async fn request_logs(db: &TestDb) {
    let s = &db.store;
    let sink = SqlLogSink::start(s.clone(), LogSinkOptions::default());
    for i in 0..1200 {
        sink.record(entry(
            "t",
            i,
            if i < 1000 { "crm" } else { "billing" },
            i.is_multiple_of(10),
        ));
    }
    sink.record(entry("other", 0, "crm", false));
    sink.flush().await;
    assert_eq!(sink.written(), 1201);
    assert_eq!(sink.dropped(), 0);
    // Keyset pages cover every entry once, newest first (several share a millisecond).
    let mut seen = std::collections::HashSet::new();
    let mut query = LogQuery::new();
    query.limit = Some(250);
    let mut last: Option<(SystemTime, i64)> = None;
    loop {
        let page = s.list_logs("t", &query).await.unwrap();
        for e in &page.entries {
            if let Some(prev) = last {
                assert!((e.started_at, e.id) < prev, "ordered newest first");
            }
            last = Some((e.started_at, e.id));
            assert!(seen.insert(e.request_id.clone()));
        }
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1200);
    let mut q = LogQuery::new();
    q.integration = Some("crm".into());
    q.action = Some("list".into());
    q.outcome = Some(LogOutcome::Error);
    q.limit = Some(1000);
    let page = s.list_logs("t", &q).await.unwrap();
    assert_eq!(page.entries.len(), 100);
    assert!(page.entries.iter().all(|e| e.upstream_status == Some(503)));
    let mut q = LogQuery::new();
    q.since = Some(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(390),
    );
    q.limit = Some(1000);
    assert_eq!(s.list_logs("t", &q).await.unwrap().entries.len(), 30);
    assert_eq!(
        s.list_logs("other", &LogQuery::new())
            .await
            .unwrap()
            .entries
            .len(),
        1
    );
    let mut bad = LogQuery::new();
    bad.cursor = Some("nope".into());
    assert!(s.list_logs("t", &bad).await.is_err());
    // Retention.
    let cutoff =
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(200);
    assert_eq!(s.delete_logs_older_than(cutoff).await.unwrap(), 601);
    // After shutdown nothing is lost silently: late entries are counted.
    sink.record(entry("t", 5000, "crm", false));
    sink.shutdown().await;
    sink.record(entry("t", 5001, "crm", false));
    assert_eq!(sink.written(), 1202);
    assert_eq!(sink.dropped(), 1);
}

async fn a_full_queue_counts_what_it_drops(db: &TestDb) {
    let mut options = LogSinkOptions::default();
    options.capacity = 4;
    let sink = SqlLogSink::start(db.store.clone(), options);
    for i in 0..500 {
        sink.record(entry("t", i, "crm", false));
    }
    sink.shutdown().await;
    assert!(sink.dropped() > 0);
    assert_eq!(sink.written() + sink.dropped(), 500);
}

/// Waits until `sink` has written `n` entries, for at most `limit`.
async fn written_within(sink: &SqlLogSink, n: u64, limit: Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if sink.written() >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sink.written() >= n
}

async fn batches_close_on_their_deadline_and_a_backlog_does_not_wait(db: &TestDb) {
    let mut options = LogSinkOptions::default();
    options.batch_size = 10;
    options.max_delay = Duration::from_millis(200);
    let sink = SqlLogSink::start(db.store.clone(), options);
    // A trickle: written when the batch's deadline passes, with no flush.
    for i in 0..3 {
        sink.record(entry("t", i, "crm", false));
    }
    assert!(written_within(&sink, 3, Duration::from_secs(5)).await);
    // A backlog of 40 batches: full batches go out back to back. Waiting for
    // the deadline before each would take 40 × 200 ms = 8 s.
    for i in 3..403 {
        sink.record(entry("t", i, "crm", false));
    }
    assert!(
        written_within(&sink, 403, Duration::from_secs(4)).await,
        "{} of 403 written",
        sink.written()
    );
    sink.shutdown().await;
    assert_eq!(sink.dropped(), 0);
}

/// Transactions that read before they write (a status change looks up its
/// rows first) do not fail when other connections commit in between: on
/// SQLite a deferred transaction's read snapshot cannot be upgraded to a
/// write after another commit, so every write transaction starts `IMMEDIATE`.
async fn concurrent_writers_all_succeed(db: &TestDb) {
    use waygate_core::credential::ConnectionStatus;
    use waygate_core::oauth2::CredentialKey;
    let s = &db.store;
    tenants(s, &["t"]).await;
    s.put_integration("t", integration("crm", &["a"]))
        .await
        .unwrap();
    for name in ["a", "b"] {
        s.put_connection("t", "crm", Connection::new(name, Credential::api_key("k")))
            .await
            .unwrap();
    }
    let flip = async {
        let key = CredentialKey::new("t", "crm", "a");
        for i in 0..60 {
            let status = if i % 2 == 0 {
                ConnectionStatus::NeedsReauth
            } else {
                ConnectionStatus::Active
            };
            s.set_connection_status(&key, status).await?;
        }
        Ok::<_, waygate_store::Error>(())
    };
    let replace = async {
        for i in 0..60 {
            let conn = Connection::new("b", Credential::api_key(format!("k{i}")));
            s.put_connection("t", "crm", conn).await?;
        }
        Ok::<_, waygate_core::storage::StoreError>(())
    };
    let (flipped, replaced) = tokio::join!(flip, replace);
    flipped.unwrap();
    replaced.unwrap();
    let a = s.connection("t", "crm", "a").await.unwrap().unwrap();
    assert_eq!(a.status, ConnectionStatus::Active);
}

mod run {
    crate::on_every_backend!(
        integrations_round_trip,
        create_refuses_an_existing_slug,
        a_write_keeps_the_status,
        unknown_tenants_are_refused,
        tenants_never_see_each_other,
        a_failing_import_leaves_nothing_behind,
        api_keys,
        credentials_round_trip,
        connection_mappings_round_trip,
        a_moved_ciphertext_does_not_decrypt,
        keys_rotate,
        refresh_locks,
        expired_leases_are_taken_over,
        request_logs,
        a_full_queue_counts_what_it_drops,
        batches_close_on_their_deadline_and_a_backlog_does_not_wait,
        concurrent_writers_all_succeed,
    );
}

/// Every string in `value`, at any depth.
fn texts(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        serde_json::Value::Object(fields) => fields.values().for_each(|v| texts(v, out)),
        _ => {}
    }
}

/// Secrets never reach the SQLite file or its WAL in clear.
#[tokio::test]
async fn no_secret_is_written_in_clear() {
    let db = TestDb::sqlite().await;
    let s = &db.store;
    tenants(s, &["t"]).await;
    s.put_integration("t", integration("crm", &["a"]))
        .await
        .unwrap();
    let all = credentials();
    for (name, c) in &all {
        s.put_connection("t", "crm", Connection::new(*name, c.clone()))
            .await
            .unwrap();
    }
    let pepper = ApiKeyPepper::new(vec![3; 32]).unwrap();
    let issued = s.issue_api_key("t", "ci", &pepper).await.unwrap();
    let api_key = secrecy::ExposeSecret::expose_secret(&issued.key).to_owned();
    let file = db.sqlite_file.clone().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let wal = file.with_extension("db-wal");
    let wal_bytes = std::fs::read(&wal).unwrap_or_default();
    assert!(!wal_bytes.is_empty(), "the test must look at the WAL too");
    bytes.extend_from_slice(&wal_bytes);
    // Every secret of `credentials()` is marked `SECRET`.
    let mut secrets = Vec::new();
    for (_, c) in &all {
        let stored: serde_json::Value = serde_json::from_str(&vault(c)).unwrap();
        texts(&stored, &mut secrets);
    }
    secrets.retain(|s| s.contains("SECRET"));
    assert_eq!(secrets.len(), 7, "{secrets:?}");
    secrets.push(api_key.clone());
    secrets.push(api_key["wg_live_".len()..].to_owned());
    for secret in &secrets {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret} is in the database file in clear");
    }
    // The test would notice a secret if it were there.
    assert!(bytes.windows(3).any(|w| w == b"crm"));
    db.finish().await;
}
