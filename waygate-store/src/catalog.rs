//! The tenant's catalogue as the gateway lists it: integrations with their
//! status, tags and action count, found by id or slug, filtered and paged.

use std::time::SystemTime;

use sea_orm::Value;

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::{from_ms, now_ms};

/// Statuses an integration can have.
pub const INTEGRATION_STATUSES: &[&str] = &["active", "disabled"];

/// An integration as listed: what a catalogue shows without the definition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrationSummary {
    /// Its id (stable across updates).
    pub id: String,
    /// Its slug, unique per tenant.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `active` or `disabled`.
    pub status: String,
    /// Version of the upstream API, when known.
    pub version: Option<String>,
    /// Labels.
    pub tags: Vec<String>,
    /// How many actions it has.
    pub action_count: u64,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it was last written.
    pub updated_at: SystemTime,
}

/// Filters and page of an integration listing.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IntegrationQuery {
    /// Only integrations with this tag.
    pub tag: Option<String>,
    /// Only integrations whose slug or name contains this (case-insensitive).
    pub text: Option<String>,
    /// Entries per page (1–500; default 50).
    pub limit: Option<u32>,
    /// The slug the previous page ended with.
    pub after: Option<String>,
}

impl IntegrationQuery {
    /// A query without filters.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A page of integrations, by slug.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IntegrationPage {
    /// The entries.
    pub entries: Vec<IntegrationSummary>,
    /// Whether more follow the last entry.
    pub has_more: bool,
    /// How many match the filters in all.
    pub total: u64,
}

const SUMMARY_COLUMNS: &str =
    "i.id, i.slug, i.name, i.status, i.version, i.tags, i.created_at, i.updated_at,
    (SELECT COUNT(*) FROM actions a WHERE a.integration_id = i.id) AS action_count";

impl Store {
    /// The tenant's integrations matching `query`, by slug, one page.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn list_integration_summaries(
        &self,
        tenant: &str,
        query: &IntegrationQuery,
    ) -> Result<IntegrationPage> {
        let limit = query.limit.unwrap_or(50).clamp(1, 500);
        let mut filter = String::from("i.tenant_id = $1");
        let mut values: Vec<Value> = vec![tenant.into()];
        if let Some(tag) = &query.tag {
            // Tags are stored as a JSON array: match the quoted, escaped element.
            let quoted = serde_json::to_string(tag).unwrap_or_default();
            values.push(format!("%{}%", escape_like(&quoted)).into());
            filter.push_str(&format!(" AND i.tags LIKE ${} ESCAPE '\\'", values.len()));
        }
        if let Some(text) = query.text.as_deref().filter(|t| !t.is_empty()) {
            values.push(format!("%{}%", escape_like(&text.to_lowercase())).into());
            let n = values.len();
            filter.push_str(&format!(
                " AND (LOWER(i.slug) LIKE ${n} ESCAPE '\\' OR LOWER(i.name) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let total: i64 = get(
            &db::one(
                self.db(),
                "counting integrations",
                &format!("SELECT COUNT(*) AS n FROM integrations i WHERE {filter}"),
                values.clone(),
            )
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Unavailable, "COUNT returned no row"))?,
            "n",
        )?;
        let mut page_filter = filter;
        if let Some(after) = &query.after {
            values.push(after.as_str().into());
            page_filter.push_str(&format!(" AND i.slug > ${}", values.len()));
        }
        values.push((i64::from(limit) + 1).into());
        let rows = db::all(
            self.db(),
            "listing integrations",
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM integrations i WHERE {page_filter} ORDER BY i.slug LIMIT ${}",
                values.len()
            ),
            values,
        )
        .await?;
        let mut entries = rows.iter().map(summary).collect::<Result<Vec<_>>>()?;
        let has_more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok(IntegrationPage {
            entries,
            has_more,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// The tenant's integration whose slug, or else id, is `id_or_slug`.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn integration_summary(
        &self,
        tenant: &str,
        id_or_slug: &str,
    ) -> Result<Option<IntegrationSummary>> {
        let row = db::one(
            self.db(),
            "reading an integration",
            &format!(
                "SELECT {SUMMARY_COLUMNS} FROM integrations i
                 WHERE i.tenant_id = $1 AND (i.slug = $2 OR i.id = $2)
                 ORDER BY CASE WHEN i.slug = $2 THEN 0 ELSE 1 END LIMIT 1"
            ),
            vec![tenant.into(), id_or_slug.into()],
        )
        .await?;
        row.as_ref().map(summary).transpose()
    }

    /// Sets an integration's status (one of [`INTEGRATION_STATUSES`]); `false`
    /// when the tenant has no integration with this slug.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an unknown status.
    pub async fn set_integration_status(
        &self,
        tenant: &str,
        slug: &str,
        status: &str,
    ) -> Result<bool> {
        if !INTEGRATION_STATUSES.contains(&status) {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "status '{status}' is not one of {}",
                    INTEGRATION_STATUSES.join(", ")
                ),
            ));
        }
        let n = db::exec(
            self.db(),
            "setting an integration's status",
            "UPDATE integrations SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND slug = $2",
            vec![tenant.into(), slug.into(), status.into(), now_ms().into()],
        )
        .await?;
        Ok(n > 0)
    }
}

pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn summary(row: &sea_orm::QueryResult) -> Result<IntegrationSummary> {
    let tags: String = get(row, "tags")?;
    Ok(IntegrationSummary {
        id: get(row, "id")?,
        slug: get(row, "slug")?,
        name: get(row, "name")?,
        status: get(row, "status")?,
        version: get(row, "version")?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        action_count: u64::try_from(get::<i64>(row, "action_count")?).unwrap_or(0),
        created_at: from_ms(get(row, "created_at")?),
        updated_at: from_ms(get(row, "updated_at")?),
    })
}
