//! Scrape jobs and the page cache put the first schema's `jobs` and
//! `crawled_pages` tables to use (decision 72):
//!
//! - `jobs.result`: a finished scrape's draft (bounded by the server), beside
//!   `payload` (the request), `progress` and `last_error`; `locked_by` and
//!   `locked_until` are the running process's lease.
//! - `crawled_pages` becomes the per-tenant page cache: one row per (tenant, URL)
//!   with the validators a conditional request sends back (`etag`,
//!   `last_modified`) and the content type; the old non-unique index gives way
//!   to a unique one (no code wrote the table before this migration).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_scrape_jobs"
    }
}

const STATEMENTS: &[&str] = &[
    "ALTER TABLE jobs ADD COLUMN result TEXT",
    "ALTER TABLE crawled_pages ADD COLUMN etag TEXT",
    "ALTER TABLE crawled_pages ADD COLUMN last_modified TEXT",
    "ALTER TABLE crawled_pages ADD COLUMN content_type TEXT",
    "DROP INDEX crawled_pages_url",
    "CREATE UNIQUE INDEX crawled_pages_url ON crawled_pages (tenant_id, url)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in STATEMENTS {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
