//! Connections and their credentials: core's [`ConnectionStore`] port, with the
//! credential sealed by the vault (master key rotation is `rotation`).

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use waygate_core::credential::{Connection, ConnectionStatus, Credential};
use waygate_core::storage::{ConnectionStore, StoreError};

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::{now_ms, to_ms};
use crate::vault::{Envelope, Keyring};

impl Store {
    /// Creates or replaces a connection (by name) and its credential, as one transaction.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when the tenant has no such integration;
    /// [`ErrorKind::Config`] when no master key is set.
    pub async fn store_connection(
        &self,
        tenant: &str,
        integration: &str,
        connection: &Connection,
    ) -> Result<()> {
        let ring = self.keyring()?;
        let context = format!("storing connection '{}'", connection.name);
        // A new credential (a re-authorization) makes the connection active again.
        let now = now_ms();
        let tx = db::write_transaction(self.db(), &context).await?;
        let row = db::one(
            &tx,
            &context,
            "INSERT INTO connections (id, tenant_id, integration_id, name, base_url, auth_scheme, created_at, updated_at)
             SELECT $1, $2, i.id, $4, $5, $7, $6, $6 FROM integrations i WHERE i.tenant_id = $2 AND i.slug = $3
             ON CONFLICT (tenant_id, integration_id, name) DO UPDATE SET
               base_url = excluded.base_url, auth_scheme = excluded.auth_scheme,
               updated_at = excluded.updated_at, status = 'active'
             RETURNING id",
            vec![
                uuid::Uuid::new_v4().to_string().into(),
                tenant.into(),
                integration.into(),
                connection.name.as_str().into(),
                connection.base_url.clone().into(),
                now.into(),
                connection.auth_scheme.clone().into(),
            ],
        )
        .await?
        .ok_or_else(|| Error::not_found(format!("integration '{integration}'")))?;
        let connection_id: String = get(&row, "id")?;
        // The credential keeps its id across updates; the associated data binds
        // the ciphertext to (tenant, credential id).
        let existing = db::one(
            &tx,
            &context,
            "SELECT id FROM credentials WHERE connection_id = $1",
            vec![connection_id.as_str().into()],
        )
        .await?;
        let credential_id = match existing {
            Some(r) => get::<String>(&r, "id")?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let row = CredentialRow {
            tenant,
            id: &credential_id,
            connection_id: &connection_id,
            now,
        };
        write_credential(&tx, &context, &ring, &row, &connection.credential).await?;
        tx.commit().await.map_err(|e| Error::db(&context, e))
    }

    /// The named connection of an integration, its credential decrypted.
    ///
    /// # Errors
    /// [`ErrorKind::Crypto`] when the credential does not decrypt;
    /// [`ErrorKind::Config`] when no master key is set.
    pub async fn load_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<Option<Connection>> {
        let row = db::one(
            self.db(),
            "reading a connection",
            "SELECT c.name, c.base_url, c.auth_scheme, c.status, k.id AS credential_id, k.key_id, k.nonce, k.ciphertext
             FROM connections c
             JOIN integrations i ON i.id = c.integration_id
             LEFT JOIN credentials k ON k.connection_id = c.id
             WHERE c.tenant_id = $1 AND i.tenant_id = $1 AND i.slug = $2 AND c.name = $3",
            vec![tenant.into(), integration.into(), name.into()],
        )
        .await?;
        let Some(row) = row else { return Ok(None) };
        let credential = match get::<Option<String>>(&row, "credential_id")? {
            None => Credential::None,
            Some(id) => {
                let envelope = Envelope {
                    key_id: get(&row, "key_id")?,
                    nonce: get(&row, "nonce")?,
                    ciphertext: get(&row, "ciphertext")?,
                };
                let plain = self.keyring()?.open(tenant, &id, &envelope)?;
                serde_json::from_slice(&plain).map_err(|e| {
                    Error::new(ErrorKind::Crypto, "a decrypted credential is not readable")
                        .with_source(e)
                })?
            }
        };
        let mut connection = Connection::new(get::<String>(&row, "name")?, credential);
        connection.base_url = get(&row, "base_url")?;
        connection.auth_scheme = get(&row, "auth_scheme")?;
        connection.status = ConnectionStatus::parse(&get::<String>(&row, "status")?);
        connection.mappings = self
            .connection_mappings(tenant, integration, &connection.name)
            .await?;
        Ok(Some(connection))
    }

    /// Sets a connection's base URL override and auth scheme, leaving its
    /// credential and status as they are; `false` when there is no such connection.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn update_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
        base_url: Option<&str>,
        auth_scheme: Option<&str>,
    ) -> Result<bool> {
        let changed = db::exec(
            self.db(),
            "updating a connection",
            "UPDATE connections SET base_url = $4, auth_scheme = $5, updated_at = $6
             WHERE tenant_id = $1 AND name = $3 AND integration_id IN
               (SELECT id FROM integrations WHERE tenant_id = $1 AND slug = $2)",
            vec![
                tenant.into(),
                integration.into(),
                name.into(),
                base_url.map(str::to_owned).into(),
                auth_scheme.map(str::to_owned).into(),
                now_ms().into(),
            ],
        )
        .await?;
        Ok(changed > 0)
    }

