//! An in-memory cache in front of a [`ConnectionStore`]: an invocation finds
//! its connection, credential decrypted, without a database read.
//!
//! Writes through the cache, and [`CachedConnections::invalidate`] after a
//! write that went around it, take effect at once in this process; another
//! replica's write shows when the entry's time-to-live runs out. OAuth2 tokens
//! refreshed behind the cache are not missed: the resolver re-reads the stored
//! tokens whenever the cached ones are within the refresh buffer.
//!
//! Bounded like [`super::CachedIntegrations`]: connection names that do not
//! exist are remembered apart, within a byte budget.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::lookup_cache::{self, LookupCache};
use super::{ConnectionStore, StoreError};
use crate::clock::SharedClock;
use crate::credential::Connection;

/// Caches `connection` lookups of `S` for a TTL; writes pass through and invalidate.
pub struct CachedConnections<S> {
    inner: S,
    clock: SharedClock,
    /// (Tenant, "integration/name") → what was found, absence included; bounded.
    entries: LookupCache<Arc<Connection>>,
}

impl<S> fmt::Debug for CachedConnections<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedConnections")
            .field("ttl", &self.entries.ttl())
            .finish_non_exhaustive()
    }
}

/// One key per integration and connection: a slash cannot occur in a slug.
fn key(integration: &str, name: &str) -> String {
    format!("{integration}/{name}")
}

impl<S: ConnectionStore> CachedConnections<S> {
    /// Caches lookups of `inner` for `ttl`, timed by `clock`: up to 10,000
    /// connections, and 2 MiB (about 4,000) of names that were looked up and not
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

    /// Forgets one connection: after a write that did not go through this
    /// cache (a credential stored by the gateway's OAuth callback, for one).
    pub fn invalidate(&self, tenant: &str, integration: &str, name: &str) {
        self.entries.remove(tenant, &key(integration, name));
    }

    /// Forgets every connection of an integration (it was deleted: its
    /// connections went with it, and a new one of the same slug has none yet).
    pub fn invalidate_integration(&self, tenant: &str, integration: &str) {
        self.entries.remove_prefix(tenant, &key(integration, ""));
    }

    /// Forgets every connection of `tenant` (it was deleted).
    pub fn invalidate_tenant(&self, tenant: &str) {
        self.entries.remove_prefix(tenant, "");
    }
}

#[async_trait]
impl<S: ConnectionStore> ConnectionStore for CachedConnections<S> {
    async fn connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<Option<Arc<Connection>>, StoreError> {
        let now = self.clock.instant();
        let key = key(integration, name);
        if let Some(found) = self.entries.get(tenant, &key, now) {
            return Ok(found);
        }
        let found = self.inner.connection(tenant, integration, name).await?;
        self.entries.put(tenant, &key, now, found.clone());
        Ok(found)
    }

    async fn put_connection(
        &self,
        tenant: &str,
        integration: &str,
        connection: Connection,
    ) -> Result<(), StoreError> {
        let name = connection.name.clone();
        let result = self
            .inner
            .put_connection(tenant, integration, connection)
            .await;
        // Forget even on failure: the write may have happened before the error.
        self.invalidate(tenant, integration, &name);
        result
    }

    async fn delete_connection(
        &self,
        tenant: &str,
        integration: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .inner
            .delete_connection(tenant, integration, name)
            .await;
        self.invalidate(tenant, integration, name);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::clock::ManualClock;
    use crate::credential::Credential;
    use crate::storage::MemoryStore;

    #[derive(Default)]
    struct Counting {
        store: MemoryStore,
        lookups: AtomicUsize,
    }

    #[async_trait]
    impl ConnectionStore for Arc<Counting> {
        async fn connection(
            &self,
            tenant: &str,
            integration: &str,
            name: &str,
        ) -> Result<Option<Arc<Connection>>, StoreError> {
            self.lookups.fetch_add(1, Ordering::Relaxed);
            self.store.connection(tenant, integration, name).await
        }
        async fn put_connection(
            &self,
            tenant: &str,
            integration: &str,
            connection: Connection,
        ) -> Result<(), StoreError> {
            self.store
                .put_connection(tenant, integration, connection)
                .await
        }
        async fn delete_connection(
            &self,
            tenant: &str,
            integration: &str,
            name: &str,
        ) -> Result<bool, StoreError> {
            self.store
                .delete_connection(tenant, integration, name)
                .await
        }
    }

    fn token(found: Option<Arc<Connection>>) -> Option<String> {
        found.map(|c| c.credential.secrets().concat())
    }

    #[tokio::test]
    async fn serves_from_memory_until_a_write_an_invalidation_or_the_ttl() {
        let counting = Arc::new(Counting::default());
        let clock = ManualClock::new(std::time::SystemTime::UNIX_EPOCH);
        let cache = CachedConnections::new(counting.clone(), Duration::from_secs(2), clock.clone());
        let get = || cache.connection("t", "crm", "default");
        assert!(get().await.unwrap().is_none());
        assert!(get().await.unwrap().is_none(), "absence is cached too");
        assert_eq!(counting.lookups.load(Ordering::Relaxed), 1);

        let put = |t: &str| Connection::default_with(Credential::bearer(t));
        cache.put_connection("t", "crm", put("one")).await.unwrap();
        assert_eq!(token(get().await.unwrap()).unwrap(), "one");
        assert_eq!(counting.lookups.load(Ordering::Relaxed), 2);

        // Written around the cache: seen after `invalidate`, or after the TTL.
        counting
            .store
            .put_connection("t", "crm", put("two"))
            .await
            .unwrap();
        assert_eq!(token(get().await.unwrap()).unwrap(), "one");
        cache.invalidate("t", "crm", "default");
        assert_eq!(token(get().await.unwrap()).unwrap(), "two");
        counting
            .store
            .put_connection("t", "crm", put("three"))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(2));
        assert_eq!(token(get().await.unwrap()).unwrap(), "three");

        cache
            .delete_connection("t", "crm", "default")
            .await
            .unwrap();
        assert!(get().await.unwrap().is_none());
        assert!(
            cache
                .connection("u", "crm", "default")
                .await
                .unwrap()
                .is_none(),
            "tenants stay apart"
        );
    }
}
