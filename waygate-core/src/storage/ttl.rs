//! A per-tenant map whose entries expire: what the storage caches keep.
//!
//! Keys are nested per tenant so that lookups borrow `&str` and allocate
//! nothing; absence is stored like any value, so a flood of lookups for a
//! missing thing stays in memory too.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use tokio::time::Instant;

/// Tenant → key → (when stored, value).
type Entries<V> = HashMap<String, HashMap<String, (Instant, V)>>;

/// Values per tenant and key, each trusted for `ttl` after it was stored.
/// No `Debug`: values may hold credentials.
pub(super) struct TtlMap<V> {
    ttl: Duration,
    entries: RwLock<Entries<V>>,
}

impl<V: Clone> TtlMap<V> {
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::default(),
        }
    }

    pub(super) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The value stored for `key`, unless it is older than the TTL at `now`.
    pub(super) fn get(&self, tenant: &str, key: &str, now: Instant) -> Option<V> {
        let entries = self.entries.read().expect("cache lock poisoned");
        let (at, value) = entries.get(tenant)?.get(key)?;
        (now.duration_since(*at) < self.ttl).then(|| value.clone())
    }

    pub(super) fn put(&self, tenant: &str, key: &str, now: Instant, value: V) {
        let mut entries = self.entries.write().expect("cache lock poisoned");
        let of_tenant = entries.entry(tenant.to_owned()).or_default();
        of_tenant.insert(key.to_owned(), (now, value));
    }

    pub(super) fn remove(&self, tenant: &str, key: &str) {
        let mut entries = self.entries.write().expect("cache lock poisoned");
        if let Some(of_tenant) = entries.get_mut(tenant) {
            of_tenant.remove(key);
        }
    }

    /// Removes every key of `tenant` that starts with `prefix`.
    pub(super) fn remove_prefix(&self, tenant: &str, prefix: &str) {
        let mut entries = self.entries.write().expect("cache lock poisoned");
        if let Some(of_tenant) = entries.get_mut(tenant) {
            of_tenant.retain(|k, _| !k.starts_with(prefix));
        }
    }
}
