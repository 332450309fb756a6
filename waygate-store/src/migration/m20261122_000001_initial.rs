//! The first schema: every table the gateway needs, including those later issues
//! fill (oauth_states, field_mappings, jobs, crawled_pages, health_checks).
//!
//! Conventions: ids are text (UUIDs) except for append-only logs; times are
//! BIGINT epoch milliseconds; JSON is TEXT (portable, and only read whole);
//! integers are BIGINT so both backends decode them as `i64`. `{ID}` and `{BLOB}`
//! stand for the backend's auto-increment key and byte-string types.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_initial"
    }
}

const STATEMENTS: &[&str] = &[
    "CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        created_at BIGINT NOT NULL
    )",
    "CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        digest {BLOB} NOT NULL,
        created_at BIGINT NOT NULL,
        last_used_at BIGINT,
        revoked_at BIGINT
    )",
    // Gateway authentication: one indexed lookup per request.
    "CREATE UNIQUE INDEX api_keys_digest ON api_keys (digest)",
    "CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at)",
    "CREATE TABLE integrations (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        slug TEXT NOT NULL,
        name TEXT NOT NULL,
        definition TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        version TEXT,
        revision BIGINT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (tenant_id, slug)
    )",
    "CREATE INDEX integrations_tenant_status ON integrations (tenant_id, status, slug)",
    "CREATE TABLE actions (
        integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        tenant_id TEXT NOT NULL,
        integration_slug TEXT NOT NULL,
        slug TEXT NOT NULL,
        name TEXT,
        description TEXT,
        action_group TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        search_text TEXT NOT NULL,
        PRIMARY KEY (integration_id, slug)
    )",
    "CREATE INDEX actions_tenant ON actions (tenant_id, integration_slug, slug)",
    "CREATE INDEX actions_group ON actions (integration_id, action_group)",
    "CREATE TABLE connections (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        base_url TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        health TEXT NOT NULL DEFAULT 'unknown',
        last_checked_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (tenant_id, integration_id, name)
    )",
    "CREATE INDEX connections_health ON connections (tenant_id, health)",
    "CREATE TABLE credentials (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        connection_id TEXT NOT NULL UNIQUE REFERENCES connections(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        key_id TEXT NOT NULL,
        nonce {BLOB} NOT NULL,
        ciphertext {BLOB} NOT NULL,
        expires_at BIGINT,
        scopes TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'active',
        refresh_failures BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    // The refresh sweep: active credentials expiring soonest.
    "CREATE INDEX credentials_expiry ON credentials (status, expires_at)",
    "CREATE INDEX credentials_key ON credentials (key_id)",
    "CREATE INDEX credentials_tenant ON credentials (tenant_id)",
    "CREATE TABLE oauth_states (
        state_digest {BLOB} PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        connection_name TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        key_id TEXT NOT NULL,
        nonce {BLOB} NOT NULL,
        ciphertext {BLOB} NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
    )",
    "CREATE INDEX oauth_states_expiry ON oauth_states (expires_at)",
    "CREATE TABLE field_mappings (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        connection_name TEXT NOT NULL DEFAULT '',
        action_slug TEXT NOT NULL,
        direction TEXT NOT NULL,
        mapping TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (tenant_id, integration_id, connection_name, action_slug, direction)
    )",
    // No foreign key to tenants: logs are written in batches off the hot path and
    // must not fail as a batch because one tenant was deleted meanwhile.
    "CREATE TABLE request_logs (
        id {ID},
        tenant_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        integration TEXT NOT NULL,
        action TEXT NOT NULL,
        connection TEXT,
        started_at BIGINT NOT NULL,
        duration_ms BIGINT NOT NULL,
        attempts BIGINT NOT NULL,
        upstream_status BIGINT,
        error_code TEXT,
        request TEXT,
        response TEXT
    )",
    "CREATE INDEX request_logs_tenant_time ON request_logs (tenant_id, started_at, id)",
    "CREATE INDEX request_logs_action_time ON request_logs (tenant_id, integration, action, started_at)",
    "CREATE INDEX request_logs_request ON request_logs (tenant_id, request_id)",
    "CREATE INDEX request_logs_time ON request_logs (started_at)",
    "CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        payload TEXT NOT NULL,
        progress TEXT,
        attempts BIGINT NOT NULL DEFAULT 0,
        max_attempts BIGINT NOT NULL DEFAULT 3,
        run_at BIGINT NOT NULL,
        locked_by TEXT,
        locked_until BIGINT,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    // Claiming the next due job.
    "CREATE INDEX jobs_due ON jobs (status, run_at)",
    "CREATE INDEX jobs_tenant ON jobs (tenant_id, kind, created_at)",
    "CREATE TABLE crawled_pages (
        id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        job_id TEXT REFERENCES jobs(id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        status_code BIGINT,
        content_hash TEXT,
        title TEXT,
        content TEXT,
        fetched_at BIGINT NOT NULL
    )",
    "CREATE INDEX crawled_pages_job ON crawled_pages (job_id, url)",
    "CREATE INDEX crawled_pages_url ON crawled_pages (tenant_id, url)",
    "CREATE TABLE health_checks (
        id {ID},
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        tier TEXT NOT NULL,
        status TEXT NOT NULL,
        latency_ms BIGINT,
        message TEXT,
        checked_at BIGINT NOT NULL
    )",
    "CREATE INDEX health_checks_connection ON health_checks (connection_id, checked_at)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (id, blob) = match manager.get_database_backend() {
            DbBackend::Postgres => (
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                "BYTEA",
            ),
            // An INTEGER PRIMARY KEY is SQLite's rowid: increasing, no extra index.
            _ => ("INTEGER PRIMARY KEY", "BLOB"),
        };
        let conn = manager.get_connection();
        for sql in STATEMENTS {
            let sql = sql.replace("{ID}", id).replace("{BLOB}", blob);
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
