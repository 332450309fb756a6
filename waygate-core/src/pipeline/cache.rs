//! Step 4 (DESIGN.md §3): an action with `cache: {ttlSeconds}` answers a
//! repeated call from its last successful response, without a request.
//!
//! The key is a SHA-256 digest of everything the answer depends on: tenant,
//! integration and its stored revision, connection and its base URL, a digest of the
//! connection's credential (another account may see other data; a refreshed
//! OAuth2 token starts a new entry), the action and the input in canonical
//! JSON (`serde_json` maps keep their keys sorted). A key never holds a name
//! or a secret in clear, so a shared cache (Redis, say) can store it as is.
//!
//! Freshness is judged here, by the injected clock, for every
//! [`ResponseCache`]: an entry older than the action's TTL is a miss whatever
//! the cache still holds. The TTL handed to [`ResponseCache::put`] only lets a
//! cache free memory of entries nobody reads again.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::resolve::Target;
use crate::clock::{SharedClock, SystemClock};
use crate::credential::{ConnectionStatus, Credential};
use crate::ttl::TtlCache;

/// The digest a cached response is found by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// A key from its bytes (for caches that store keys elsewhere and read them back).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes (for caches that store keys elsewhere).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey(")?;
        self.0[..6].iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, "…)")
    }
}

/// A successful response as the cache keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedResponse {
    /// The response's data, as the call returned it.
    pub data: Arc<Value>,
    /// The upstream status it came with.
    pub upstream_status: Option<u16>,
    /// When it was stored, by the executor's clock.
    pub stored_at: SystemTime,
}

/// Where cached responses live: in this process by default
/// ([`MemoryResponseCache`]); an implementation over a shared store lets
/// replicas share them.
#[async_trait]
pub trait ResponseCache: Send + Sync + 'static {
    /// The response stored under `key`, if the cache still holds one.
    async fn get(&self, key: &CacheKey) -> Option<CachedResponse>;
    /// Stores a response; `ttl` is how long it can be of use.
    async fn put(&self, key: CacheKey, response: CachedResponse, ttl: Duration);
}

/// What [`InvocationMeta::cache`](crate::invocation::InvocationMeta::cache)
/// says for a call of a cacheable action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheMeta {
    /// Whether the data came from the cache.
    pub hit: bool,
    /// How old the cached data is (0 for a fresh response).
    #[serde(rename = "ageMs", serialize_with = "as_millis")]
    pub age: Duration,
    /// How long the action's responses are kept.
    #[serde(rename = "ttlMs", serialize_with = "as_millis")]
    pub ttl: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A call of a cacheable action: where its response is kept, and how long.
pub(crate) struct Cacheable {
    key: CacheKey,
    ttl: Duration,
}

/// A response served from the cache.
pub(crate) struct Hit {
    pub(crate) data: Value,
    pub(crate) upstream_status: Option<u16>,
    pub(crate) meta: CacheMeta,
}

impl Cacheable {
    /// The call's place in the cache, when its action is cacheable. A
    /// connection that needs re-authorisation gets nothing from the cache:
    /// the call fails as it would without one.
    pub(crate) fn of(tenant: &str, target: &Target, input: &Value) -> Option<Self> {
        let spec = target.action.def.cache?;
        if target.connection.status == ConnectionStatus::NeedsReauth {
            return None;
        }
        Some(Self {
            key: key(tenant, target, input)?,
            ttl: Duration::from_secs(spec.ttl_seconds),
        })
    }

    /// The stored response when it is younger than the TTL at `now`.
    #[tracing::instrument(name = "cache_lookup", level = "debug", skip_all)]
    pub(crate) async fn lookup(&self, cache: &dyn ResponseCache, now: SystemTime) -> Option<Hit> {
        let stored = cache.get(&self.key).await?;
        // A time in the future (a clock set back) counts as age 0.
        let age = now.duration_since(stored.stored_at).unwrap_or_default();
        if age >= self.ttl {
            return None;
        }
        Some(Hit {
            data: Arc::unwrap_or_clone(stored.data),
            upstream_status: stored.upstream_status,
            meta: CacheMeta {
                hit: true,
                age,
                ttl: self.ttl,
            },
        })
    }

    /// Keeps a fresh response; what the meta of this call says.
    #[tracing::instrument(name = "cache_store", level = "debug", skip_all)]
    pub(crate) async fn store(
        self,
        cache: &dyn ResponseCache,
        data: &Value,
        upstream_status: Option<u16>,
        now: SystemTime,
    ) -> CacheMeta {
        let response = CachedResponse {
            data: Arc::new(data.clone()),
            upstream_status,
            stored_at: now,
        };
        cache.put(self.key, response, self.ttl).await;
        CacheMeta {
            hit: false,
            age: Duration::ZERO,
            ttl: self.ttl,
        }
    }
}

/// The key of one call: `None` for an input that cannot be written as JSON
/// (it then skips the cache).
fn key(tenant: &str, target: &Target, input: &Value) -> Option<CacheKey> {
    let mut digest = Sha256::new();
    let integration = &target.integration;
    for part in [
        tenant,
        &integration.def.slug,
        &target.connection.name,
        target.connection.base_url.as_deref().unwrap_or(""),
        &target.action.def.slug,
    ] {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part.as_bytes());
    }
    digest.update(integration.revision.to_le_bytes());
    digest.update(credential_digest(&target.connection.credential));
    digest.update(serde_json::to_vec(input).ok()?);
    Some(CacheKey(digest.finalize().into()))
}

