//! Integrations and their action rows: core's [`IntegrationStore`] port, plus
//! listing actions (searching them is `search`).
//!
//! The definition is stored whole as JSON (it is read whole by the engine); the
//! actions are also written as rows, denormalised, so that listing and searching
//! them needs no JSON parsing. Both are written in one transaction, and so is
//! the search index (each row's search text; the index follows by trigger on
//! SQLite and by generated column on PostgreSQL).

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::Value;
use waygate_core::IntegrationDef;
use waygate_core::storage::{IntegrationStore, StoreError, StoredIntegration};

use crate::db::{self, get, push_placeholders};
use crate::error::{Error, ErrorKind, Result};
use crate::search::ActionText;
use crate::store::Store;
use crate::time::now_ms;

/// Columns of one action row, in insert order.
const ACTION_COLUMNS: usize = 12;

/// Rows per multi-row insert: far below both backends' bound-parameter limits.
const ACTION_BATCH: usize = 200;

/// One action as listed: what a catalogue or a search result shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActionSummary {
    /// The integration's slug.
    pub integration: String,
    /// The action's slug.
    pub slug: String,
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Group (tag) the action is listed under.
    pub group: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
}

/// Whether writing an integration may replace one with the same slug.
#[derive(Clone, Copy)]
enum Write {
    Replace,
    Create,
}

impl Store {
    /// Stores an integration and its action rows as one transaction: either
    /// everything is written or nothing is. The revision increases on every write.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for an unknown tenant; [`ErrorKind::Conflict`] when
    /// two actions share a slug; [`ErrorKind::Unavailable`] on database failure.
    pub async fn store_integration(&self, tenant: &str, def: &IntegrationDef) -> Result<u64> {
        Ok(self.write_integration(tenant, def, Write::Replace).await?.0)
    }

    /// Stores a new integration like [`Store::store_integration`], refusing to
    /// replace one with the same slug: the check and the write are one
    /// statement, so two concurrent creates cannot both succeed.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] when the tenant has an integration with this
    /// slug; otherwise as [`Store::store_integration`].
    pub async fn create_integration(&self, tenant: &str, def: &IntegrationDef) -> Result<u64> {
        Ok(self.write_integration(tenant, def, Write::Create).await?.0)
    }

    /// Writes the integration and its action rows; returns the new revision
    /// and whether the integration is enabled (a replace keeps its status).
    async fn write_integration(
        &self,
        tenant: &str,
        def: &IntegrationDef,
        write: Write,
    ) -> Result<(u64, bool)> {
        let context = format!("storing integration '{}'", def.slug);
        let definition = serde_json::to_string(def)
            .map_err(|e| Error::new(ErrorKind::Config, "definition is not JSON").with_source(e))?;
        let tags = serde_json::to_string(&def.tags).unwrap_or_else(|_| "[]".into());
        let now = now_ms();
        // A revision never goes back, even across delete and re-create: it is at
        // least the time in microseconds, and at least one more than before.
        let floor = now.saturating_mul(1000);
        let tx = db::write_transaction(self.db(), &context).await?;
        let on_conflict = match write {
            Write::Replace => {
                "DO UPDATE SET
               name = excluded.name, definition = excluded.definition, version = excluded.version,
               revision = CASE WHEN integrations.revision + 1 > excluded.revision
                               THEN integrations.revision + 1 ELSE excluded.revision END,
               tags = excluded.tags, updated_at = excluded.updated_at"
            }
            Write::Create => "DO NOTHING",
        };
        let row = db::one(
            &tx,
            &context,
            &format!(
                "INSERT INTO integrations (id, tenant_id, slug, name, definition, status, version, revision, tags, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $9)
             ON CONFLICT (tenant_id, slug) {on_conflict}
             RETURNING id, revision, status"
            ),
            vec![
                uuid::Uuid::new_v4().to_string().into(),
                tenant.into(),
                def.slug.as_str().into(),
                def.name.as_str().into(),
                definition.into(),
                def.version.clone().into(),
                floor.into(),
                tags.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or_else(|| match write {
            Write::Create => Error::new(
                ErrorKind::Conflict,
                format!("an integration with slug '{}' exists", def.slug),
            ),
            Write::Replace => Error::new(ErrorKind::Unavailable, "the upsert returned no row"),
        })?;
        let id: String = get(&row, "id")?;
        let revision: i64 = get(&row, "revision")?;
        let enabled = get::<String>(&row, "status")? == "active";
        db::exec(
            &tx,
            &context,
            "DELETE FROM actions WHERE integration_id = $1",
            vec![id.as_str().into()],
        )
        .await?;
        for chunk in def.actions.chunks(ACTION_BATCH) {
            let mut sql = String::from(
                "INSERT INTO actions (integration_id, tenant_id, integration_slug, slug, name, description, action_group, method, path, search_scope, search_head, search_body) VALUES ",
            );
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * ACTION_COLUMNS);
            for (i, a) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                push_placeholders(
                    &mut sql,
                    self.backend(),
                    i * ACTION_COLUMNS + 1,
                    ACTION_COLUMNS,
                );
                let indexed = ActionText {
                    tenant,
                    integration: &def.slug,
                    slug: &a.slug,
                    name: a.name.as_deref(),
                    description: a.description.as_deref(),
                    group: a.group.as_deref(),
                    path: &a.path,
                }
                .indexed();
                values.extend([
                    id.as_str().into(),
                    tenant.into(),
                    def.slug.as_str().into(),
                    a.slug.as_str().into(),
                    a.name.clone().into(),
                    a.description.clone().into(),
                    a.group.clone().into(),
                    a.method.as_str().into(),
                    a.path.as_str().into(),
                    indexed.scope.into(),
                    indexed.head.into(),
                    indexed.body.into(),
                ]);
            }
            db::exec(&tx, &context, &sql, values).await?;
        }
        tx.commit().await.map_err(|e| Error::db(&context, e))?;
        Ok((u64::try_from(revision).unwrap_or(0), enabled))
    }

