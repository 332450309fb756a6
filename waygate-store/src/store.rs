//! The store: opening a database, migrating it, and holding the keys.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::error::{Error, ErrorKind, Result};
use crate::migration::Migrator;
use crate::vault::{Keyring, MasterKey};

/// The advisory lock key that serializes migrations on PostgreSQL: the
/// first eight bytes of SHA-256("waygate migrations"), fixed forever so that
/// every version of Waygate takes the same lock.
const MIGRATION_LOCK_KEY: i64 = 0x3814_9215_6486_152d;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// A SQLite file (the embedded default).
    Sqlite,
    /// PostgreSQL (for several replicas).
    Postgres,
}

/// Waygate's SQL store: integrations, connections and their encrypted
/// credentials, tenants and API keys, request logs and refresh locks.
///
/// Cheap to clone (an `Arc` inside). Every function that reads or writes
/// tenant data takes the tenant id.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: Backend,
    keyring: RwLock<Option<Arc<Keyring>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (and migrates) the database at `url`: `sqlite://path/to/file.db`
    /// (the file and its directory are created; WAL, foreign keys on, a busy
    /// timeout) or `postgres://user@host/db`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a URL of another scheme or a directory that cannot
    /// be created; [`ErrorKind::Unavailable`] when the database cannot be reached
    /// or migrated.
    pub async fn open(url: &str) -> Result<Self> {
        let (backend, options) = if let Some(rest) = url.strip_prefix("sqlite:") {
            (Backend::Sqlite, sqlite_options(url, rest)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(16)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(10))
                .acquire_timeout(Duration::from_secs(10))
                .sqlx_logging(false);
            (Backend::Postgres, options)
        } else {
            return Err(Error::new(
                ErrorKind::Config,
                "the database URL must start with sqlite:// or postgres://",
            ));
        };
        let db = Database::connect(options).await.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot open the {backend:?} database"),
            )
            .with_source(e)
        })?;
        let store = Self {
            inner: Arc::new(Inner {
                db,
                backend,
                keyring: RwLock::new(None),
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations the database has not seen yet (forward only).
    ///
    /// On PostgreSQL, replicas starting at once take turns: the migrations run
    /// inside a transaction holding `pg_advisory_xact_lock` on a fixed key, so
    /// the second replica waits, then finds nothing left to do. The lock ends
    /// with the transaction: at commit, or when a crashed process's connection
    /// closes. (sea-orm-migration's own per-migration transactions become
    /// savepoints inside it.) On SQLite, one file has one writer at a time.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] when a migration fails; it is then not recorded.
    pub async fn migrate(&self) -> Result<()> {
        let failed = |e: sea_orm::DbErr| {
            Error::new(ErrorKind::Unavailable, "migrating the database failed").with_source(e)
        };
        match self.inner.backend {
            Backend::Sqlite => Migrator::up(&self.inner.db, None).await.map_err(failed),
            Backend::Postgres => {
                let tx = self.inner.db.begin().await.map_err(failed)?;
                crate::db::exec(
                    &tx,
                    "waiting for the migration lock",
                    "SELECT pg_advisory_xact_lock($1)",
                    vec![MIGRATION_LOCK_KEY.into()],
                )
                .await?;
                Migrator::up(&tx, None).await.map_err(failed)?;
                tx.commit().await.map_err(failed)
            }
        }
    }

    /// Sets the master key that credentials are encrypted with; without one,
    /// reading or writing a connection's credential fails.
    pub fn set_master_key(&self, key: MasterKey) {
        let ring = Arc::new(Keyring::new(key));
        *self.inner.keyring.write().expect("keyring lock poisoned") = Some(ring);
    }

    pub(crate) fn keyring(&self) -> Result<Arc<Keyring>> {
        self.inner
            .keyring
            .read()
            .expect("keyring lock poisoned")
            .clone()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    "no master key is set: credentials cannot be encrypted or read",
                )
            })
    }

    pub(crate) fn replace_keyring(&self, ring: Keyring) {
        *self.inner.keyring.write().expect("keyring lock poisoned") = Some(Arc::new(ring));
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Closes the pool (connections are also closed when the last clone drops).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] when closing fails.
    pub async fn close(&self) -> Result<()> {
        self.inner
            .db
            .close_by_ref()
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, "closing the database").with_source(e))
    }
}

/// SQLite options: create the file and its directory, WAL (readers do not block
/// the writer), foreign keys (cascades and tenant integrity), and a busy timeout
/// so that concurrent writers wait instead of failing.
fn sqlite_options(url: &str, rest: &str) -> Result<ConnectOptions> {
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(Error::new(
            ErrorKind::Config,
            "an in-memory SQLite database is not supported: give a file path (sqlite://path/to/waygate.db)",
        ));
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot create the database directory {}", dir.display()),
            )
            .with_source(e)
        })?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(8)
        .min_connections(1)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    Ok(options)
}

impl Store {
    /// Checks the database file's structure: SQLite's `PRAGMA integrity_check`
    /// (`ok`, or the problems it lists); on PostgreSQL, which checks its own
    /// pages, a round trip that proves the server answers.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] when the check cannot run.
    pub async fn integrity_check(&self) -> Result<String> {
        let sql = match self.backend() {
            Backend::Sqlite => "PRAGMA integrity_check",
            Backend::Postgres => "SELECT 'ok' AS integrity_check",
        };
        let rows = crate::db::all(self.db(), "checking integrity", sql, vec![]).await?;
        let lines = rows
            .iter()
            .map(|r| crate::db::get::<String>(r, "integrity_check"))
            .collect::<Result<Vec<_>>>()?;
        Ok(lines.join("\n"))
    }
}
