//! The crawler's page cache (decision 73): per tenant and URL, the last
//! content fetched, its SHA-256, its content type and the validators a
//! conditional request sends back (`ETag`, `Last-Modified`). A re-scrape asks
//! with them and reuses the stored content on `304 Not Modified`. Each tenant
//! keeps at most a given number of pages ([`Store::prune_page_cache`]).

use std::time::SystemTime;

use crate::db::{self, get};
use crate::error::Result;
use crate::store::Store;
use crate::time::{from_ms, to_ms};

/// A cached page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    /// The canonical URL it was fetched from.
    pub url: String,
    /// SHA-256 of the content, hex.
    pub content_hash: String,
    /// The content as text.
    pub content: String,
    /// The content type it was served with.
    pub content_type: String,
    /// The `ETag` it was served with.
    pub etag: Option<String>,
    /// The `Last-Modified` it was served with.
    pub last_modified: Option<String>,
    /// When it was fetched (or confirmed unchanged).
    pub fetched_at: SystemTime,
}

impl Store {
    /// The tenant's cached page for `url`.
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn cached_page(&self, tenant: &str, url: &str) -> Result<Option<CachedPage>> {
        let Some(row) = db::one(
            self.db(),
            "reading a cached page",
            "SELECT url, content_hash, content, content_type, etag, last_modified, fetched_at
             FROM crawled_pages WHERE tenant_id = $1 AND url = $2",
            vec![tenant.into(), url.into()],
        )
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(CachedPage {
            url: get(&row, "url")?,
            content_hash: get::<Option<String>>(&row, "content_hash")?.unwrap_or_default(),
            content: get::<Option<String>>(&row, "content")?.unwrap_or_default(),
            content_type: get::<Option<String>>(&row, "content_type")?.unwrap_or_default(),
            etag: get(&row, "etag")?,
            last_modified: get(&row, "last_modified")?,
            fetched_at: from_ms(get(&row, "fetched_at")?),
        }))
    }

    /// Stores (or replaces) the tenant's cached page for `page.url`.
    ///
    /// # Errors
    /// `NotFound` for an unknown tenant; `Unavailable` on database failure.
    pub async fn put_cached_page(&self, tenant: &str, page: &CachedPage) -> Result<()> {
        db::exec(
            self.db(),
            "caching a page",
            "INSERT INTO crawled_pages (id, tenant_id, url, status_code, content_hash, content,
               content_type, etag, last_modified, fetched_at)
             VALUES ($1, $2, $3, 200, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (tenant_id, url) DO UPDATE SET content_hash = excluded.content_hash,
               content = excluded.content, content_type = excluded.content_type,
               etag = excluded.etag, last_modified = excluded.last_modified,
               fetched_at = excluded.fetched_at",
            vec![
                uuid::Uuid::now_v7().to_string().into(),
                tenant.into(),
                page.url.as_str().into(),
                page.content_hash.as_str().into(),
                page.content.as_str().into(),
                page.content_type.as_str().into(),
                page.etag.clone().into(),
                page.last_modified.clone().into(),
                to_ms(page.fetched_at).into(),
            ],
        )
        .await
        .map(drop)
    }

    /// Keeps the tenant's `keep` most recently fetched pages and deletes the
    /// rest; returns how many were deleted.
    ///
    /// # Errors
    /// `Unavailable` on database failure.
    pub async fn prune_page_cache(&self, tenant: &str, keep: u64) -> Result<u64> {
        db::exec(
            self.db(),
            "pruning the page cache",
            "DELETE FROM crawled_pages WHERE tenant_id = $1 AND fetched_at <= (
               SELECT fetched_at FROM crawled_pages WHERE tenant_id = $1
               ORDER BY fetched_at DESC LIMIT 1 OFFSET $2)",
            vec![
                tenant.into(),
                i64::try_from(keep).unwrap_or(i64::MAX).into(),
            ],
        )
        .await
    }
}
