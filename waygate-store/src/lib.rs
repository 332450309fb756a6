//! # waygate-store
//!
//! SQL storage for Waygate: SQLite by default (one file, nothing to run), and
//! PostgreSQL when several gateway replicas share one system of record. The same
//! schema, the same SQL text and the same test suite run on both.
//!
//! [`Store`] implements the engine's ports
//! ([`IntegrationStore`](waygate_core::storage::IntegrationStore),
//! [`ConnectionStore`](waygate_core::storage::ConnectionStore)) and the
//! [`LogSink`](waygate_core::pipeline::LogSink) (through [`SqlLogSink`]), and adds
//! what the gateway needs: tenants, API keys, action search, the credential
//! vault and refresh locks. Every function that touches tenant data takes the
//! tenant id. No sea-orm type appears in this crate's public API.
//!
//! ```no_run
//! # async fn run() -> Result<(), waygate_store::Error> {
//! use waygate_store::Store;
//!
//! let store = Store::open("sqlite://data/waygate.db").await?; // migrates too
//! // The key from WAYGATE_MASTER_KEY or data/master.key (finishing an interrupted rotation).
//! store.unlock(std::path::Path::new("data")).await?;
//! store.create_tenant("acme", "Acme Corp").await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - `store` — [`Store::open`] for `sqlite://` and `postgres://`, migration at open, the keyring.
//! - `migration` — forward-only schema migrations (sea-orm-migration).
//! - `db` — running one SQL text on either backend (`$n` placeholders).
//! - `integrations` — the `IntegrationStore` port; action rows and listing.
//! - `catalog` — integrations as listed: status, tags, action count, by id or slug.
//! - `connection_info` — connections as listed, without their credential.
//! - `server_secrets` — the API key pepper, sealed by the vault, shared by replicas.
//! - `connections` — the `ConnectionStore` port; credentials through the vault.
//! - `mappings` — a connection's own field mappings per action (`field_mappings`).
//! - `search` — the action search index (FTS5 / tsvector) and ranked queries.
//! - `vault` — [`MasterKey`] and AES-256-GCM envelopes bound to their row.
//! - `keyfile` — `master.key` and `master.key.next`, written durably and atomically.
//! - `rotation` — crash-safe master key rotation; [`Store::unlock`] at start.
//! - `tags` — the tenant's tags with integration counts; renaming one everywhere in one transaction.
//! - `tenants` — tenants and gateway API keys (HMAC-SHA-256 digests).
//! - `sessions` — dashboard sessions: token digests, expiry, ended by sign-out or key revocation.
//! - `locks` — non-blocking refresh locks: advisory on PostgreSQL, leases on SQLite.
//! - `log_stats` — per-action counts, error rates and latency percentiles from the logs,
//!   and calls and p95 latency per time bucket.
//! - `tokens` — core's OAuth2 `TokenStore` port: load, lock, save refreshed tokens, status, sweep list.
//! - `oauth_states` — pending authorizations: single-use, expiring `state`s with sealed PKCE verifiers.
//! - `scrape_jobs` — scrape jobs: per-tenant limit at creation, leases, compare-and-set transitions.
//! - `page_cache` — the crawler's pages per tenant and URL: content hash and validators.
//! - `logs` — [`SqlLogSink`] (batched, off the hot path), listing, retention.
//! - `error` — [`Error`] with a backend-neutral [`ErrorKind`].
//! - `time` — times as epoch milliseconds.

mod catalog;
mod connection_info;
mod connections;
mod db;
mod error;
mod integrations;
mod keyfile;
mod locks;
mod log_stats;
mod logs;
mod mappings;
mod migration;
mod oauth_states;
mod page_cache;
mod rotation;
mod scrape_jobs;
mod search;
mod server_secrets;
mod sessions;
mod store;
mod tags;
mod tenants;
mod time;
mod tokens;
mod vault;

pub use catalog::{INTEGRATION_STATUSES, IntegrationPage, IntegrationQuery, IntegrationSummary};
pub use connection_info::ConnectionInfo;
pub use error::{Error, ErrorKind, Result};
pub use integrations::ActionSummary;
pub use keyfile::MASTER_KEY_NEXT_FILE;
pub use locks::RefreshLock;
pub use log_stats::{ActionStats, LogBucket};
pub use logs::{LogOutcome, LogPage, LogQuery, LogRecord, LogSinkOptions, SqlLogSink};
pub use oauth_states::{OAuthClient, PendingAuthorization, StateOutcome};
pub use page_cache::CachedPage;
pub use scrape_jobs::{JobOutcome, JobStatus, ScrapeJob, TakenJob};
pub use search::{ActionPage, ActionQuery};
pub use sessions::SessionInfo;
pub use store::{Backend, Store};
pub use tags::TagCount;
pub use tenants::{API_KEY_PREFIX, ApiKeyInfo, ApiKeyPepper, IssuedApiKey, TenantInfo};
pub use vault::{KeySource, MASTER_KEY_ENV, MASTER_KEY_FILE, MasterKey};
