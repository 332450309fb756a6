//! Storage ports of the engine, and in-memory implementations for embedded use.
//!
//! Every function takes the tenant: no lookup exists without it, so one tenant
//! can never reach another's integrations or connections. `waygate-store`
//! implements the same traits on SQLite and PostgreSQL.

mod cache;
mod connection_cache;
mod lookup_cache;
#[cfg(feature = "oauth2")]
mod memory_tokens;

pub use cache::CachedIntegrations;
pub use connection_cache::CachedConnections;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use crate::credential::Connection;
use crate::model::IntegrationDef;

/// What kind of storage failure happened, independent of the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The thing does not exist.
    NotFound,
    /// It conflicts with what is stored (a duplicate slug, a stale version).
    Conflict,
    /// The backend cannot be reached or failed.
    Unavailable,
}

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

impl StoreError {
    /// A storage error of `kind`.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Its backend-neutral kind.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// A stored definition and its revision, which changes on every write, so that
/// compiled forms of it can be cached and invalidated.
#[derive(Debug, Clone)]
pub struct StoredIntegration {
    /// The definition.
    pub def: Arc<IntegrationDef>,
    /// Increases with every write of this integration.
    pub revision: u64,
    /// `false` when the integration is disabled: its actions are not invoked.
    pub enabled: bool,
}

/// Integration definitions, per tenant.
#[async_trait]
pub trait IntegrationStore: Send + Sync + 'static {
    /// The integration with `slug`, if the tenant has one.
    async fn integration(
        &self,
        tenant: &str,
        slug: &str,
    ) -> Result<Option<StoredIntegration>, StoreError>;
    /// Creates or replaces an integration (by slug), as one write.
    async fn put_integration(
        &self,
        tenant: &str,
        def: IntegrationDef,
    ) -> Result<StoredIntegration, StoreError>;
    /// The tenant's integrations, by slug.
    async fn list_integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError>;
    /// Deletes an integration; `false` when there was none.
    async fn delete_integration(&self, tenant: &str, slug: &str) -> Result<bool, StoreError>;
}

/// Connections (and their credentials), per tenant and integration.
#[async_trait]
pub trait ConnectionStore: Send + Sync + 'static {
    /// The named connection of an integration.
    async fn connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<Option<Arc<Connection>>, StoreError>;
    /// Creates or replaces a connection (by name).
    async fn put_connection(
        &self,
        tenant: &str,
        integration: &str,
        connection: Connection,
    ) -> Result<(), StoreError>;
    /// Deletes a connection; `false` when there was none.
    async fn delete_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
}

/// Integrations and connections held in memory: the embedded default.
///
/// Maps are nested per tenant (then integration), so lookups take `&str` keys
/// and allocate nothing on the invocation path.
#[derive(Default)]
pub struct MemoryStore {
    tenants: RwLock<HashMap<String, TenantData>>,
    revisions: std::sync::atomic::AtomicU64,
    /// OAuth2 refresh locks held (see `memory_tokens`).
    #[cfg(feature = "oauth2")]
    refresh_locks: memory_tokens::HeldLocks,
    /// Failed refreshes in a row per credential.
    #[cfg(feature = "oauth2")]
    refresh_failures: std::sync::Mutex<HashMap<crate::oauth2::CredentialKey, u32>>,
}

#[derive(Default)]
struct TenantData {
    integrations: HashMap<String, StoredIntegration>,
    /// Integration slug → connection name → connection.
    connections: HashMap<String, HashMap<String, Arc<Connection>>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (integrations, connections) = self.tenants.read().map_or((0, 0), |t| {
            t.values().fold((0, 0), |(i, c), d| {
                (
                    i + d.integrations.len(),
                    c + d.connections.values().map(HashMap::len).sum::<usize>(),
                )
            })
        });
        f.debug_struct("MemoryStore")
            .field("integrations", &integrations)
            .field("connections", &connections)
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an integration now (the async trait method does the same).
    ///
    /// # Errors
    /// Only if a panic poisoned the store.
    pub fn insert_integration(
        &self,
        tenant: &str,
        def: IntegrationDef,
    ) -> Result<StoredIntegration, StoreError> {
        let revision = self
            .revisions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let stored = StoredIntegration {
            def: Arc::new(def),
            revision,
            enabled: true,
        };
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let data = tenants.entry(tenant.to_owned()).or_default();
        data.integrations
            .insert(stored.def.slug.clone(), stored.clone());
        Ok(stored)
    }

