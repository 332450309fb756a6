//! Action search: an index kept with the action rows, and ranked, tenant-scoped queries.
//!
//! Each action row carries its search text, normalised in Rust ([`text`]):
//! `search_head` (the action's slug and name) and `search_body` (description,
//! group, path and the integration's slug), plus `search_scope`, a token naming
//! the tenant. SQLite indexes them in the FTS5 table `actions_fts` (external
//! content, kept in sync by triggers on `actions`); PostgreSQL in the generated
//! `tsvector` column `actions.search_vector` with a GIN index.
//!
//! A query is the words of the user's text, all required, the last one also
//! as a prefix (search-as-you-type). Only words of letters and digits ever
//! reach the query languages, each quoted, so no user text can form an FTS5 or
//! tsquery operator or a syntax error. Results rank by how many query words
//! the action's slug or name contains, then by integration and action slug:
//! the same order on both backends, as neither engine's own score is used.

mod page;
pub(crate) mod text;

pub use page::{ActionPage, ActionQuery};

use sea_orm::Value;

use crate::db;
use crate::error::Result;
use crate::integrations::{ActionSummary, summary};
use crate::store::{Backend, Store};

/// Query words beyond this many are ignored: they bound the SQL's size.
const MAX_QUERY_WORDS: usize = 16;

/// The indexed text of one action row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Indexed {
    /// The tenant's token (`t` + hex of its id): FTS5 intersects with it first.
    pub(crate) scope: String,
    /// Words of the action's slug and name: matches here rank first.
    pub(crate) head: String,
    /// Words of its description, group, path and integration slug.
    pub(crate) body: String,
}

/// The fields of an action that search reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActionText<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) integration: &'a str,
    pub(crate) slug: &'a str,
    pub(crate) name: Option<&'a str>,
    pub(crate) description: Option<&'a str>,
    pub(crate) group: Option<&'a str>,
    pub(crate) path: &'a str,
}

impl ActionText<'_> {
    /// The text to store with the row.
    pub(crate) fn indexed(&self) -> Indexed {
        Indexed {
            scope: scope(self.tenant),
            head: text::document([Some(self.slug), self.name].into_iter().flatten()),
            body: text::document(
                [
                    self.description,
                    self.group,
                    Some(self.path),
                    Some(self.integration),
                ]
                .into_iter()
                .flatten(),
            ),
        }
    }
}