    /// Deletes a connection and its credential; `false` when there was none.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn remove_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<bool> {
        let context = "deleting a connection";
        let tx = db::write_transaction(self.db(), context).await?;
        let n = db::exec(
            &tx,
            context,
            "DELETE FROM connections WHERE tenant_id = $1 AND name = $3 AND integration_id IN
               (SELECT id FROM integrations WHERE tenant_id = $1 AND slug = $2)",
            vec![tenant.into(), integration.into(), name.into()],
        )
        .await?;
        // Its mappings go with it: a new connection of the same name starts clean.
        db::exec(
            &tx,
            context,
            "DELETE FROM field_mappings WHERE tenant_id = $1 AND connection_name = $3 AND integration_id IN
               (SELECT id FROM integrations WHERE tenant_id = $1 AND slug = $2)",
            vec![tenant.into(), integration.into(), name.into()],
        )
        .await?;
        tx.commit().await.map_err(|e| Error::db(context, e))?;
        Ok(n > 0)
    }
}

#[async_trait]
impl ConnectionStore for Store {
    async fn connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<Option<Arc<Connection>>, StoreError> {
        Ok(self
            .load_connection(tenant, integration, name)
            .await?
            .map(Arc::new))
    }

    async fn put_connection(
        &self,
        tenant: &str,
        integration: &str,
        connection: Connection,
    ) -> Result<(), StoreError> {
        Ok(self
            .store_connection(tenant, integration, &connection)
            .await?)
    }

    async fn delete_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.remove_connection(tenant, integration, name).await?)
    }
}

/// Where a credential is written: its row's id (the associated data of its
/// envelope, kept across updates), tenant and connection, and the time.
pub(crate) struct CredentialRow<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) id: &'a str,
    pub(crate) connection_id: &'a str,
    pub(crate) now: i64,
}

/// Seals `credential` under the current master key and writes it to its
/// row, inserted or replaced; the one place a credential is sealed for
/// storing (a new connection, a re-authorization, refreshed tokens). A new
/// credential is active with no failed refreshes.
pub(crate) async fn write_credential<C: ConnectionTrait>(
    tx: &C,
    context: &str,
    ring: &Keyring,
    row: &CredentialRow<'_>,
    credential: &Credential,
) -> Result<()> {
    let json = credential.to_vault_json();
    let sealed = ring.seal(row.tenant, row.id, json.as_bytes())?;
    let (expires_at, scopes) = listed_metadata(credential);
    db::exec(
        tx,
        context,
        "INSERT INTO credentials (id, tenant_id, connection_id, kind, key_id, nonce, ciphertext, expires_at, scopes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (connection_id) DO UPDATE SET
           kind = excluded.kind, key_id = excluded.key_id, nonce = excluded.nonce,
           ciphertext = excluded.ciphertext, expires_at = excluded.expires_at,
           scopes = excluded.scopes, status = 'active', refresh_failures = 0,
           updated_at = excluded.updated_at",
        vec![
            row.id.into(),
            row.tenant.into(),
            row.connection_id.into(),
            credential.kind().into(),
            sealed.key_id.into(),
            sealed.nonce.into(),
            sealed.ciphertext.into(),
            expires_at.into(),
            scopes.into(),
            row.now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// What the credentials row keeps in clear beside the envelope, for listings
/// and the refresh sweep: the expiry (epoch ms) and the scopes (a JSON array).
fn listed_metadata(credential: &Credential) -> (Option<i64>, String) {
    let (expires_at, scopes) = match credential {
        Credential::Oauth2Tokens {
            expires_at, scopes, ..
        } => (expires_at.map(to_ms), scopes.as_slice()),
        Credential::Oauth2ClientCredentials { scopes, .. } => (None, scopes.as_slice()),
        _ => (None, &[][..]),
    };
    let scopes = serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into());
    (expires_at, scopes)
}