    /// The integration with `slug`, read now (the async trait method does the same).
    ///
    /// # Errors
    /// Only if a panic poisoned the store.
    pub fn integration_now(
        &self,
        tenant: &str,
        slug: &str,
    ) -> Result<Option<StoredIntegration>, StoreError> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        Ok(tenants
            .get(tenant)
            .and_then(|d| d.integrations.get(slug))
            .cloned())
    }

    /// The tenant's integrations by slug, read now (the async trait method does the same).
    ///
    /// # Errors
    /// Only if a panic poisoned the store.
    pub fn integrations_now(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        let mut found: Vec<_> = tenants
            .get(tenant)
            .map(|d| d.integrations.values().cloned().collect())
            .unwrap_or_default();
        found.sort_by(|a, b| a.def.slug.cmp(&b.def.slug));
        Ok(found)
    }

    /// Stores a connection now (the async trait method does the same).
    ///
    /// # Errors
    /// Only if a panic poisoned the store.
    pub fn insert_connection(
        &self,
        tenant: &str,
        integration: &str,
        connection: Connection,
    ) -> Result<(), StoreError> {
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let data = tenants.entry(tenant.to_owned()).or_default();
        let of_integration = data.connections.entry(integration.to_owned()).or_default();
        of_integration.insert(connection.name.clone(), Arc::new(connection));
        Ok(())
    }
}

fn poisoned() -> StoreError {
    StoreError::new(
        StoreErrorKind::Unavailable,
        "in-memory store lock poisoned by a panic",
    )
}

#[async_trait]
impl IntegrationStore for MemoryStore {
    async fn integration(
        &self,
        tenant: &str,
        slug: &str,
    ) -> Result<Option<StoredIntegration>, StoreError> {
        self.integration_now(tenant, slug)
    }

    async fn put_integration(
        &self,
        tenant: &str,
        def: IntegrationDef,
    ) -> Result<StoredIntegration, StoreError> {
        self.insert_integration(tenant, def)
    }

    async fn list_integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError> {
        self.integrations_now(tenant)
    }

    async fn delete_integration(&self, tenant: &str, slug: &str) -> Result<bool, StoreError> {
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let Some(data) = tenants.get_mut(tenant) else {
            return Ok(false);
        };
        data.connections.remove(slug);
        Ok(data.integrations.remove(slug).is_some())
    }
}

#[async_trait]
impl ConnectionStore for MemoryStore {
    async fn connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<Option<Arc<Connection>>, StoreError> {
        let tenants = self.tenants.read().map_err(|_| poisoned())?;
        Ok(tenants
            .get(tenant)
            .and_then(|d| d.connections.get(integration))
            .and_then(|c| c.get(name))
            .cloned())
    }

    async fn put_connection(
        &self,
        tenant: &str,
        integration: &str,
        connection: Connection,
    ) -> Result<(), StoreError> {
        self.insert_connection(tenant, integration, connection)
    }

    async fn delete_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let mut tenants = self.tenants.write().map_err(|_| poisoned())?;
        let removed = tenants
            .get_mut(tenant)
            .and_then(|d| d.connections.get_mut(integration))
            .and_then(|c| c.remove(name));
        Ok(removed.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::Credential;

    #[tokio::test]
    async fn tenants_never_see_each_other() {
        let store = MemoryStore::new();
        store
            .put_integration("a", IntegrationDef::new("crm", "CRM"))
            .await
            .unwrap();
        store
            .put_connection(
                "a",
                "crm",
                Connection::default_with(Credential::bearer("t")),
            )
            .await
            .unwrap();
        assert!(store.integration("b", "crm").await.unwrap().is_none());
        assert!(
            store
                .connection("b", "crm", "default")
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.list_integrations("b").await.unwrap().is_empty());
        assert!(!store.delete_integration("b", "crm").await.unwrap());
        assert!(
            !store
                .delete_connection("b", "crm", "default")
                .await
                .unwrap()
        );
        assert!(store.integration("a", "crm").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn every_write_gets_a_new_revision() {
        let store = MemoryStore::new();
        let first = store
            .put_integration("t", IntegrationDef::new("x", "X"))
            .await
            .unwrap();
        let second = store
            .put_integration("t", IntegrationDef::new("x", "X2"))
            .await
            .unwrap();
        assert!(second.revision > first.revision);
        assert_eq!(
            store.integration("t", "x").await.unwrap().unwrap().def.name,
            "X2"
        );
    }
}
