//! Each tenant's tools, built once per change of its integrations.

use std::sync::Arc;
use std::time::Duration;

use waygate_core::Error;
use waygate_core::clock::SharedClock;
use waygate_core::tools::ToolSet;
use waygate_core::ttl::TtlCache;

use crate::registry::Registry;

/// Tenants whose tool sets are kept at most; past this, moka evicts the least
/// used (a tool set is rebuilt from the registry on the next listing).
const MAX_TENANTS: u64 = 1024;

/// How long a tenant's tool set is kept after its last listing.
const IDLE_TTL: Duration = Duration::from_secs(60 * 60);

/// The tool sets of tenants, keyed by their integrations' revisions: a listing
/// asks the registry only for `(slug, revision)` pairs and rebuilds the tools
/// when one changed, so a 10,000-action tenant pays the build once per change.
/// Kept in a [`TtlCache`] on the given clock: bounded in tenants, and a tool
/// set not listed for an hour is let go.
pub struct Catalogs {
    registry: Arc<dyn Registry>,
    cache: TtlCache<String, Entry>,
    clock: SharedClock,
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
    /// Tool sets read from `registry`, kept by `clock` (the executor's).
    pub fn new(registry: Arc<dyn Registry>, clock: SharedClock) -> Self {
        Self {
            registry,
            cache: TtlCache::new(IDLE_TTL, MAX_TENANTS),
            clock,
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
        let now = self.clock.instant();
        if let Some(entry) = self.cache.get_kept(tenant, now, || tenant.to_owned())
            && entry.revisions == revisions
        {
            return Ok(entry.tools);
        }
        let integrations = self.registry.integrations(tenant).await?;
        let tools = Arc::new(ToolSet::build(integrations.iter().map(|s| s.def.as_ref()))?);
        // Key the entry by what was actually loaded, so a write between the two
        // reads is noticed on the next listing.
        let loaded: Vec<(String, u64)> = integrations
            .iter()
            .map(|s| (s.def.slug.clone(), s.revision))
            .collect();
        let entry = Entry {
            revisions: loaded,
            tools: tools.clone(),
        };
        self.cache.insert(tenant.to_owned(), entry, now);
        Ok(tools)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use waygate_core::clock::{ManualClock, SystemClock};
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
        let clock = ManualClock::new(std::time::UNIX_EPOCH);
        store
            .insert_integration("t", def("a", &["one", "two"]))
            .unwrap();
        let catalogs = Catalogs::new(Arc::new(StoreRegistry(store.clone())), clock.clone());
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
        // Listed every 40 minutes: kept; then idle an hour: built again.
        for _ in 0..3 {
            clock.advance(Duration::from_secs(40 * 60));
            assert!(Arc::ptr_eq(&changed, &catalogs.tools("t").await.unwrap()));
        }
        clock.advance(IDLE_TTL);
        assert!(!Arc::ptr_eq(&changed, &catalogs.tools("t").await.unwrap()));
    }

    #[tokio::test]
    async fn tool_sets_are_kept_for_a_bounded_number_of_tenants() {
        let store = Arc::new(MemoryStore::new());
        let catalogs = Catalogs::new(Arc::new(StoreRegistry(store)), Arc::new(SystemClock));
        for i in 0..3 * MAX_TENANTS {
            catalogs.tools(&format!("t{i}")).await.unwrap();
        }
        assert!(catalogs.cache.entry_count() <= MAX_TENANTS);
    }

    #[tokio::test]
    async fn a_name_collision_is_an_error_not_a_rename() {
        let store = Arc::new(MemoryStore::new());
        store
            .insert_integration("t", def("a", &["b c", "b_c"]))
            .unwrap();
        let catalogs = Catalogs::new(Arc::new(StoreRegistry(store)), Arc::new(SystemClock));
        let e = catalogs.tools("t").await.unwrap_err();
        assert_eq!(e.code(), "CONFIGURATION_ERROR");
        assert!(e.to_string().contains("a__b_c"), "{e}");
    }
}
