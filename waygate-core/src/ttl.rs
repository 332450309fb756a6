//! The one bounded, expiring cache of the workspace: moka bounds its size, the
//! injected [`Clock`](crate::clock::Clock) decides what is fresh (decision 90).
//!
//! moka's own clock cannot be injected, so each value keeps the instant it was
//! stored, read from the caller's clock, and one older than the TTL is a miss.
//! moka is given the same TTL on its own clock only to free the memory of
//! entries nobody reads again: it never decides freshness. Under a
//! [`ManualClock`](crate::clock::ManualClock) that stands still, entries stay
//! fresh until moka's real-time TTL frees them (a miss, as after an eviction).
//!
//! Used by the storage resolve caches ([`crate::storage::CachedIntegrations`],
//! [`crate::storage::CachedConnections`]) and the gateway's API-key cache.

use std::hash::Hash;
use std::time::Duration;

use moka::sync::Cache;
use tokio::time::Instant;

/// Values by key, each trusted for `ttl` after the instant it was stored at,
/// at most a bounded number (or weight) of them. Eviction is moka's TinyLFU: a
/// flood of one-off keys does not push out the ones in use. No `Debug`: values
/// may hold credentials.
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Cache<K, (Instant, V)>,
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `max_entries` values, each fresh for `ttl`.
    pub fn new(ttl: Duration, max_entries: u64) -> Self {
        Self {
            ttl,
            entries: Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// At most `max_weight` in all, as `weigher` weighs each key and value
    /// (bytes, say, when keys come from requests and vary in size).
    pub fn weighed(
        ttl: Duration,
        max_weight: u64,
        weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static,
    ) -> Self {
        Self {
            ttl,
            entries: Cache::builder()
                .max_capacity(max_weight)
                .weigher(move |k, (_, v): &(Instant, V)| weigher(k, v))
                .time_to_live(ttl)
                .build(),
        }
    }

    /// How long a value is trusted.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The value of `key` with the instant it was stored at, unless that is
    /// `ttl` or more before `now` (a clock set back counts as age 0).
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Option<(Instant, V)>
    where
        Q: Hash + moka::Equivalent<K> + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
    }

    /// Stores `value` for `key` as of `at` (usually the clock's now; earlier
    /// to keep a value's original age when it is written back changed).
    pub fn insert(&self, key: K, value: V, at: Instant) {
        self.entries.insert(key, (at, value));
    }

    /// Forgets `key`.
    pub fn remove<Q>(&self, key: &Q)
    where
        Q: Hash + moka::Equivalent<K> + ?Sized,
    {
        self.entries.invalidate(key);
    }

    /// Forgets every key `matches` selects, now. Walks the cache (bounded): for
    /// rare writes (an integration deleted, a tenant's keys revoked).
    pub fn remove_where(&self, matches: impl Fn(&K, &V) -> bool) {
        for (key, (_, value)) in self.entries.iter() {
            if matches(&key, &value) {
                self.entries.invalidate(key.as_ref());
            }
        }
    }

    /// Entries held, after moka's pending evictions ran (for tests of bounds).
    pub fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_is_the_callers_clock_and_size_is_bounded() {
        let cache = TtlCache::new(Duration::from_secs(5), 50);
        let t0 = Instant::now();
        cache.insert("k".to_owned(), 1, t0);
        assert_eq!(cache.get("k", t0 + Duration::from_secs(4)), Some((t0, 1)));
        assert_eq!(cache.get("k", t0 + Duration::from_secs(5)), None);
        assert_eq!(cache.get("k", t0), Some((t0, 1)), "expired only by age");
        cache.remove("k");
        assert_eq!(cache.get("k", t0), None);

        for i in 0..5_000 {
            cache.insert(format!("k{i}"), i, t0);
        }
        assert!(cache.entry_count() <= 50, "{} kept", cache.entry_count());
        cache.remove_where(|_, v| v % 2 == 0);
        assert!(cache.entries.iter().all(|(_, (_, v))| v % 2 == 1));
    }

    #[test]
    fn a_weighed_cache_holds_its_weight() {
        let cache = TtlCache::weighed(Duration::from_secs(60), 1_000, |k: &String, _: &()| {
            u32::try_from(k.len()).unwrap_or(u32::MAX)
        });
        let t0 = Instant::now();
        for i in 0..10_000 {
            cache.insert(format!("{i:0>100}"), (), t0);
        }
        assert!(cache.entry_count() <= 10, "{} kept", cache.entry_count());
    }
}
