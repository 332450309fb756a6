//! The [`PageCache`] port (decision 73): pages fetched before, by canonical URL,
//! with their content hash and validators. The crawler asks with `If-None-Match`
//! / `If-Modified-Since` when it has them and reuses the cached content on `304`;
//! without validators it fetches and compares hashes. This crate defines the port
//! and counts what changed; the gateway stores pages per tenant (`waygate-store`).

use sha2::{Digest, Sha256};

/// A page as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    /// Its canonical URL.
    pub url: String,
    /// SHA-256 of the body, hex.
    pub content_hash: String,
    /// The body as text.
    pub body: String,
    /// The content type it was served with.
    pub content_type: String,
    /// Its `ETag`, when the server sent one.
    pub etag: Option<String>,
    /// Its `Last-Modified`, when the server sent one.
    pub last_modified: Option<String>,
    /// The cache vouches for it without asking the server: it was fetched by the
    /// interrupted run of the job this crawl resumes (decision 101).
    pub reusable: bool,
}

/// Where the crawler keeps pages between crawls.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// use waygate_discover::cache::{CachedPage, PageCache};
///
/// /// Pages kept in memory for one process.
/// #[derive(Default)]
/// struct InMemory(Mutex<HashMap<String, CachedPage>>);
///
/// #[async_trait::async_trait]
/// impl PageCache for InMemory {
///     async fn get(&self, url: &str) -> Option<CachedPage> {
///         self.0.lock().ok()?.get(url).cloned()
///     }
///     async fn put(&self, page: CachedPage) {
///         if let Ok(mut pages) = self.0.lock() {
///             pages.insert(page.url.clone(), page);
///         }
///     }
/// }
///
/// let mut options = waygate_discover::DiscoverOptions::new(vec![]);
/// options.cache = Some(std::sync::Arc::new(InMemory::default()));
/// ```
#[async_trait::async_trait]
pub trait PageCache: Send + Sync {
    /// The page cached for `url`, if any. A cache that fails answers `None`
    /// (the page is fetched as new).
    async fn get(&self, url: &str) -> Option<CachedPage>;
    /// Stores `page`, replacing what was cached for its URL.
    async fn put(&self, page: CachedPage);
}

/// What the cache saw over one crawl.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheReport {
    /// Pages not cached before.
    pub new: usize,
    /// Pages whose content changed.
    pub changed: usize,
    /// Pages the server answered `304 Not Modified` for (not transferred again).
    pub not_modified: usize,
    /// Pages fetched whole whose content hash was unchanged.
    pub same_hash: usize,
    /// Pages an interrupted run of the same job had fetched, used without a request.
    pub reused: usize,
}

/// SHA-256 of `body`, hex.
pub fn content_hash(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
