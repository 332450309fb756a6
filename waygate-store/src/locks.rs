//! Refresh locks: at most one process refreshes a credential's tokens at a time.
//!
//! Non-blocking: whoever does not get the lock uses the current token or waits
//! for the winner's result; nobody queues on the database.
//! - PostgreSQL: `pg_try_advisory_xact_lock` inside a transaction that the guard
//!   holds, so the lock lives on one dedicated connection and ends with it. A
//!   transaction-scoped lock cannot leak: dropping the guard rolls the
//!   transaction back, and a crashed process's connection closes, either way
//!   releasing it. A session lock (`pg_try_advisory_lock`) would stay held if
//!   the connection went back to the pool without an unlock.
//! - SQLite: a lease on the credential row, taken by compare-and-set
//!   (`lease_owner`, `lease_until`), which expires on its own if the holder dies.

use std::time::Duration;

use sea_orm::{DatabaseTransaction, TransactionTrait};
use sha2::{Digest, Sha256};

use crate::db::{self, get};
use crate::error::{Error, Result};
use crate::store::{Backend, Store};
use crate::time::{duration_ms, now_ms};

/// A held refresh lock. Released by [`RefreshLock::release`] or on drop.
#[must_use = "the lock is released when the guard is dropped"]
pub struct RefreshLock {
    held: Option<Held>,
}

enum Held {
    Advisory(DatabaseTransaction),
    Lease {
        store: Store,
        credential_id: String,
        owner: String,
    },
}

impl std::fmt::Debug for RefreshLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.held {
            Some(Held::Advisory(_)) => "advisory",
            Some(Held::Lease { .. }) => "lease",
            None => "released",
        };
        f.debug_struct("RefreshLock").field("kind", &kind).finish()
    }
}

impl RefreshLock {
    /// Releases the lock now.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] when the database fails; a lease then
    /// expires on its own, an advisory lock ends with its connection.
    pub async fn release(mut self) -> Result<()> {
        match self.held.take() {
            Some(Held::Advisory(tx)) => tx
                .rollback()
                .await
                .map_err(|e| Error::db("releasing a refresh lock", e)),
            Some(Held::Lease {
                store,
                credential_id,
                owner,
            }) => release_lease(&store, &credential_id, &owner).await,
            None => Ok(()),
        }
    }
}

impl Drop for RefreshLock {
    fn drop(&mut self) {
        match self.held.take() {
            // Dropping the transaction rolls it back, which ends the lock.
            Some(Held::Advisory(tx)) => drop(tx),
            Some(Held::Lease {
                store,
                credential_id,
                owner,
            }) => {
                // Drop cannot wait: release on the runtime. Without one (a
                // runtime shutting down), the lease expires by itself.
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    handle.spawn(async move {
                        if let Err(e) = release_lease(&store, &credential_id, &owner).await {
                            tracing::warn!(error = %e, "releasing a refresh lease failed; it will expire");
                        }
                    });
                }
            }
            None => {}
        }
    }
}

async fn release_lease(store: &Store, credential_id: &str, owner: &str) -> Result<()> {
    db::exec(
        store.db(),
        "releasing a refresh lease",
        "UPDATE credentials SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
        vec![credential_id.into(), owner.into()],
    )
    .await
    .map(drop)
}

/// The 64-bit advisory lock key of a credential: a hash, namespaced so other
/// users of advisory locks in the same database do not collide with ours.
fn advisory_key(credential_id: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"waygate refresh\0")
        .chain_update(credential_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl Store {
    /// Tries to take the refresh lock of a connection's credential, without
    /// waiting: `None` when another holder has it. `lease` bounds how long a
    /// SQLite lease lasts if its holder dies (PostgreSQL locks end with the holder).
    ///
    /// # Errors
    /// [`crate::ErrorKind::NotFound`] when the connection has no credential.
    pub async fn try_lock_refresh(
        &self,
        tenant: &str,
        integration: &str,
        connection: &str,
        lease: Duration,
    ) -> Result<Option<RefreshLock>> {
        let context = "taking a refresh lock";
        let row = db::one(
            self.db(),
            context,
            "SELECT k.id FROM credentials k
             JOIN connections c ON c.id = k.connection_id
             JOIN integrations i ON i.id = c.integration_id
             WHERE k.tenant_id = $1 AND c.tenant_id = $1 AND i.tenant_id = $1 AND i.slug = $2 AND c.name = $3",
            vec![tenant.into(), integration.into(), connection.into()],
        )
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "credential of connection '{connection}' of integration '{integration}'"
            ))
        })?;
        let credential_id: String = get(&row, "id")?;
        match self.backend() {
            Backend::Postgres => {
                let tx = self.db().begin().await.map_err(|e| Error::db(context, e))?;
                let row = db::one(
                    &tx,
                    context,
                    "SELECT pg_try_advisory_xact_lock($1) AS locked",
                    vec![advisory_key(&credential_id).into()],
                )
                .await?;
                let locked = match row {
                    Some(r) => get::<bool>(&r, "locked")?,
                    None => false,
                };
                Ok(locked.then(|| RefreshLock {
                    held: Some(Held::Advisory(tx)),
                }))
            }
            Backend::Sqlite => {
                let owner = uuid::Uuid::new_v4().to_string();
                let now = now_ms();
                let taken = db::exec(
                    self.db(),
                    context,
                    "UPDATE credentials SET lease_owner = $2, lease_until = $3
                     WHERE id = $1 AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= $4)",
                    vec![
                        credential_id.as_str().into(),
                        owner.as_str().into(),
                        now.saturating_add(duration_ms(lease)).into(),
                        now.into(),
                    ],
                )
                .await?;
                Ok((taken == 1).then(|| RefreshLock {
                    held: Some(Held::Lease {
                        store: self.clone(),
                        credential_id,
                        owner,
                    }),
                }))
            }
        }
    }
}