/// The tenant's token in the index. Hex keeps it one ASCII word whatever the
/// id contains, so the tokenizer cannot split it.
fn scope(tenant: &str) -> String {
    let mut out = String::with_capacity(1 + 2 * tenant.len());
    out.push('t');
    for b in tenant.as_bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A parsed query: its words, the last one also matching as a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Query {
    words: Vec<String>,
}

impl Query {
    /// `None` when the text has no word to search for.
    fn parse(text: &str) -> Option<Self> {
        let mut words: Vec<String> = Vec::new();
        for w in text::query_words(text) {
            if !words.contains(&w) {
                words.push(w);
            }
        }
        words.truncate(MAX_QUERY_WORDS);
        (!words.is_empty()).then_some(Self { words })
    }

    fn last(&self, i: usize) -> bool {
        i + 1 == self.words.len()
    }

    /// FTS5: the tenant's token in `search_scope`, and every word in the head
    /// or body columns. Words are letters and digits only, so quoting them
    /// needs no escaping.
    fn fts5(&self, tenant: &str) -> String {
        let words = self.rendered(|w, prefix| {
            if prefix {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        });
        format!(
            "search_scope : \"{}\" AND {{search_head search_body}} : ({})",
            scope(tenant),
            words.join(" AND ")
        )
    }

    /// A tsquery literal: quoted lexemes (no parser, no stemming), `:*` for the prefix.
    fn tsquery(&self) -> String {
        self.rendered(|w, prefix| {
            if prefix {
                format!("'{w}':*")
            } else {
                format!("'{w}'")
            }
        })
        .join(" & ")
    }

    /// Each word as `quote` writes it; the last one is the prefix.
    fn rendered(&self, quote: impl Fn(&str, bool) -> String) -> Vec<String> {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| quote(w, self.last(i)))
            .collect()
    }

    /// `LIKE` patterns finding each word in the space-padded head (letters and
    /// digits need no `LIKE` escaping).
    fn head_patterns(&self) -> Vec<String> {
        self.rendered(|w, prefix| {
            if prefix {
                format!("% {w}%")
            } else {
                format!("% {w} %")
            }
        })
    }
}

impl Store {
    /// Actions of the tenant matching every word of `text` (letters and
    /// digits; the last word also as a prefix) in the action's slug, name,
    /// description, group or path, or its integration's slug. At most `limit`,
    /// those whose slug or name hold more of the words first, then by
    /// integration and action slug. Text without a word finds nothing.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Unavailable`] on database failure.
    pub async fn search_actions(
        &self,
        tenant: &str,
        text: &str,
        limit: u32,
    ) -> Result<Vec<ActionSummary>> {
        let Some(query) = Query::parse(text) else {
            return Ok(Vec::new());
        };
        let (matched, from, filter) = match self.backend() {
            Backend::Sqlite => (
                query.fts5(tenant),
                // CROSS JOIN fixes the order: the FTS index drives. Otherwise
                // SQLite may walk the tenant's rows by index and run one FTS
                // lookup per row (measured: minutes for 100 000 actions).
                "actions_fts CROSS JOIN actions a ON a.id = actions_fts.rowid",
                "actions_fts MATCH $2",
            ),
            Backend::Postgres => (
                query.tsquery(),
                "actions a",
                "a.search_vector @@ CAST($2 AS tsquery)",
            ),
        };
        let mut values: Vec<Value> = vec![tenant.into(), matched.into(), i64::from(limit).into()];
        let mut score = Vec::new();
        for pattern in query.head_patterns() {
            values.push(pattern.into());
            score.push(format!(
                "CASE WHEN ' ' || a.search_head || ' ' LIKE ${} THEN 1 ELSE 0 END",
                values.len()
            ));
        }
        let sql = format!(
            "SELECT a.integration_slug, a.slug, a.name, a.description, a.action_group, a.method, a.path,
                    {} AS score
             FROM {from}
             WHERE {filter} AND a.tenant_id = $1
             ORDER BY score DESC, a.integration_slug, a.slug LIMIT $3",
            score.join(" + ")
        );
        let rows = db::all(self.db(), "searching actions", &sql, values).await?;
        rows.iter().map(summary).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_reaches_the_query_languages_as_quoted_words_only() {
        for text in [
            "\"",
            "*",
            "AND OR",
            "-",
            ":",
            "NOT",
            "(",
            "')--",
            "a\"b*c:d",
            "NEAR(x y)",
            "x:* & !y",
            "{col}: z",
            "'; DROP TABLE actions; --",
        ] {
            let Some(q) = Query::parse(text) else {
                continue;
            };
            for w in &q.words {
                assert!(w.chars().all(char::is_alphanumeric), "{text:?} gave {w:?}");
            }
            assert!(!q.fts5("t").contains("\"\""), "{text:?}");
        }
        assert!(Query::parse("\" * - : ( ) ^ %").is_none());
    }

    #[test]
    fn the_last_word_is_also_a_prefix() {
        let q = Query::parse("Send msg").unwrap();
        assert_eq!(q.tsquery(), "'send' & 'msg':*");
        assert_eq!(
            q.fts5("ab"),
            "search_scope : \"t6162\" AND {search_head search_body} : (\"send\" AND \"msg\"*)"
        );
        assert_eq!(q.head_patterns(), ["% send %", "% msg%"]);
    }

    #[test]
    fn queries_are_bounded_and_deduplicated() {
        let text = (0..40)
            .map(|i| format!("w{i} w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(Query::parse(&text).unwrap().words.len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn the_head_holds_slug_and_name() {
        let indexed = ActionText {
            tenant: "t",
            integration: "slack",
            slug: "chat_postMessage",
            name: Some("Send a message"),
            description: None,
            group: Some("chat"),
            path: "/chat.postMessage",
        }
        .indexed();
        assert_eq!(indexed.head, "chat postmessage post message send a");
        assert_eq!(indexed.body, "chat postmessage post message slack");
        assert_eq!(indexed.scope, "t74");
    }
}
