//! Master key rotation survives a crash at any point: with `master.key.next`
//! written but the database not re-encrypted, and with the database
//! re-encrypted but the file not renamed, a start decrypts everything and
//! finishes the rotation. Also: concurrent starts on a fresh PostgreSQL
//! database migrate once. SQLite always; PostgreSQL when `WAYGATE_TEST_POSTGRES_URL` is set.

mod support;

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database};
use support::{TestDb, vault};
use waygate_core::IntegrationDef;
use waygate_core::credential::{Connection, Credential};
use waygate_core::model::ActionDef;
use waygate_store::{
    ErrorKind, KeySource, MASTER_KEY_FILE, MASTER_KEY_NEXT_FILE, MasterKey, Store,
};

const SECRET: &str = "tok-ROTATE-SECRET-9c1f";

fn key_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("waygate-keys-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_key(path: &Path, key: &MasterKey) {
    std::fs::write(path, key.to_base64().as_bytes()).unwrap();
}

fn file_key(path: &Path) -> MasterKey {
    MasterKey::from_base64(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A store unlocked from `dir` (generating master.key) holding one credential.
async fn seeded(db: &TestDb, dir: &Path) -> MasterKey {
    let s = &db.store;
    assert!(matches!(
        s.unlock(dir).await.unwrap(),
        KeySource::Generated(_)
    ));
    s.create_tenant("t", "T").await.unwrap();
    let mut def = IntegrationDef::new("crm", "CRM");
    def.actions.push(ActionDef::new("a", "GET", "/a"));
    s.store_integration("t", &def).await.unwrap();
    s.store_connection(
        "t",
        "crm",
        &Connection::default_with(Credential::bearer(SECRET)),
    )
    .await
    .unwrap();
    file_key(&dir.join(MASTER_KEY_FILE))
}

/// What a restarted process sees: a new store, unlocked from `dir`.
async fn restart(db: &TestDb, dir: &Path) -> (Store, KeySource) {
    let store = Store::open(&db.url).await.unwrap();
    let source = store.unlock(dir).await.unwrap();
    let conn = store
        .load_connection("t", "crm", "default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vault(&conn.credential), vault(&Credential::bearer(SECRET)));
    (store, source)
}

/// Only `key` opens the credential now.
async fn sealed_under(db: &TestDb, key: MasterKey) {
    let store = Store::open(&db.url).await.unwrap();
    store.set_master_key(key);
    let conn = store.load_connection("t", "crm", "default").await.unwrap();
    assert_eq!(
        vault(&conn.unwrap().credential),
        vault(&Credential::bearer(SECRET))
    );
    store.close().await.unwrap();
}

async fn a_crash_before_re_encrypting_is_finished_at_start(db: &TestDb) {
    let dir = key_dir();
    let old = seeded(db, &dir).await;
    // Step 1 done, step 2 not: the rows are under the old key.
    let new = MasterKey::generate();
    write_key(&dir.join(MASTER_KEY_NEXT_FILE), &new);
    let err = MasterKey::resolve(&dir).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("rotation was interrupted"),
        "{err}"
    );
    let (store, source) = restart(db, &dir).await;
    assert!(
        matches!(source, KeySource::RotationFinished { reencrypted: 1, .. }),
        "{source:?}"
    );
    assert!(!dir.join(MASTER_KEY_NEXT_FILE).exists());
    assert_eq!(file_key(&dir.join(MASTER_KEY_FILE)).id(), new.id());
    assert_ne!(old.id(), new.id());
    sealed_under(db, new).await;
    store.close().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn a_crash_before_the_rename_is_finished_at_start(db: &TestDb) {
    let dir = key_dir();
    seeded(db, &dir).await;
    // Steps 1 and 2 done, step 3 not.
    let new = MasterKey::generate();
    write_key(&dir.join(MASTER_KEY_NEXT_FILE), &new);
    assert_eq!(db.store.rotate_keys(new.clone()).await.unwrap(), 1);
    let (store, source) = restart(db, &dir).await;
    assert!(
        matches!(source, KeySource::RotationFinished { reencrypted: 0, .. }),
        "{source:?}"
    );
    assert!(!dir.join(MASTER_KEY_NEXT_FILE).exists());
    assert_eq!(file_key(&dir.join(MASTER_KEY_FILE)).id(), new.id());
    store.close().await.unwrap();
    sealed_under(db, new).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn a_file_key_rotation_replaces_the_key(db: &TestDb) {
    let dir = key_dir();
    let old = seeded(db, &dir).await;
    assert_eq!(db.store.rotate_key_file(&dir).await.unwrap(), 1);
    let new = file_key(&dir.join(MASTER_KEY_FILE));
    assert_ne!(new.id(), old.id());
    assert!(!dir.join(MASTER_KEY_NEXT_FILE).exists());
    // The rotating store keeps working; a restart finds nothing pending.
    let conn = db
        .store
        .load_connection("t", "crm", "default")
        .await
        .unwrap();
    assert_eq!(
        vault(&conn.unwrap().credential),
        vault(&Credential::bearer(SECRET))
    );
    let (store, source) = restart(db, &dir).await;
    assert!(matches!(source, KeySource::File(_)), "{source:?}");
    store.close().await.unwrap();
    sealed_under(db, new).await;
    // The old key opens nothing any more.
    let stale = Store::open(&db.url).await.unwrap();
    stale.set_master_key(old);
    let err = stale
        .load_connection("t", "crm", "default")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    stale.close().await.unwrap();
    // A rotation that cannot decrypt a row changes nothing and keeps next for later.
    let other = Store::open(&db.url).await.unwrap();
    other.set_master_key(MasterKey::generate());
    let err = other.rotate_keys(MasterKey::generate()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    assert!(err.to_string().starts_with("credential "), "{err}");
    assert!(!err.to_string().contains(SECRET));
    other.close().await.unwrap();
    sealed_under(db, file_key(&dir.join(MASTER_KEY_FILE))).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

mod run {
    crate::on_every_backend!(
        a_crash_before_re_encrypting_is_finished_at_start,
        a_crash_before_the_rename_is_finished_at_start,
        a_file_key_rotation_replaces_the_key,
    );
}

/// Replicas starting at once on a fresh PostgreSQL database: one migrates,
/// the others wait for its lock and find nothing to do; all open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_starts_migrate_once_on_postgres() {
    let Ok(admin) = std::env::var(support::POSTGRES_ENV) else {
        eprintln!("skipped: set {}", support::POSTGRES_ENV);
        return;
    };
    for _round in 0..3 {
        let name = format!("waygate_test_{}", uuid::Uuid::new_v4().simple());
        let server = Database::connect(&admin).await.unwrap();
        server
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let url = support::with_database(&admin, &name);
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await })
            })
            .collect();
        let mut failures = Vec::new();
        for open in opens {
            match open.await.unwrap() {
                Ok(store) => {
                    store
                        .create_tenant(&uuid::Uuid::new_v4().to_string(), "x")
                        .await
                        .unwrap();
                    store.close().await.unwrap();
                }
                Err(e) => failures.push(format!("{e}: {:?}", std::error::Error::source(&e))),
            }
        }
        server
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
        server.close().await.unwrap();
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
