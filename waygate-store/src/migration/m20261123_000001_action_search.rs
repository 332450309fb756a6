//! The action search index (see `crate::search`): each action row gets its
//! normalised search text (`search_scope`, `search_head`, `search_body`, in
//! place of `search_text`), computed for existing rows here, and the index:
//!
//! - SQLite: `actions` is rebuilt with an `INTEGER PRIMARY KEY` (a stable rowid:
//!   an external-content FTS5 table refers to rows by rowid, and `VACUUM` may
//!   renumber the implicit rowids of a table without one), then the FTS5 table
//!   `actions_fts` over it and the triggers that keep it in sync with every
//!   insert, update and delete, cascades included.
//! - PostgreSQL: a generated `tsvector` column over the search text, GIN-indexed.
//!
//! Runs in one transaction on both backends.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use crate::db::{self, get};
use crate::search::ActionText;

pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_action_search"
    }
}

const SQLITE_BEFORE: &[&str] = &[
    "CREATE TABLE actions_v2 (
        id INTEGER PRIMARY KEY,
        integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
        tenant_id TEXT NOT NULL,
        integration_slug TEXT NOT NULL,
        slug TEXT NOT NULL,
        name TEXT,
        description TEXT,
        action_group TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        search_scope TEXT NOT NULL DEFAULT '',
        search_head TEXT NOT NULL DEFAULT '',
        search_body TEXT NOT NULL DEFAULT '',
        UNIQUE (integration_id, slug)
    )",
    "INSERT INTO actions_v2 (integration_id, tenant_id, integration_slug, slug, name, description, action_group, method, path)
     SELECT integration_id, tenant_id, integration_slug, slug, name, description, action_group, method, path FROM actions",
    "DROP TABLE actions",
    "ALTER TABLE actions_v2 RENAME TO actions",
    "CREATE INDEX actions_tenant ON actions (tenant_id, integration_slug, slug)",
    "CREATE INDEX actions_group ON actions (integration_id, action_group)",
];

const SQLITE_AFTER: &[&str] = &[
    // External content: the text lives once, in `actions`. Diacritics are kept
    // so that SQLite matches exactly what PostgreSQL matches.
    "CREATE VIRTUAL TABLE actions_fts USING fts5(
        search_scope, search_head, search_body,
        content = 'actions', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 0'
    )",
    "INSERT INTO actions_fts (actions_fts) VALUES ('rebuild')",
    "CREATE TRIGGER actions_fts_insert AFTER INSERT ON actions BEGIN
        INSERT INTO actions_fts (rowid, search_scope, search_head, search_body)
        VALUES (new.id, new.search_scope, new.search_head, new.search_body);
    END",
    "CREATE TRIGGER actions_fts_delete AFTER DELETE ON actions BEGIN
        INSERT INTO actions_fts (actions_fts, rowid, search_scope, search_head, search_body)
        VALUES ('delete', old.id, old.search_scope, old.search_head, old.search_body);
    END",
    "CREATE TRIGGER actions_fts_update AFTER UPDATE ON actions BEGIN
        INSERT INTO actions_fts (actions_fts, rowid, search_scope, search_head, search_body)
        VALUES ('delete', old.id, old.search_scope, old.search_head, old.search_body);
        INSERT INTO actions_fts (rowid, search_scope, search_head, search_body)
        VALUES (new.id, new.search_scope, new.search_head, new.search_body);
    END",
];

const POSTGRES_BEFORE: &[&str] = &["ALTER TABLE actions
        DROP COLUMN search_text,
        ADD COLUMN search_scope TEXT NOT NULL DEFAULT '',
        ADD COLUMN search_head TEXT NOT NULL DEFAULT '',
        ADD COLUMN search_body TEXT NOT NULL DEFAULT ''"];

const POSTGRES_AFTER: &[&str] = &[
    // The text is already normalised words: array_to_tsvector takes them as
    // lexemes as they are (no parser, no stemming), like FTS5 does.
    "ALTER TABLE actions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        array_to_tsvector(string_to_array(search_head, ' ') || string_to_array(search_body, ' '))
    ) STORED",
    "CREATE INDEX actions_search ON actions USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let (before, after) = match manager.get_database_backend() {
            DbBackend::Postgres => (POSTGRES_BEFORE, POSTGRES_AFTER),
            _ => (SQLITE_BEFORE, SQLITE_AFTER),
        };
        let conn = manager.get_connection();
        for sql in before {
            conn.execute_unprepared(sql).await?;
        }
        backfill(conn).await?;
        for sql in after {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        // SQLite too: a crash mid-rebuild must leave the old table in place.
        Some(true)
    }
}

