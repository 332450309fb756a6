//! Runs a scenario on SQLite always, and on PostgreSQL when
//! `WAYGATE_TEST_POSTGRES_URL` is set (a fresh database per test, dropped after).
//!
//! Shared by several test binaries, each of which uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use waygate_store::{MasterKey, Store};

/// A credential as the vault stores it, secrets in clear: two credentials are
/// the same when these texts are (`Credential` has no `PartialEq`, and its
/// secrets are not public API).
pub(crate) fn vault(credential: &waygate_core::Credential) -> String {
    credential.to_vault_json().to_string()
}

/// The environment variable naming the PostgreSQL server for tests.
pub(crate) const POSTGRES_ENV: &str = "WAYGATE_TEST_POSTGRES_URL";

/// A store on a fresh database, and how to clean it up.
pub(crate) struct TestDb {
    pub(crate) store: Store,
    pub(crate) url: String,
    pub(crate) sqlite_file: Option<PathBuf>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDb {
    pub(crate) async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("waygate-store-{}", uuid::Uuid::new_v4()));
        // A nested directory: opening must create it.
        let file = dir.join("data").join("waygate.db");
        let url = format!("sqlite://{}", file.display());
        let store = Store::open(&url).await.expect("open sqlite");
        store.set_master_key(MasterKey::generate());
        Self {
            store,
            url,
            sqlite_file: Some(file),
            cleanup: Cleanup::Dir(dir),
        }
    }

    pub(crate) async fn postgres(admin_url: &str) -> Self {
        let name = format!("waygate_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url).await.unwrap_or_else(|e| {
            panic!("{POSTGRES_ENV} is set but {admin_url} is unreachable: {e}")
        });
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let url = with_database(admin_url, &name);
        let store = Store::open(&url).await.expect("open postgres");
        store.set_master_key(MasterKey::generate());
        Self {
            store,
            url,
            sqlite_file: None,
            cleanup: Cleanup::Database {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    /// Every backend to test on.
    pub(crate) async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite().await];
        if let Ok(url) = std::env::var(POSTGRES_ENV) {
            dbs.push(Self::postgres(&url).await);
        }
        dbs
    }

    /// A second, raw connection to the same database, to tamper with rows.
    pub(crate) async fn raw(&self) -> sea_orm::DatabaseConnection {
        Database::connect(&self.url).await.expect("raw connection")
    }

    pub(crate) async fn finish(self) {
        self.store.close().await.ok();
        match self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                }
            }
        }
    }
}

/// `admin_url` with its database replaced by `name`.
pub(crate) fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Runs `$scenario(&TestDb)` on every backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for db in $crate::support::TestDb::all().await {
                eprintln!("{}: {:?}", stringify!($name), db.store.backend());
                super::$name(&db).await;
                db.finish().await;
            }
        }
    )*};
}
