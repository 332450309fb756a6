//! Pages of a tenant's actions: the indexed search (or every action) filtered by
//! integration and tag, in a stable order, continued by an opaque keyset cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::Value;

use super::Query;
use crate::catalog::escape_like;
use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::integrations::{ActionSummary, summary};
use crate::store::{Backend, Store};

/// Entries per page when the caller does not say.
const DEFAULT_LIMIT: u32 = 50;
/// The most entries one page holds.
const MAX_LIMIT: u32 = 500;

/// What [`Store::action_page`] looks for; every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActionQuery {
    /// Words to find (as [`Store::search_actions`] reads them); every action when unset.
    pub text: Option<String>,
    /// Only actions of this integration (its slug).
    pub integration: Option<String>,
    /// Only actions of integrations with this tag.
    pub tag: Option<String>,
    /// Entries per page (1–500; default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ActionQuery {
    /// A query without filters.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One page of actions.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActionPage {
    /// The entries: best matches first, then by integration and action slug.
    pub entries: Vec<ActionSummary>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
    /// How many actions match in all.
    pub total: u64,
}

/// Where a page ends: the last entry's score and slugs. Encoded opaquely, so
/// callers pass it back without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    score: i64,
    integration: String,
    slug: String,
}

impl Cursor {
    fn encode(&self) -> String {
        let text = serde_json::json!([self.score, self.integration, self.slug]).to_string();
        URL_SAFE_NO_PAD.encode(text)
    }

    fn decode(text: &str) -> Result<Self> {
        let bad = || Error::new(ErrorKind::Config, "the action cursor is not valid");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let (score, integration, slug): (i64, String, String) =
            serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok(Self {
            score,
            integration,
            slug,
        })
    }
}

impl Store {
    /// One page of the tenant's actions matching `query`: with text, through the
    /// search index and ranked as [`Store::search_actions`] ranks; without, every
    /// action by integration and action slug.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a cursor this method did not make;
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn action_page(&self, tenant: &str, query: &ActionQuery) -> Result<ActionPage> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let after = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        let words = query.text.as_deref().and_then(Query::parse);
        if query.text.as_deref().is_some_and(|t| !t.trim().is_empty()) && words.is_none() {
            // Text without a word finds nothing, as in `search_actions`.
            return Ok(ActionPage {
                entries: Vec::new(),
                next_cursor: None,
                total: 0,
            });
        }
        let mut values: Vec<Value> = vec![tenant.into()];
        let mut filter = String::from("a.tenant_id = $1");
        let mut from = "actions a";
        let mut score = String::from("0");
        if let Some(words) = &words {
            let (matched, source) = match self.backend() {
                // The FTS index drives (see `search_actions`).
                Backend::Sqlite => (
                    words.fts5(tenant),
                    "actions_fts CROSS JOIN actions a ON a.id = actions_fts.rowid",
                ),
                Backend::Postgres => (words.tsquery(), "actions a"),
            };
            values.push(matched.into());
            let n = values.len();
            filter.push_str(&match self.backend() {
                Backend::Sqlite => format!(" AND actions_fts MATCH ${n}"),
                Backend::Postgres => format!(" AND a.search_vector @@ CAST(${n} AS tsquery)"),
            });
            from = source;
            let mut terms = Vec::new();
            for pattern in words.head_patterns() {
                values.push(pattern.into());
                terms.push(format!(
                    "CASE WHEN ' ' || a.search_head || ' ' LIKE ${} THEN 1 ELSE 0 END",
                    values.len()
                ));
            }
            score = terms.join(" + ");
        }
        if let Some(integration) = &query.integration {
            values.push(integration.as_str().into());
            filter.push_str(&format!(" AND a.integration_slug = ${}", values.len()));
        }
        if let Some(tag) = &query.tag {
            // Tags are stored as a JSON array: match the quoted, escaped element.
            let quoted = serde_json::to_string(tag).unwrap_or_default();
            values.push(format!("%{}%", escape_like(&quoted)).into());
            filter.push_str(&format!(
                " AND a.integration_id IN (SELECT i.id FROM integrations i WHERE i.tenant_id = $1 AND i.tags LIKE ${} ESCAPE '\\')",
                values.len()
            ));
        }
        // PostgreSQL sums integers as `integer`: the cursor reads a 64-bit one.
        let matching = format!(
            "SELECT CAST({score} AS BIGINT) AS score, a.integration_slug, a.slug, a.name, a.description, a.action_group, a.method, a.path FROM {from} WHERE {filter}"
        );
        let total: i64 = get(
            &db::one(
                self.db(),
                "counting actions",
                &format!("SELECT COUNT(*) AS n FROM ({matching}) m"),
                values.clone(),
            )
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Unavailable, "COUNT returned no row"))?,
            "n",
        )?;
        // Ranked by score when searching; otherwise the score is 0 and the
        // `actions_tenant` index (tenant, integration, slug) gives the order.
        let (rows_of, score_col, order) = if words.is_some() {
            (
                format!("({matching}) m"),
                "m.score",
                "m.score DESC, m.integration_slug, m.slug",
            )
        } else {
            (
                format!("(SELECT 0 AS score, a.* FROM actions a WHERE {filter}) m"),
                "m.score",
                "m.integration_slug, m.slug",
            )
        };
        let mut page_filter = String::from("1 = 1");
        if let Some(c) = &after {
            values.push(c.score.into());
            let s = values.len();
            values.push(c.integration.as_str().into());
            let i = values.len();
            values.push(c.slug.as_str().into());
            let a = values.len();
            page_filter = format!(
                "({score_col} < ${s} OR ({score_col} = ${s} AND (m.integration_slug > ${i} OR (m.integration_slug = ${i} AND m.slug > ${a}))))"
            );
        }
        values.push((i64::from(limit) + 1).into());
        let sql = format!(
            "SELECT CAST(m.score AS BIGINT) AS score, m.integration_slug, m.slug, m.name, m.description, m.action_group, m.method, m.path
             FROM {rows_of} WHERE {page_filter} ORDER BY {order} LIMIT ${}",
            values.len()
        );
        let rows = db::all(self.db(), "paging actions", &sql, values).await?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.iter().take(limit as usize) {
            let entry = summary(row)?;
            last = Some(Cursor {
                score: get(row, "score")?,
                integration: entry.integration.clone(),
                slug: entry.slug.clone(),
            });
            entries.push(entry);
        }
        let next_cursor = if rows.len() > limit as usize {
            last.map(|c| c.encode())
        } else {
            None
        };
        Ok(ActionPage {
            entries,
            next_cursor,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_they_did_not_make() {
        let c = Cursor {
            score: 2,
            integration: "slack".into(),
            slug: "chat.postMessage".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "x", "!!!", &URL_SAFE_NO_PAD.encode("[1, 2]")] {
            assert_eq!(Cursor::decode(bad).unwrap_err().kind(), ErrorKind::Config);
        }
    }
}
