//! Dashboard sessions (decision 80): one row per signed-in browser.
//!
//! Only the HMAC digest of the session token is stored (the token lives in the
//! browser's HttpOnly cookie), with the tenant and the API key the session was
//! opened with: deleting the row signs out, revoking the key ends its sessions,
//! and `expires_at` bounds a forgotten one.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_dashboard_sessions"
    }
}

const STATEMENTS: &[&str] = &[
    "CREATE TABLE dashboard_sessions (
        digest {BLOB} PRIMARY KEY,
        tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    "CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let blob = match manager.get_database_backend() {
            DbBackend::Postgres => "BYTEA",
            _ => "BLOB",
        };
        let conn = manager.get_connection();
        for sql in STATEMENTS {
            conn.execute_unprepared(&sql.replace("{BLOB}", blob))
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