    /// The integration with `slug` of `tenant`, with its revision.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure or an unreadable stored definition.
    pub async fn load_integration(
        &self,
        tenant: &str,
        slug: &str,
    ) -> Result<Option<StoredIntegration>> {
        let row = db::one(
            self.db(),
            "reading an integration",
            "SELECT definition, revision, status FROM integrations WHERE tenant_id = $1 AND slug = $2",
            vec![tenant.into(), slug.into()],
        )
        .await?;
        row.map(|r| stored(&r)).transpose()
    }

    /// The tenant's integrations, by slug.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn load_integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>> {
        let rows = db::all(
            self.db(),
            "listing integrations",
            "SELECT definition, revision, status FROM integrations WHERE tenant_id = $1 ORDER BY slug",
            vec![tenant.into()],
        )
        .await?;
        rows.iter().map(stored).collect()
    }

    /// `(slug, revision)` of the tenant's active integrations, by slug: what
    /// changes whenever their actions do, read without the definitions (the MCP
    /// server asks this on every listing to keep its built tools current).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn active_revisions(&self, tenant: &str) -> Result<Vec<(String, u64)>> {
        let rows = db::all(
            self.db(),
            "listing integration revisions",
            "SELECT slug, revision FROM integrations WHERE tenant_id = $1 AND status = 'active' ORDER BY slug",
            vec![tenant.into()],
        )
        .await?;
        rows.iter()
            .map(|r| {
                let revision: i64 = get(r, "revision")?;
                Ok((get(r, "slug")?, u64::try_from(revision).unwrap_or(0)))
            })
            .collect()
    }

    /// Deletes an integration with its actions, connections and credentials;
    /// `false` when the tenant has none with this slug.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn remove_integration(&self, tenant: &str, slug: &str) -> Result<bool> {
        let n = db::exec(
            self.db(),
            "deleting an integration",
            "DELETE FROM integrations WHERE tenant_id = $1 AND slug = $2",
            vec![tenant.into(), slug.into()],
        )
        .await?;
        Ok(n > 0)
    }

    /// The actions of one integration, by slug.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn list_actions(
        &self,
        tenant: &str,
        integration: &str,
    ) -> Result<Vec<ActionSummary>> {
        let rows = db::all(
            self.db(),
            "listing actions",
            "SELECT integration_slug, slug, name, description, action_group, method, path
             FROM actions WHERE tenant_id = $1 AND integration_slug = $2 ORDER BY slug",
            vec![tenant.into(), integration.into()],
        )
        .await?;
        rows.iter().map(summary).collect()
    }
}

fn stored(row: &sea_orm::QueryResult) -> Result<StoredIntegration> {
    let definition: String = get(row, "definition")?;
    let revision: i64 = get(row, "revision")?;
    let status: String = get(row, "status")?;
    let def = IntegrationDef::from_json(&definition).map_err(|e| {
        Error::new(ErrorKind::Unavailable, "a stored definition cannot be read").with_source(e)
    })?;
    Ok(StoredIntegration {
        def: Arc::new(def),
        revision: u64::try_from(revision).unwrap_or(0),
        enabled: status == "active",
    })
}

pub(crate) fn summary(row: &sea_orm::QueryResult) -> Result<ActionSummary> {
    Ok(ActionSummary {
        integration: get(row, "integration_slug")?,
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        group: get(row, "action_group")?,
        method: get(row, "method")?,
        path: get(row, "path")?,
    })
}

#[async_trait]
impl IntegrationStore for Store {
    async fn integration(
        &self,
        tenant: &str,
        slug: &str,
    ) -> Result<Option<StoredIntegration>, StoreError> {
        Ok(self.load_integration(tenant, slug).await?)
    }

    async fn put_integration(
        &self,
        tenant: &str,
        def: IntegrationDef,
    ) -> Result<StoredIntegration, StoreError> {
        let (revision, enabled) = self.write_integration(tenant, &def, Write::Replace).await?;
        Ok(StoredIntegration {
            def: Arc::new(def),
            revision,
            enabled,
        })
    }

    async fn list_integrations(&self, tenant: &str) -> Result<Vec<StoredIntegration>, StoreError> {
        Ok(self.load_integrations(tenant).await?)
    }

    async fn delete_integration(&self, tenant: &str, slug: &str) -> Result<bool, StoreError> {
        Ok(self.remove_integration(tenant, slug).await?)
    }
}
