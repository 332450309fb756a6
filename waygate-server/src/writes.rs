//! Writes that change what this process caches, each with the invalidation it
//! needs. The handlers write through [`Writes`] (`app.writes()`) instead of
//! each remembering which cache holds what: the resolve caches hold
//! definitions (tags and status included) and connections (credential,
//! status, mappings, base URL), the API-key cache holds a tenant's keys and
//! its rate-limit setting.
//!
//! A cache entry is dropped even when the write fails: the write may have
//! happened before the error. Other replicas see a write when their entries'
//! time-to-live runs out.

use waygate_core::credential::{Connection, ConnectionStatus};
use waygate_core::model::{IntegrationDef, Mappings};
use waygate_core::oauth2::CredentialKey;
use waygate_core::storage::{IntegrationStore as _, StoreError};
use waygate_store::{Result, TenantInfo};

use crate::app::AppState;

/// The writes of one request; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct Writes<'a> {
    app: &'a AppState,
}

impl AppState {
    /// Writes that keep this process's caches true.
    pub fn writes(&self) -> Writes<'_> {
        Writes { app: self }
    }
}

impl Writes<'_> {
    /// A new integration; the slug's remembered absence goes.
    ///
    /// # Errors
    /// The store's: `Conflict` when the slug is taken.
    pub async fn create_integration(&self, tenant: &str, def: &IntegrationDef) -> Result<u64> {
        let created = self.app.store.create_integration(tenant, def).await;
        self.app.integrations.invalidate(tenant, &def.slug);
        created
    }

    /// A new revision of an existing integration (through the resolve cache,
    /// which drops its entry).
    ///
    /// # Errors
    /// The store's.
    pub async fn put_integration(
        &self,
        tenant: &str,
        def: IntegrationDef,
    ) -> Result<(), StoreError> {
        self.app
            .integrations
            .put_integration(tenant, def)
            .await
            .map(drop)
    }

    /// The integration's status (`active`, `disabled`, …).
    ///
    /// # Errors
    /// The store's: `Invalid` for an unknown status.
    pub async fn set_integration_status(
        &self,
        tenant: &str,
        slug: &str,
        status: &str,
    ) -> Result<bool> {
        let set = self
            .app
            .store
            .set_integration_status(tenant, slug, status)
            .await;
        self.app.integrations.invalidate(tenant, slug);
        set
    }

    /// Deletes an integration with its connections.
    ///
    /// # Errors
    /// The store's.
    pub async fn delete_integration(&self, tenant: &str, slug: &str) -> Result<bool, StoreError> {
        let deleted = self.app.integrations.delete_integration(tenant, slug).await;
        self.app.connections.invalidate_integration(tenant, slug);
        deleted
    }

    /// Renames a tag on every integration that has it; the slugs renamed.
    ///
    /// # Errors
    /// The store's: `Conflict` when concurrent edits kept it from finishing.
    pub async fn rename_tag(&self, tenant: &str, from: &str, to: &str) -> Result<Vec<String>> {
        let renamed = self.app.store.rename_tag(tenant, from, to).await?;
        for slug in &renamed {
            self.app.integrations.invalidate(tenant, slug);
        }
        Ok(renamed)
    }

    /// Stores a connection (active), replacing one of the same name.
    ///
    /// # Errors
    /// The store's.
    pub async fn store_connection(
        &self,
        tenant: &str,
        slug: &str,
        connection: &Connection,
    ) -> Result<()> {
        let stored = self
            .app
            .store
            .store_connection(tenant, slug, connection)
            .await;
        self.app
            .connections
            .invalidate(tenant, slug, &connection.name);
        stored
    }

    /// Deletes a connection; whether there was one.
    ///
    /// # Errors
    /// The store's.
    pub async fn remove_connection(&self, tenant: &str, slug: &str, name: &str) -> Result<bool> {
        let removed = self.app.store.remove_connection(tenant, slug, name).await;
        self.app.connections.invalidate(tenant, slug, name);
        removed
    }

    /// A connection's status (`needs_reauth` after a refused authorization).
    ///
    /// # Errors
    /// The store's.
    pub async fn set_connection_status(
        &self,
        key: &CredentialKey,
        status: ConnectionStatus,
    ) -> Result<()> {
        let set = self.app.store.set_connection_status(key, status).await;
        self.app
            .connections
            .invalidate(&key.tenant, &key.integration, &key.connection);
        set
    }

    /// A connection's own field mappings of one action.
    ///
    /// # Errors
    /// The store's.
    pub async fn put_connection_mappings(
        &self,
        tenant: &str,
        slug: &str,
        name: &str,
        action: &str,
        mappings: &Mappings,
    ) -> Result<()> {
        let put = self
            .app
            .store
            .put_connection_mappings(tenant, slug, name, action, mappings)
            .await;
        self.app.connections.invalidate(tenant, slug, name);
        put
    }

    /// Refreshes a connection's OAuth2 tokens now: the resolver writes them to
    /// the store, around the connection cache. The new expiry, if any.
    ///
    /// # Errors
    /// The refresh's: the provider refused, or the store failed.
    pub async fn refresh_connection(
        &self,
        tenant: &str,
        def: &IntegrationDef,
        name: &str,
    ) -> Result<Option<std::time::SystemTime>, waygate_core::Error> {
        let refreshed = self.app.oauth.refresh_now(tenant, def, name).await;
        self.app.connections.invalidate(tenant, &def.slug, name);
        refreshed
    }

    /// A tenant's name and settings (its rate limit is cached with its keys).
    ///
    /// # Errors
    /// The store's.
    pub async fn update_tenant(
        &self,
        id: &str,
        name: Option<&str>,
        settings: Option<&serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Option<TenantInfo>> {
        let updated = self.app.store.update_tenant(id, name, settings).await;
        self.app.auth.forget_tenant(id);
        updated
    }

    /// Deletes a tenant with everything it owns.
    ///
    /// # Errors
    /// The store's.
    pub async fn delete_tenant(&self, id: &str) -> Result<bool> {
        let deleted = self.app.store.delete_tenant(id).await;
        self.app.auth.forget_tenant(id);
        self.app.integrations.invalidate_tenant(id);
        self.app.connections.invalidate_tenant(id);
        deleted
    }

    /// Revokes one of a tenant's API keys.
    ///
    /// # Errors
    /// The store's.
    pub async fn revoke_api_key(&self, tenant: &str, key_id: &str) -> Result<bool> {
        let revoked = self.app.store.revoke_api_key(tenant, key_id).await;
        self.app.auth.forget_tenant(tenant);
        revoked
    }
}