/// Rows read per page while indexing: bounds the memory a large registry needs.
const PAGE: i64 = 1000;

/// Computes the search text of every existing action row, a keyset page at a time.
async fn backfill<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let mut after = (String::new(), String::new());
    loop {
        let rows = db::all(
            conn,
            CONTEXT,
            "SELECT integration_id, tenant_id, integration_slug, slug, name, description, action_group, path
             FROM actions WHERE (integration_id, slug) > ($1, $2)
             ORDER BY integration_id, slug LIMIT $3",
            vec![after.0.clone().into(), after.1.clone().into(), PAGE.into()],
        )
        .await
        .map_err(failed)?;
        for row in &rows {
            after = index_row(conn, row).await?;
        }
        if rows.len() < PAGE as usize {
            return Ok(());
        }
    }
}

const CONTEXT: &str = "indexing existing actions for search";

fn failed(e: crate::Error) -> DbErr {
    DbErr::Custom(format!("{CONTEXT}: {e}"))
}

/// Stores one row's search text; returns its key.
async fn index_row<C: ConnectionTrait>(
    conn: &C,
    row: &sea_orm::QueryResult,
) -> Result<(String, String), DbErr> {
    {
        let integration_id: String = get(row, "integration_id").map_err(failed)?;
        let tenant: String = get(row, "tenant_id").map_err(failed)?;
        let integration: String = get(row, "integration_slug").map_err(failed)?;
        let slug: String = get(row, "slug").map_err(failed)?;
        let name: Option<String> = get(row, "name").map_err(failed)?;
        let description: Option<String> = get(row, "description").map_err(failed)?;
        let group: Option<String> = get(row, "action_group").map_err(failed)?;
        let path: String = get(row, "path").map_err(failed)?;
        let indexed = ActionText {
            tenant: &tenant,
            integration: &integration,
            slug: &slug,
            name: name.as_deref(),
            description: description.as_deref(),
            group: group.as_deref(),
            path: &path,
        }
        .indexed();
        db::exec(
            conn,
            CONTEXT,
            "UPDATE actions SET search_scope = $1, search_head = $2, search_body = $3
             WHERE integration_id = $4 AND slug = $5",
            vec![
                indexed.scope.into(),
                indexed.head.into(),
                indexed.body.into(),
                integration_id.as_str().into(),
                slug.as_str().into(),
            ],
        )
        .await
        .map_err(failed)?;
        Ok((integration_id, slug))
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Database;
    use sea_orm_migration::MigratorTrait;

    use super::*;
    use crate::migration::Migrator;

    /// Rows written before this migration are indexed by it.
    async fn existing_rows_become_searchable(url: &str) {
        let conn = Database::connect(url).await.unwrap();
        Migrator::up(&conn, Some(1)).await.unwrap();
        for sql in [
            "INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', 0)",
            "INSERT INTO integrations (id, tenant_id, slug, name, definition, revision, created_at, updated_at)
             VALUES ('i1', 't', 'slack', 'Slack', '{}', 1, 0, 0)",
            "INSERT INTO actions (integration_id, tenant_id, integration_slug, slug, name, description, method, path, search_text)
             VALUES ('i1', 't', 'slack', 'chat_postMessage', 'Send a message', NULL, 'POST', '/chat.postMessage', 'x'),
                    ('i1', 't', 'slack', 'users_list', 'List users', 'Lists who gets a message', 'GET', '/users.list', 'x')",
        ] {
            conn.execute_unprepared(sql).await.unwrap();
        }
        conn.close().await.unwrap();
        let store = crate::Store::open(url).await.unwrap();
        let found: Vec<String> = store
            .search_actions("t", "message", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.slug)
            .collect();
        assert_eq!(found, ["chat_postMessage", "users_list"]);
        assert!(
            store
                .search_actions("u", "message", 10)
                .await
                .unwrap()
                .is_empty()
        );
        store.close().await.unwrap();
    }

    #[tokio::test]
    async fn existing_rows_are_indexed_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("waygate-mig-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("w.db").display());
        existing_rows_become_searchable(&url).await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn existing_rows_are_indexed_on_postgres() {
        let Ok(admin_url) = std::env::var("WAYGATE_TEST_POSTGRES_URL") else {
            return;
        };
        let name = format!("waygate_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url
            .split('?')
            .next()
            .and_then(|u| u.rsplit_once('/'))
            .map_or(admin_url.as_str(), |(b, _)| b);
        existing_rows_become_searchable(&format!("{base}/{name}")).await;
        admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}
