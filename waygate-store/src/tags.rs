//! The tenant's tags: counted across its integrations, and renamed everywhere
//! at once.
//!
//! Tags live twice on an integration row: in the `tags` column (a JSON array,
//! which listings filter on) and in the stored definition (which the engine
//! reads). A rename rewrites both, and bumps the revision as every write does,
//! in one transaction; a row written meanwhile by someone else is detected by
//! its revision (compare and set) and the rename starts again.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::escape_like;
use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;
use crate::time::now_ms;

/// Attempts of a rename that concurrent writes keep overtaking.
const RENAME_ATTEMPTS: usize = 5;

/// One tag and how many of the tenant's integrations carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TagCount {
    /// The tag.
    pub tag: String,
    /// How many integrations carry it.
    pub integrations: u64,
}

impl Store {
    /// Every tag of the tenant's integrations with its integration count, by tag.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] on database failure.
    pub async fn tag_counts(&self, tenant: &str) -> Result<Vec<TagCount>> {
        let rows = db::all(
            self.db(),
            "listing tags",
            "SELECT tags FROM integrations WHERE tenant_id = $1 AND tags <> '[]'",
            vec![tenant.into()],
        )
        .await?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for row in &rows {
            let mut tags = parse_tags(&get::<String>(row, "tags")?);
            // A definition written before tags were checked may repeat one.
            tags.sort_unstable();
            tags.dedup();
            for tag in tags {
                *counts.entry(tag).or_default() += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|(tag, integrations)| TagCount { tag, integrations })
            .collect())
    }

    /// Renames tag `from` to `to` on every integration of the tenant, in one
    /// transaction; an integration that has both keeps one `to`, where `from`
    /// stood. Returns the slugs of the integrations changed, by slug: none
    /// when no integration has `from`.
    ///
    /// # Errors
    /// [`ErrorKind::Conflict`] when concurrent writes to the same integrations
    /// overtake the rename again and again; [`ErrorKind::Unavailable`] on
    /// database failure or an unreadable stored definition.
    pub async fn rename_tag(&self, tenant: &str, from: &str, to: &str) -> Result<Vec<String>> {
        for _ in 0..RENAME_ATTEMPTS {
            if let Some(renamed) = self.try_rename_tag(tenant, from, to).await? {
                return Ok(renamed);
            }
        }
        Err(Error::new(
            ErrorKind::Conflict,
            format!("the integrations tagged '{from}' kept changing during the rename"),
        ))
    }

    /// One attempt of [`Store::rename_tag`]: `None` (and nothing written)
    /// when a row changed between reading and writing it.
    async fn try_rename_tag(
        &self,
        tenant: &str,
        from: &str,
        to: &str,
    ) -> Result<Option<Vec<String>>> {
        let context = format!("renaming tag '{from}'");
        let tx = db::write_transaction(self.db(), &context).await?;
        // The LIKE narrows the rows (an element quoted as JSON); parsing decides.
        let quoted = serde_json::to_string(from).unwrap_or_default();
        let rows = db::all(
            &tx,
            &context,
            "SELECT id, slug, definition, revision, tags FROM integrations
             WHERE tenant_id = $1 AND tags LIKE $2 ESCAPE '\\' ORDER BY slug",
            vec![tenant.into(), format!("%{}%", escape_like(&quoted)).into()],
        )
        .await?;
        let now = now_ms();
        let mut renamed = Vec::new();
        for row in &rows {
            let tags = parse_tags(&get::<String>(row, "tags")?);
            if !tags.iter().any(|t| t == from) {
                continue;
            }
            let tags = renamed_tags(&tags, from, to);
            let mut definition: Value = serde_json::from_str(&get::<String>(row, "definition")?)
                .map_err(|e| {
                    Error::new(ErrorKind::Unavailable, "a stored definition cannot be read")
                        .with_source(e)
                })?;
            if let Some(object) = definition.as_object_mut() {
                object.insert("tags".into(), Value::from(tags.clone()));
            }
            let revision: i64 = get(row, "revision")?;
            let slug: String = get(row, "slug")?;
            let n = db::exec(
                &tx,
                &context,
                // As every write: the revision goes up, to at least the time in microseconds.
                "UPDATE integrations SET definition = $1, tags = $2, updated_at = $3,
                   revision = CASE WHEN revision + 1 > $4 THEN revision + 1 ELSE $4 END
                 WHERE id = $5 AND revision = $6",
                vec![
                    definition.to_string().into(),
                    Value::from(tags).to_string().into(),
                    now.into(),
                    now.saturating_mul(1000).into(),
                    get::<String>(row, "id")?.into(),
                    revision.into(),
                ],
            )
            .await?;
            if n == 0 {
                // Dropping the transaction rolls it back.
                return Ok(None);
            }
            renamed.push(slug);
        }
        tx.commit().await.map_err(|e| Error::db(&context, e))?;
        Ok(Some(renamed))
    }
}

/// A `tags` column's array; an unreadable one counts as no tags.
fn parse_tags(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// `tags` with `from` replaced by `to` in place, each tag once.
fn renamed_tags(tags: &[String], from: &str, to: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = if tag == from { to } else { tag.as_str() };
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renamed_tags;

    fn strings(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn a_rename_keeps_the_place_and_merges_duplicates() {
        assert_eq!(
            renamed_tags(&strings(&["a", "chat", "b"]), "chat", "talk"),
            ["a", "talk", "b"]
        );
        assert_eq!(
            renamed_tags(&strings(&["talk", "chat", "b"]), "chat", "talk"),
            ["talk", "b"]
        );
        assert_eq!(
            renamed_tags(&strings(&["chat", "b", "talk"]), "chat", "talk"),
            ["talk", "b"]
        );
    }
}
