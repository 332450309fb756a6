//! Core's OAuth2 [`TokenStore`] port: the refresh protocol's reads, lock and
//! writes on the credential and connection rows.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use waygate_core::credential::{ConnectionStatus, Credential};
use waygate_core::oauth2::{CredentialKey, StoredTokens, TokenLock, TokenStore};
use waygate_core::storage::StoreError;

use crate::connections::{CredentialRow, write_credential};
use crate::db::{self, get};
use crate::error::{Error, Result};
use crate::locks::RefreshLock;
use crate::store::Store;
use crate::time::{now_ms, to_ms};

/// How many expiring credentials one sweep looks at.
const SWEEP_LIMIT: i64 = 500;

/// The credential and connection row ids of a key.
async fn credential_ids<C: ConnectionTrait>(
    conn: &C,
    context: &str,
    key: &CredentialKey,
) -> Result<(String, String)> {
    let row = db::one(
        conn,
        context,
        "SELECT k.id, c.id AS connection_id FROM credentials k
         JOIN connections c ON c.id = k.connection_id
         JOIN integrations i ON i.id = c.integration_id
         WHERE k.tenant_id = $1 AND c.tenant_id = $1 AND i.tenant_id = $1 AND i.slug = $2 AND c.name = $3",
        vec![
            key.tenant.as_str().into(),
            key.integration.as_str().into(),
            key.connection.as_str().into(),
        ],
    )
    .await?
    .ok_or_else(|| {
        Error::not_found(format!(
            "credential of connection '{}' of integration '{}'",
            key.connection, key.integration
        ))
    })?;
    Ok((get(&row, "id")?, get(&row, "connection_id")?))
}

impl Store {
    /// Stores refreshed tokens and marks the connection active, in one transaction
    /// (see [`TokenStore::save_tokens`]).
    ///
    /// # Errors
    /// [`crate::ErrorKind::NotFound`] when the connection has no credential.
    pub async fn save_refreshed_tokens(
        &self,
        key: &CredentialKey,
        credential: &Credential,
    ) -> Result<()> {
        let ring = self.keyring()?;
        let context = "saving refreshed tokens";
        let tx = db::write_transaction(self.db(), context).await?;
        let (credential_id, connection_id) = credential_ids(&tx, context, key).await?;
        let now = now_ms();
        let row = CredentialRow {
            tenant: &key.tenant,
            id: &credential_id,
            connection_id: &connection_id,
            now,
        };
        write_credential(&tx, context, &ring, &row, credential).await?;
        db::exec(
            &tx,
            context,
            "UPDATE connections SET status = 'active', updated_at = $2 WHERE id = $1",
            vec![connection_id.into(), now.into()],
        )
        .await?;
        tx.commit().await.map_err(|e| Error::db(context, e))
    }

    /// Sets a connection's status, on the connection and its credential, in one transaction.
    ///
    /// # Errors
    /// [`crate::ErrorKind::NotFound`] when the connection has no credential.
    pub async fn set_connection_status(
        &self,
        key: &CredentialKey,
        status: ConnectionStatus,
    ) -> Result<()> {
        let context = "setting a connection's status";
        let tx = db::write_transaction(self.db(), context).await?;
        let (credential_id, connection_id) = credential_ids(&tx, context, key).await?;
        let now = now_ms();
        db::exec(
            &tx,
            context,
            "UPDATE credentials SET status = $2, updated_at = $3 WHERE id = $1",
            vec![credential_id.into(), status.as_str().into(), now.into()],
        )
        .await?;
        db::exec(
            &tx,
            context,
            "UPDATE connections SET status = $2, updated_at = $3 WHERE id = $1",
            vec![connection_id.into(), status.as_str().into(), now.into()],
        )
        .await?;
        tx.commit().await.map_err(|e| Error::db(context, e))
    }

    /// Counts a failed refresh; returns the failures in a row.
    ///
    /// # Errors
    /// [`crate::ErrorKind::NotFound`] when the connection has no credential.
    pub async fn record_refresh_failure(&self, key: &CredentialKey) -> Result<u32> {
        let context = "counting a refresh failure";
        let (credential_id, _) = credential_ids(self.db(), context, key).await?;
        let row = db::one(
            self.db(),
            context,
            "UPDATE credentials SET refresh_failures = refresh_failures + 1 WHERE id = $1
             RETURNING refresh_failures",
            vec![credential_id.into()],
        )
        .await?
        .ok_or_else(|| Error::not_found("the credential"))?;
        let n: i64 = get(&row, "refresh_failures")?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Active `oauth2_tokens` credentials of every tenant expiring at or
    /// before `before` (soonest first, at most 500): the background refresh sweep's
    /// work list. The one query without a tenant filter: the sweep serves all
    /// tenants, and each key it returns carries its tenant.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn expiring_credentials(&self, before: SystemTime) -> Result<Vec<CredentialKey>> {
        let rows = db::all(
            self.db(),
            "listing expiring credentials",
            "SELECT k.tenant_id, i.slug, c.name FROM credentials k
             JOIN connections c ON c.id = k.connection_id
             JOIN integrations i ON i.id = c.integration_id
             WHERE k.status = 'active' AND c.status = 'active' AND k.kind = 'oauth2_tokens'
               AND k.expires_at IS NOT NULL AND k.expires_at <= $1
             ORDER BY k.expires_at LIMIT $2",
            vec![to_ms(before).into(), SWEEP_LIMIT.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CredentialKey::new(
                    get::<String>(r, "tenant_id")?,
                    get::<String>(r, "slug")?,
                    get::<String>(r, "name")?,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl TokenLock for RefreshLock {
    async fn release(self: Box<Self>) {
        if let Err(e) = RefreshLock::release(*self).await {
            tracing::warn!(error = %e, "releasing a refresh lock failed; it ends on its own");
        }
    }
}

#[async_trait]
impl TokenStore for Store {
    async fn load_tokens(&self, key: &CredentialKey) -> Result<Option<StoredTokens>, StoreError> {
        let connection = self
            .load_connection(&key.tenant, &key.integration, &key.connection)
            .await?;
        Ok(connection.map(|c| StoredTokens {
            credential: c.credential,
            status: c.status,
            auth_scheme: c.auth_scheme,
        }))
    }

    async fn try_lock(
        &self,
        key: &CredentialKey,
        lease: Duration,
    ) -> Result<Option<Box<dyn TokenLock>>, StoreError> {
        let lock = self
            .try_lock_refresh(&key.tenant, &key.integration, &key.connection, lease)
            .await?;
        Ok(lock.map(|l| Box::new(l) as Box<dyn TokenLock>))
    }

    async fn save_tokens(
        &self,
        key: &CredentialKey,
        credential: &Credential,
    ) -> Result<(), StoreError> {
        Ok(self.save_refreshed_tokens(key, credential).await?)
    }

    async fn record_failure(&self, key: &CredentialKey) -> Result<u32, StoreError> {
        Ok(self.record_refresh_failure(key).await?)
    }

    async fn set_status(
        &self,
        key: &CredentialKey,
        status: ConnectionStatus,
    ) -> Result<(), StoreError> {
        Ok(self.set_connection_status(key, status).await?)
    }

    async fn expiring(&self, before: SystemTime) -> Result<Vec<CredentialKey>, StoreError> {
        Ok(self.expiring_credentials(before).await?)
    }
}
