//! Each tenant's tools, built once per change of its integrations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use waygate_core::Error;
use waygate_core::tools::ToolSet;

use crate::registry::Registry;

/// Tenants whose tool sets are kept; past this, the cache starts over (a tool
/// set is rebuilt from the registry on the next listing).
const MAX_TENANTS: usize = 1024;

/// The tool sets of tenants, keyed by their integrations' revisions: a listing
/// asks the registry only for `(slug, revision)` pairs and rebuilds the tools
/// when one changed, so a 10,000-action tenant pays the build once per change.
pub struct Catalogs {
    registry: Arc<dyn Registry>,
    cache: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone)]
struct Entry {
    revisions: Vec<(String, u64)>,
    tools: Arc<ToolSet>,
}

impl std::fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogs").finish_non_exhaustive()
    }
}

impl Catalogs {
    /// Tool sets read from `registry`.
    pub fn new(registry: Arc<dyn Registry>) -> Self {
        Self {
            registry,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The registry behind.
    pub fn registry(&self) -> &Arc<dyn Registry> {
        &self.registry
    }

    /// The tenant's revisions, the cheap fingerprint of its tools.
    ///
    /// # Errors
    /// `STORAGE_UNAVAILABLE` when the registry cannot be read.
    pub async fn revisions(&self, tenant: &str) -> Result<Vec<(String, u64)>, Error> {
        Ok(self.registry.revisions(tenant).await?)
    }

    /// The tenant's current tools.
    ///
    /// # Errors
    /// `STORAGE_UNAVAILABLE` when the registry cannot be read;
    /// `CONFIGURATION_ERROR` when two actions share a portable name.
    pub async fn tools(&self, tenant: &str) -> Result<Arc<ToolSet>, Error> {
        let revisions = self.registry.revisions(tenant).await?;
        if let Some(entry) = self.lock().get(tenant)
            && entry.revisions == revisions
        {
            return Ok(entry.tools.clone());
        }
        let integrations = self.registry.integrations(tenant).await?;
        let tools = Arc::new(ToolSet::build(integrations.iter().map(|s| s.def.as_ref()))?);
        // Key the entry by what was actually loaded, so a write between the two
        // reads is noticed on the next listing.
        let loaded: Vec<(String, u64)> = integrations
            .iter()
            .map(|s| (s.def.slug.clone(), s.revision))
            .collect();
        let mut cache = self.lock();
        if cache.len() >= MAX_TENANTS && !cache.contains_key(tenant) {
            cache.clear();
        }
        cache.insert(
            tenant.to_owned(),
            Entry {
                revisions: loaded,
                tools: tools.clone(),
            },
        );
        Ok(tools)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use waygate_core::model::{ActionDef, IntegrationDef};
    use waygate_core::storage::MemoryStore;

    use super::*;
    use crate::registry::StoreRegistry;

    fn def(slug: &str, actions: &[&str]) -> IntegrationDef {
        let mut def = IntegrationDef::new(slug, slug);
        def.actions = actions
            .iter()
            .map(|a| ActionDef::new(*a, "GET", "/x"))
            .collect();
        def
    }

    #[tokio::test]
    async fn tool_sets_are_reused_until_an_integration_changes() {
        let store = Arc::new(MemoryStore::new());
        store
            .insert_integration("t", def("a", &["one", "two"]))
            .unwrap();
        let catalogs = Catalogs::new(Arc::new(StoreRegistry(store.clone())));
        let first = catalogs.tools("t").await.unwrap();
        assert_eq!(first.len(), 2);
        assert!(
            Arc::ptr_eq(&first, &catalogs.tools("t").await.unwrap()),
            "cached"
        );
        store
            .insert_integration("t", def("a", &["one", "two", "three"]))
            .unwrap();
        let changed = catalogs.tools("t").await.unwrap();
        assert_eq!(changed.len(), 3, "a new revision rebuilds");
        assert!(
            catalogs.tools("other").await.unwrap().is_empty(),
            "per tenant"
        );
    }

    #[tokio::test]
    async fn a_name_collision_is_an_error_not_a_rename() {
        let store = Arc::new(MemoryStore::new());
        store
            .insert_integration("t", def("a", &["b c", "b_c"]))
            .unwrap();
        let catalogs = Catalogs::new(Arc::new(StoreRegistry(store)));
        let e = catalogs.tools("t").await.unwrap_err();
        assert_eq!(e.code(), "CONFIGURATION_ERROR");
        assert!(e.to_string().contains("a__b_c"), "{e}");
    }
}