/// A digest of the credential's stored form: equal for the same account and
/// token, different otherwise. Nothing of the secret survives in it.
fn credential_digest(credential: &Credential) -> [u8; 32] {
    Sha256::digest(credential.to_vault_json().as_bytes()).into()
}

/// Largest response kept, so a few huge answers cannot push out the rest.
const MAX_ENTRY_BYTES: u64 = 1024 * 1024;

/// What an entry costs besides its data: the key, the `Arc`, moka's bookkeeping.
const ENTRY_OVERHEAD: u64 = 256;

/// The lifetime the cache would give an entry stored without one; every
/// entry here is stored with its action's TTL, so this is never used.
const NO_DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// One stored response and its weight.
#[derive(Clone)]
struct Entry {
    weight: u32,
    response: CachedResponse,
}

/// Responses in this process, bounded by memory: each entry weighs about its
/// data's size as JSON text, and the least useful go first (moka's TinyLFU).
/// A [`TtlCache`]: each response is trusted for the TTL it was put with, by
/// the clock the cache was given (the executor's, when the executor makes it).
pub struct MemoryResponseCache {
    entries: TtlCache<CacheKey, Entry>,
    clock: SharedClock,
    max_entry: u64,
}

impl MemoryResponseCache {
    /// A cache holding about `max_bytes` of responses (64 MiB by default) on
    /// the system clock; a response larger than 1 MiB, or than an eighth of
    /// the budget, is not kept.
    pub fn new(max_bytes: u64) -> Self {
        Self::with_clock(max_bytes, Arc::new(SystemClock))
    }

    /// The same, with entries timed by `clock` (give it the executor's).
    pub fn with_clock(max_bytes: u64, clock: SharedClock) -> Self {
        Self {
            entries: TtlCache::weighed(NO_DEFAULT_TTL, max_bytes, |_, entry: &Entry| entry.weight),
            clock,
            max_entry: MAX_ENTRY_BYTES.min(max_bytes / 8),
        }
    }
}

impl Default for MemoryResponseCache {
    fn default() -> Self {
        Self::new(DEFAULT_RESPONSE_CACHE_BYTES)
    }
}

/// The memory a [`MemoryResponseCache`] made by default holds at most.
pub(crate) const DEFAULT_RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl fmt::Debug for MemoryResponseCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryResponseCache")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .finish()
    }
}

#[async_trait]
impl ResponseCache for MemoryResponseCache {
    async fn get(&self, key: &CacheKey) -> Option<CachedResponse> {
        let (_, entry) = self.entries.get(key, self.clock.instant())?;
        Some(entry.response)
    }

    async fn put(&self, key: CacheKey, response: CachedResponse, ttl: Duration) {
        let weight = crate::limits::json_text_size(&response.data)
            .bytes
            .saturating_add(ENTRY_OVERHEAD);
        if weight > self.max_entry {
            return;
        }
        let weight = u32::try_from(weight).unwrap_or(u32::MAX);
        let entry = Entry { weight, response };
        self.entries
            .insert_for(key, entry, self.clock.instant(), ttl);
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use serde_json::json;

    use super::*;
    use crate::clock::ManualClock;

    fn response(data: Value) -> CachedResponse {
        CachedResponse {
            data: Arc::new(data),
            upstream_status: Some(200),
            stored_at: UNIX_EPOCH,
        }
    }

    #[tokio::test]
    async fn memory_entries_expire_by_the_given_clock_and_their_own_ttl() {
        let clock = ManualClock::new(UNIX_EPOCH);
        let cache = MemoryResponseCache::with_clock(1024 * 1024, clock.clone());
        let (short, long) = (CacheKey([1; 32]), CacheKey([2; 32]));
        cache
            .put(short, response(json!(1)), Duration::from_secs(10))
            .await;
        cache
            .put(long, response(json!(2)), Duration::from_secs(60))
            .await;
        clock.advance(Duration::from_secs(9));
        assert!(cache.get(&short).await.is_some());
        clock.advance(Duration::from_secs(1));
        assert_eq!(cache.get(&short).await, None, "10 s on the manual clock");
        assert_eq!(cache.get(&long).await, Some(response(json!(2))));
        clock.advance(Duration::from_secs(50));
        assert_eq!(cache.get(&long).await, None);
    }

    #[tokio::test]
    async fn memory_is_bounded_by_bytes() {
        let clock = ManualClock::new(UNIX_EPOCH);
        let cache = MemoryResponseCache::with_clock(64 * 1024, clock);
        let big = json!("x".repeat(1_000));
        for i in 0..1_000u32 {
            let mut key = [0; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            cache
                .put(
                    CacheKey(key),
                    response(big.clone()),
                    Duration::from_secs(60),
                )
                .await;
        }
        assert!(cache.entries.weighted_size() <= 64 * 1024);
        assert!(cache.entries.entry_count() < 1_000 / 10);
        // Larger than an eighth of the budget: not kept at all.
        let huge = CacheKey([9; 32]);
        cache
            .put(
                huge,
                response(json!("y".repeat(9_000))),
                Duration::from_secs(60),
            )
            .await;
        assert_eq!(cache.get(&huge).await, None);
    }
}
