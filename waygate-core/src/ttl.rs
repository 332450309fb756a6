//! The one bounded, expiring cache of the workspace: moka bounds its size, the
//! injected [`Clock`](crate::clock::Clock) decides what is fresh (decisions 90, 120).
//!
//! moka's own clock cannot be injected, so each value keeps the instant it was
//! stored, read from the caller's clock, and its lifetime; one older than its
//! lifetime is a miss. moka is given the same lifetime on its own clock only to
//! free the memory of entries nobody reads again: it never decides freshness.
//! Under a [`ManualClock`](crate::clock::ManualClock) that stands still,
//! entries stay fresh until moka's real-time expiry frees them (a miss, as
//! after an eviction).
//!
//! Every cache with a lifetime uses it: the storage resolve caches
//! ([`crate::storage::CachedIntegrations`], [`crate::storage::CachedConnections`]),
//! the executor's compiled integrations and schema validators, the in-memory
//! response cache ([`crate::pipeline::MemoryResponseCache`]), the OAuth2
//! client-credentials tokens, the gateway's API-key cache, the MCP tool
//! catalogs and the dashboard wizard's fetched documents.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;
use tokio::time::Instant;

/// Values by key, each trusted for a lifetime after the instant it was stored
/// at (the cache's own, or one given with the value), at most a bounded number
/// (or weight) of them. Eviction is moka's TinyLFU: a flood of one-off keys
/// does not push out the ones in use. No `Debug`: values may hold credentials.
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Cache<K, Stored<V>>,
}

/// A value, when it was stored and for how long it is trusted.
#[derive(Clone)]
struct Stored<V> {
    at: Instant,
    ttl: Duration,
    value: V,
}

impl<V> Stored<V> {
    /// Younger than its lifetime at `now` (a clock set back counts as age 0).
    fn fresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.at) < self.ttl
    }
}

/// moka frees an entry once its lifetime has passed on moka's clock; a
/// re-insert starts the lifetime again (moka's default keeps the old one).
struct Lifetime;

impl<K, V> moka::Expiry<K, Stored<V>> for Lifetime {
    fn expire_after_create(
        &self,
        _key: &K,
        stored: &Stored<V>,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(stored.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &K,
        stored: &Stored<V>,
        _updated_at: std::time::Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(stored.ttl)
    }
}

impl<K, V> TtlCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `max_entries` values, each fresh for `ttl` unless stored with
    /// its own lifetime ([`insert_for`](Self::insert_for)).
    pub fn new(ttl: Duration, max_entries: u64) -> Self {
        Self {
            ttl,
            entries: Cache::builder()
                .max_capacity(max_entries)
                .expire_after(Lifetime)
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
                .weigher(move |k, stored: &Stored<V>| weigher(k, &stored.value))
                .expire_after(Lifetime)
                .build(),
        }
    }

    /// How long a value is trusted unless stored with its own lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The value of `key` with the instant it was stored at, unless its
    /// lifetime had passed at `now` (a clock set back counts as age 0).
    pub fn get<Q>(&self, key: &Q, now: Instant) -> Option<(Instant, V)>
    where
        Q: Hash + moka::Equivalent<K> + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|stored| stored.fresh(now))
            .map(|stored| (stored.at, stored.value))
    }

    /// Like [`get`](Self::get), but a value found past half its lifetime is
    /// stored again as of `now` (under the key `owned` makes), so a value in
    /// use stays and one left idle for its lifetime goes: expiry by idleness,
    /// for values that never go stale themselves (compiled definitions
    /// checked against a revision).
    pub fn get_kept<Q>(&self, key: &Q, now: Instant, owned: impl FnOnce() -> K) -> Option<V>
    where
        Q: Hash + moka::Equivalent<K> + ?Sized,
    {
        let stored = self.entries.get(key).filter(|stored| stored.fresh(now))?;
        if now.saturating_duration_since(stored.at) >= stored.ttl / 2 {
            self.insert_for(owned(), stored.value.clone(), now, stored.ttl);
        }
        Some(stored.value)
    }

    /// Stores `value` for `key` as of `at` (usually the clock's now; earlier
    /// to keep a value's original age when it is written back changed).
    pub fn insert(&self, key: K, value: V, at: Instant) {
        self.insert_for(key, value, at, self.ttl);
    }

    /// Stores `value` for `key` as of `at`, trusted for `ttl` instead of the
    /// cache's lifetime: values whose lifetime is their own (a response kept
    /// as long as its action says, a token until it is due for renewal).
    pub fn insert_for(&self, key: K, value: V, at: Instant, ttl: Duration) {
        self.entries.insert(key, Stored { at, ttl, value });
    }

    /// The fresh value of `key`, else the one `make` returns, stored as of
    /// `now`. Concurrent callers for one key wait for a single `make` and take
    /// its value (single flight); an error is returned to the caller that ran
    /// it and nothing is stored.
    ///
    /// # Errors
    /// What `make` returns.
    pub fn get_or_try_insert_with<E>(
        &self,
        key: K,
        now: Instant,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        E: Send + Sync + 'static,
    {
        let ttl = self.ttl;
        let outcome = self.entries.entry(key).and_try_compute_with(|current| {
            if current.is_some_and(|entry| entry.value().fresh(now)) {
                return Ok(Op::Nop);
            }
            make().map(|value| {
                Op::Put(Stored {
                    at: now,
                    ttl,
                    value,
                })
            })
        })?;
        match outcome {
            CompResult::Inserted(entry)
            | CompResult::ReplacedWith(entry)
            | CompResult::Unchanged(entry) => Ok(entry.into_value().value),
            CompResult::StillNone(_) | CompResult::Removed(_) => {
                unreachable!("the closure above only keeps or puts")
            }
        }
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
        for (key, stored) in self.entries.iter() {
            if matches(&key, &stored.value) {
                self.entries.invalidate(key.as_ref());
            }
        }
    }

    /// Entries held, after moka's pending evictions ran (for tests of bounds
    /// and `Debug` output).
    pub fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// The weight held (the sum of the weigher's answers; the entry count for
    /// a cache built with [`new`](Self::new)), after pending evictions ran.
    pub fn weighted_size(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

/// A tenant and a key within it, owned (what tenant-scoped caches store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TenantKey {
    pub(crate) tenant: String,
    pub(crate) key: String,
}

impl TenantKey {
    /// The owned pair.
    pub(crate) fn new(tenant: &str, key: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            key: key.to_owned(),
        }
    }
}

