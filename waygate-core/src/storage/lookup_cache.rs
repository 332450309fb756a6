//! The cache behind the storage caches ([`super::CachedIntegrations`],
//! [`super::CachedConnections`]): lookups by tenant and name, absence included.
//!
//! Two [`TtlCache`]s per use: what was found, bounded by entries, and what was
//! looked up and not found, bounded by the bytes of its names. Names come from
//! requests, so a flood of made-up ones must neither grow memory nor push out
//! the entries in use: misses live in their own cache, and moka's TinyLFU
//! admission keeps a one-off name from evicting a popular one there too.
//! Expiry reads the injected clock ([`crate::ttl`]).

use std::time::Duration;

use tokio::time::Instant;

use crate::ttl::{TenantKey as Key, TenantKeyRef as KeyRef, TtlCache};

/// Found values kept at most (per cache): the things that exist and are used.
pub(super) const FOUND_ENTRIES: u64 = 10_000;

/// Memory for lookups that found nothing, per cache: names plus
/// [`MISS_OVERHEAD`] each, about 4,000 short names.
pub(super) const MISSING_BYTES: u64 = 2 * 1024 * 1024;

/// What one remembered miss costs besides its names, counted generously
/// from moka 0.12's layout: the key's `Arc` and two `String`s, the table
/// bucket, the value entry and its bookkeeping, a node in the access-order
/// and in the write-order queue.
const MISS_OVERHEAD: usize = 512;

/// Values per tenant and key, each trusted for `ttl` after it was stored;
/// absence is remembered too (bounded apart). No `Debug`: values may hold
/// credentials.
pub(super) struct LookupCache<V> {
    found: TtlCache<Key, V>,
    missing: TtlCache<Key, ()>,
}

impl<V: Clone + Send + Sync + 'static> LookupCache<V> {
    /// At most `found` values and `missing_bytes` of remembered misses.
    pub(super) fn new(ttl: Duration, found: u64, missing_bytes: u64) -> Self {
        Self {
            found: TtlCache::new(ttl, found),
            missing: TtlCache::weighed(ttl, missing_bytes, |k: &Key, ()| {
                u32::try_from(k.tenant.len() + k.key.len() + MISS_OVERHEAD).unwrap_or(u32::MAX)
            }),
        }
    }

    pub(super) fn ttl(&self) -> Duration {
        self.found.ttl()
    }

    /// What was stored for `key` unless older than the TTL at `now`: `Some(None)`
    /// for a remembered absence, `None` when the store must be asked.
    pub(super) fn get(&self, tenant: &str, key: &str, now: Instant) -> Option<Option<V>> {
        let k = KeyRef { tenant, key };
        if let Some((_, value)) = self.found.get(&k, now) {
            return Some(Some(value));
        }
        self.missing.get(&k, now).map(|_| None)
    }

    /// Remembers what the store answered for `key` at `now`.
    pub(super) fn put(&self, tenant: &str, key: &str, now: Instant, value: Option<V>) {
        let owned = Key::new(tenant, key);
        let k = KeyRef { tenant, key };
        match value {
            Some(v) => {
                self.missing.remove(&k);
                self.found.insert(owned, v, now);
            }
            None => {
                self.found.remove(&k);
                self.missing.insert(owned, (), now);
            }
        }
    }

    pub(super) fn remove(&self, tenant: &str, key: &str) {
        let k = KeyRef { tenant, key };
        self.found.remove(&k);
        self.missing.remove(&k);
    }

    /// Removes every key of `tenant` that starts with `prefix` (rare writes:
    /// an integration deleted).
    pub(super) fn remove_prefix(&self, tenant: &str, prefix: &str) {
        let matches = |k: &Key| k.tenant == tenant && k.key.starts_with(prefix);
        self.found.remove_where(|k, _| matches(k));
        self.missing.remove_where(|k, ()| matches(k));
    }

    /// Entries held now, found and missing (after pending evictions ran).
    #[cfg(test)]
    pub(super) fn len(&self) -> (u64, u64) {
        (self.found.entry_count(), self.missing.entry_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_are_bounded_by_bytes_and_never_push_out_what_was_found() {
        let cache = LookupCache::new(Duration::from_secs(60), 100, 64 * 1024);
        let now = Instant::now();
        cache.put("t", "real", now, Some(1u32));
        for i in 0..50_000 {
            let name = format!("guess-{i}");
            assert_eq!(cache.get("t", &name, now), None);
            cache.put("t", &name, now, None);
        }
        let (found, missing) = cache.len();
        assert_eq!(found, 1);
        let per_miss = MISS_OVERHEAD as u64 + "t".len() as u64 + "guess-0".len() as u64;
        assert!(
            missing <= 64 * 1024 / per_miss,
            "{missing} misses kept, over the byte bound"
        );
        assert_eq!(cache.get("t", "real", now), Some(Some(1)));
    }

    #[test]
    fn found_values_are_bounded_by_count() {
        let cache = LookupCache::new(Duration::from_secs(60), 50, 1024);
        let now = Instant::now();
        for i in 0..5_000 {
            cache.put("t", &format!("i{i}"), now, Some(i));
        }
        let (found, _) = cache.len();
        assert!(found <= 50, "{found} kept");
    }

    #[test]
    fn entries_expire_by_the_injected_clock_and_prefixes_go_together() {
        let cache = LookupCache::new(Duration::from_secs(5), 100, 64 * 1024);
        let t0 = Instant::now();
        cache.put("t", "crm/default", t0, Some("a"));
        cache.put("t", "crm/other", t0, None);
        cache.put("u", "crm/default", t0, Some("u"));
        cache.put("t", "crmx/default", t0, Some("x"));
        let t4 = t0 + Duration::from_secs(4);
        assert_eq!(cache.get("t", "crm/default", t4), Some(Some("a")));
        assert_eq!(cache.get("t", "crm/other", t4), Some(None));
        let t5 = t0 + Duration::from_secs(5);
        assert_eq!(cache.get("t", "crm/default", t5), None, "expired");
        assert_eq!(cache.get("t", "crm/other", t5), None, "expired");

        cache.put("t", "crm/default", t5, Some("b"));
        cache.put("t", "crm/other", t5, None);
        cache.remove_prefix("t", "crm/");
        assert_eq!(cache.get("t", "crm/default", t5), None);
        assert_eq!(cache.get("t", "crm/other", t5), None);
        assert_eq!(cache.get("u", "crm/default", t0), Some(Some("u")));
        assert_eq!(cache.get("t", "crmx/default", t0), Some(Some("x")));

        cache.put("t", "k", t5, None);
        cache.put("t", "k", t5, Some("now found"));
        assert_eq!(cache.get("t", "k", t5), Some(Some("now found")));
        cache.put("t", "k", t5, None);
        assert_eq!(
            cache.get("t", "k", t5),
            Some(None),
            "absence replaces a value"
        );
        cache.remove("t", "k");
        assert_eq!(cache.get("t", "k", t5), None);
    }
}
