//! An in-memory cache in front of an [`IntegrationStore`], for the invocation
//! hot path: a resolve is a map lookup instead of a database round trip.
//!
//! Writes through the cache invalidate its entry at once. Writes by other
//! processes (replicas sharing PostgreSQL) become visible when the entry's
//! time-to-live runs out, so `ttl` bounds how stale another replica's change
//! can look.
//!
//! The cache is bounded (`lookup_cache.rs`): slugs that do not exist are remembered
//! apart from the integrations found, within a byte budget, so a flood of
//! made-up slugs neither grows memory nor evicts what is in use.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use super::lookup_cache::{self, LookupCache};
use super::{IntegrationStore, StoreError, StoredIntegration};
use crate::clock::SharedClock;
use crate::model::IntegrationDef;

/// Caches `integration` lookups of `S` for `ttl`; other calls pass through.
pub struct CachedIntegrations<S> {
    inner: S,
    clock: SharedClock,
    /// (Tenant, slug) → what was found, absence included; bounded.
    entries: LookupCache<StoredIntegration>,
}

impl<S> fmt::Debug for CachedIntegrations<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedIntegrations")
            .field("ttl", &self.entries.ttl())
            .finish_non_exhaustive()
    }
}

impl<S: IntegrationStore> CachedIntegrations<S> {
    /// Caches lookups of `inner` for `ttl`, timed by `clock`: up to 10,000
    /// integrations, and 2 MiB (about 4,000) of slugs that were looked up and not
    /// found.
    pub fn new(inner: S, ttl: Duration, clock: SharedClock) -> Self {
        Self {
            inner,
            clock,
            entries: LookupCache::new(
                ttl,
                lookup_cache::FOUND_ENTRIES,
                lookup_cache::MISSING_BYTES,
            ),
        }
    }

    /// Forgets what is cached for one integration: after a write that did not
    /// go through this cache (the gateway's status change, for one).
    pub fn invalidate(&self, tenant: &str, slug: &str) {
        self.entries.remove(tenant, slug);
    }

    /// Forgets every integration of `tenant` (it was deleted).
    pub fn invalidate_tenant(&self, tenant: &str) {
        self.entries.remove_prefix(tenant, "");
    }
}

#[async_trait]
impl<S: IntegrationStore> IntegrationStore for CachedIntegrations<S> {
    async fn integration(
        &self,
        tenant: &str,
        slug: &str,
    ) -> Result<Option<StoredIntegration>, StoreError> {
        let now = self.clock.instant();
        if let Some(found) = self.entries.get(tenant, slug, now) {
            return Ok(found);
        }
        let found = self.inner.integration(tenant, slug).await?;
        self.entries.put(tenant, slug, now, found.clone());
        Ok(found)
    }

    async fn put_integration(
        &self,
        tenant: &str,
        def: IntegrationDef,
    ) -> Result<StoredIntegration, StoreError> {
        let slug = def.slug.clone();
        let result = self.inner.put_integration(tenant, def).await;
        // Forget even on failure: the write may have happened before the error.
        self.invalidate(tenant, &slug);
        result
    }

    async fn list_integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError> {
        self.inner.list_integrations(tenant).await
    }

    async fn delete_integration(&self, tenant: &str, slug: &str) -> Result<bool, StoreError> {
        let result = self.inner.delete_integration(tenant, slug).await;
        self.invalidate(tenant, slug);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::clock::ManualClock;
    use crate::storage::MemoryStore;

    /// A store that counts the lookups reaching it.
    #[derive(Default)]
    struct Counting {
        store: MemoryStore,
        lookups: AtomicUsize,
    }

    #[async_trait]
    impl IntegrationStore for Arc<Counting> {
        async fn integration(
            &self,
            tenant: &str,
            slug: &str,
        ) -> Result<Option<StoredIntegration>, StoreError> {
            self.lookups.fetch_add(1, Ordering::Relaxed);
            self.store.integration(tenant, slug).await
        }
        async fn put_integration(
            &self,
            tenant: &str,
            def: IntegrationDef,
        ) -> Result<StoredIntegration, StoreError> {
            self.store.put_integration(tenant, def).await
        }
        async fn list_integrations(
            &self,
            tenant: &str,
        ) -> Result<Vec<StoredIntegration>, StoreError> {
            self.store.list_integrations(tenant).await
        }
        async fn delete_integration(&self, tenant: &str, slug: &str) -> Result<bool, StoreError> {
            self.store.delete_integration(tenant, slug).await
        }
    }

    /// The name of tenant `t`'s `crm` integration, as the cache answers.
    async fn name(cache: &CachedIntegrations<Arc<Counting>>) -> Option<String> {
        let found = cache.integration("t", "crm").await.unwrap();
        found.map(|s| s.def.name.clone())
    }

    #[tokio::test]
    async fn serves_from_memory_until_a_write_or_the_ttl() {
        let counting = Arc::new(Counting::default());
        let clock = ManualClock::new(std::time::SystemTime::UNIX_EPOCH);
        let cache =
            CachedIntegrations::new(counting.clone(), Duration::from_secs(2), clock.clone());
        assert!(cache.integration("t", "crm").await.unwrap().is_none());
        assert!(
            cache.integration("t", "crm").await.unwrap().is_none(),
            "absence is cached too"
        );
        assert_eq!(counting.lookups.load(Ordering::Relaxed), 1);

        cache
            .put_integration("t", IntegrationDef::new("crm", "CRM"))
            .await
            .unwrap();
        assert_eq!(name(&cache).await.unwrap(), "CRM");
        assert_eq!(
            counting.lookups.load(Ordering::Relaxed),
            2,
            "a write through the cache invalidates"
        );

        // Another replica writes behind the cache's back: visible after the TTL.
        counting
            .store
            .put_integration("t", IntegrationDef::new("crm", "CRM v2"))
            .await
            .unwrap();
        assert_eq!(name(&cache).await.unwrap(), "CRM");
        clock.advance(Duration::from_secs(2));
        assert_eq!(name(&cache).await.unwrap(), "CRM v2");

        cache.delete_integration("t", "crm").await.unwrap();
        assert!(cache.integration("t", "crm").await.unwrap().is_none());
        assert!(
            cache.integration("u", "crm").await.unwrap().is_none(),
            "tenants stay apart"
        );
    }

    #[tokio::test]
    async fn a_flood_of_unknown_slugs_is_bounded_and_keeps_what_is_used() {
        let counting = Arc::new(Counting::default());
        let clock = ManualClock::new(std::time::SystemTime::UNIX_EPOCH);
        let cache = CachedIntegrations::new(counting.clone(), Duration::from_secs(60), clock);
        cache
            .put_integration("t", IntegrationDef::new("crm", "CRM"))
            .await
            .unwrap();
        assert_eq!(name(&cache).await.unwrap(), "CRM");
        for i in 0..30_000 {
            let slug = format!("guess-{i:05}");
            assert!(cache.integration("t", &slug).await.unwrap().is_none());
        }
        let lookups = counting.lookups.load(Ordering::Relaxed);
        assert_eq!(name(&cache).await.unwrap(), "CRM");
        assert_eq!(
            counting.lookups.load(Ordering::Relaxed),
            lookups,
            "the integration in use is still served from memory"
        );
        let (found, missing) = cache.entries.len();
        assert_eq!(found, 1);
        let per_miss = ("t".len() + "guess-00000".len() + 512) as u64;
        assert!(
            missing <= lookup_cache::MISSING_BYTES / per_miss,
            "{missing} misses kept"
        );
    }
}