/// The same pair borrowed, so that lookups allocate nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TenantKeyRef<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) key: &'a str,
}

// `TenantKey` and `TenantKeyRef` hash alike: moka finds the owned key by the borrowed one.
impl Hash for TenantKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        TenantKeyRef {
            tenant: &self.tenant,
            key: &self.key,
        }
        .hash(state);
    }
}

impl Hash for TenantKeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tenant.hash(state);
        self.key.hash(state);
    }
}

impl moka::Equivalent<TenantKey> for TenantKeyRef<'_> {
    fn equivalent(&self, key: &TenantKey) -> bool {
        self.tenant == key.tenant && self.key == key.key
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
        assert!(cache.entries.iter().all(|(_, s)| s.value % 2 == 1));
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
        assert!(cache.weighted_size() <= 1_000);
    }

    #[test]
    fn a_value_stored_with_its_own_lifetime_keeps_it() {
        let cache = TtlCache::new(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        cache.insert_for("short", 1, t0, Duration::from_secs(2));
        cache.insert("default", 2, t0);
        let at = |s| t0 + Duration::from_secs(s);
        assert_eq!(cache.get("short", at(1)), Some((t0, 1)));
        assert_eq!(cache.get("short", at(2)), None);
        assert_eq!(cache.get("default", at(59)), Some((t0, 2)));
        // A re-insert starts a new lifetime, of the new length.
        cache.insert_for("short", 3, at(10), Duration::from_secs(100));
        assert_eq!(cache.get("short", at(109)), Some((at(10), 3)));
    }

    #[test]
    fn a_value_in_use_is_kept_and_an_idle_one_goes() {
        let cache = TtlCache::new(Duration::from_secs(10), 10);
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        cache.insert("used", 1, t0);
        cache.insert("idle", 2, t0);
        for s in [4, 8, 12, 16, 20] {
            assert_eq!(
                cache.get_kept("used", at(s), || "used"),
                Some(1),
                "at {s} s"
            );
        }
        assert_eq!(cache.get_kept("idle", at(10), || "idle"), None);
        assert_eq!(
            cache.get_kept("used", at(29), || "used"),
            None,
            "idle 9+ s past 20 s"
        );
    }

    #[test]
    fn one_flight_fills_a_missing_or_stale_key() {
        let cache = TtlCache::new(Duration::from_secs(5), 10);
        let t0 = Instant::now();
        let made = std::sync::atomic::AtomicU32::new(0);
        let make = || {
            made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, String>(7)
        };
        assert_eq!(cache.get_or_try_insert_with("k", t0, make), Ok(7));
        assert_eq!(cache.get_or_try_insert_with("k", t0, make), Ok(7));
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
        let stale = t0 + Duration::from_secs(5);
        assert_eq!(cache.get_or_try_insert_with("k", stale, make), Ok(7));
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 2);
        let failed = cache.get_or_try_insert_with("e", t0, || Err::<i32, _>("no".to_owned()));
        assert_eq!(failed, Err("no".to_owned()));
        assert_eq!(cache.get("e", t0), None, "an error stores nothing");

        // Concurrent callers of one key wait for the one `make`.
        let cache = Arc::new(TtlCache::new(Duration::from_secs(5), 10));
        let made = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, made) = (cache.clone(), made.clone());
                std::thread::spawn(move || {
                    cache.get_or_try_insert_with("k", t0, || {
                        made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        Ok::<_, String>(1)
                    })
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(1));
        }
        assert_eq!(made.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
