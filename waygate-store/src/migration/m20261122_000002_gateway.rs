//! What the gateway needs beyond the first schema: per-tenant settings (the
//! gateway rate limit override, for one) and server-wide secrets sealed by the
//! vault (the API key pepper, shared by every replica on the same database).

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_gateway"
    }
}

const STATEMENTS: &[&str] = &[
    "ALTER TABLE tenants ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
    "CREATE TABLE server_secrets (
        name TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        nonce {BLOB} NOT NULL,
        ciphertext {BLOB} NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
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
}
