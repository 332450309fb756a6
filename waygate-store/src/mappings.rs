//! A connection's own field mappings per action (decision 66), in the
//! `field_mappings` table: one row per (connection, action, direction), the
//! mapping list as JSON. The integration's defaults are in its definition
//! (`ActionDef::mappings`), not here.

use std::collections::BTreeMap;

use waygate_core::model::{FieldMapping, Mappings};

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::now_ms;

/// The directions stored, as the `direction` column spells them.
const DIRECTIONS: [&str; 2] = ["input", "output"];

impl Store {
    /// Replaces a connection's own mappings of one action (both directions,
    /// in one transaction).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] when the tenant's integration has no such connection.
    pub async fn put_connection_mappings(
        &self,
        tenant: &str,
        integration: &str,
        connection: &str,
        action: &str,
        mappings: &Mappings,
    ) -> Result<()> {
        let context = "storing field mappings";
        let tx = db::write_transaction(self.db(), context).await?;
        let row = db::one(
            &tx,
            context,
            "SELECT i.id FROM integrations i JOIN connections c ON c.integration_id = i.id
             WHERE i.tenant_id = $1 AND c.tenant_id = $1 AND i.slug = $2 AND c.name = $3",
            vec![tenant.into(), integration.into(), connection.into()],
        )
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "connection '{connection}' of integration '{integration}'"
            ))
        })?;
        let integration_id: String = get(&row, "id")?;
        let now = now_ms();
        for (direction, list) in DIRECTIONS
            .into_iter()
            .zip([&mappings.input, &mappings.output])
        {
            let text = serde_json::to_string(list).map_err(|e| {
                Error::new(ErrorKind::Config, "mappings do not serialise").with_source(e)
            })?;
            db::exec(
                &tx,
                context,
                "INSERT INTO field_mappings (id, tenant_id, integration_id, connection_name, action_slug, direction, mapping, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                 ON CONFLICT (tenant_id, integration_id, connection_name, action_slug, direction)
                 DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at",
                vec![
                    uuid::Uuid::new_v4().to_string().into(),
                    tenant.into(),
                    integration_id.as_str().into(),
                    connection.into(),
                    action.into(),
                    direction.into(),
                    text.into(),
                    now.into(),
                ],
            )
            .await?;
        }
        tx.commit().await.map_err(|e| Error::db(context, e))
    }

    /// A connection's own mappings, by action slug.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure; [`ErrorKind::Config`]
    /// when a stored mapping no longer reads.
    pub async fn connection_mappings(
        &self,
        tenant: &str,
        integration: &str,
        connection: &str,
    ) -> Result<BTreeMap<String, Mappings>> {
        let rows = db::all(
            self.db(),
            "reading field mappings",
            "SELECT m.action_slug, m.direction, m.mapping FROM field_mappings m
             JOIN integrations i ON i.id = m.integration_id
             WHERE m.tenant_id = $1 AND i.tenant_id = $1 AND i.slug = $2 AND m.connection_name = $3",
            vec![tenant.into(), integration.into(), connection.into()],
        )
        .await?;
        let mut found: BTreeMap<String, Mappings> = BTreeMap::new();
        for row in rows {
            let text: String = get(&row, "mapping")?;
            let list: Vec<FieldMapping> = serde_json::from_str(&text).map_err(|e| {
                Error::new(ErrorKind::Config, "a stored field mapping does not read").with_source(e)
            })?;
            let entry = found.entry(get(&row, "action_slug")?).or_default();
            match get::<String>(&row, "direction")?.as_str() {
                "input" => entry.input = list,
                _ => entry.output = list,
            }
        }
        Ok(found)
    }
}
