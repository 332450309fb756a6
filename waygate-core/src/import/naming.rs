//! Slugs: for the integration (from the title) and for actions (from
//! `operationId`, else method and path), made unique with numeric suffixes.

use std::collections::HashSet;

/// `[a-z0-9-]`, at most 64 characters, from a title; `api` when nothing is left.
pub(super) fn integration_slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 64 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "api".to_owned()
    } else {
        slug.to_owned()
    }
}

/// An action slug: the `operationId` limited to `[A-Za-z0-9_.-]`, else derived from
/// method and path (`GET /users/{id}` → `get_users_id`).
pub(super) fn action_slug(operation_id: Option<&str>, method: &str, path: &str) -> String {
    if let Some(id) = operation_id {
        let clean = clean(id, true);
        if !clean.is_empty() {
            return clean;
        }
    }
    let derived = clean(&format!("{method} {path}"), false);
    if derived.is_empty() {
        method.to_ascii_lowercase()
    } else {
        derived
    }
}

/// Keeps ASCII letters and digits (and `.`/`-` when `keep_punct`), joining the rest
/// with single `_`; lower case when derived.
fn clean(raw: &str, keep_punct: bool) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let keep = c.is_ascii_alphanumeric() || (keep_punct && matches!(c, '.' | '-' | '_'));
        if keep {
            out.push(if keep_punct {
                c
            } else {
                c.to_ascii_lowercase()
            });
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_end_matches('_');
    trimmed.chars().take(120).collect()
}

/// Hands out unique names: the wanted one, else with `_2`, `_3`… appended.
#[derive(Debug, Default)]
pub(super) struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    /// Reserves `wanted` or the first free suffixed form of it.
    pub(super) fn take(&mut self, wanted: &str) -> String {
        if self.taken.insert(wanted.to_owned()) {
            return wanted.to_owned();
        }
        (2..)
            .map(|n| format!("{wanted}_{n}"))
            .find(|candidate| self.taken.insert(candidate.clone()))
            .unwrap_or_default()
    }

    /// Whether `name` is already taken.
    pub(super) fn contains(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_slugs() {
        assert_eq!(integration_slug("Slack Web API"), "slack-web-api");
        assert_eq!(
            integration_slug("  --DigitalOcean API!! "),
            "digitalocean-api"
        );
        assert_eq!(integration_slug("???"), "api");
    }

    #[test]
    fn action_slugs() {
        assert_eq!(
            action_slug(Some("chat_postMessage"), "post", "/chat.postMessage"),
            "chat_postMessage"
        );
        assert_eq!(
            action_slug(Some("get pet/by id"), "get", "/x"),
            "get_pet_by_id"
        );
        assert_eq!(action_slug(None, "GET", "/users/{id}"), "get_users_id");
        assert_eq!(action_slug(Some("///"), "DELETE", "/"), "delete");
    }

    #[test]
    fn dedupes_with_suffixes() {
        let mut u = Unique::default();
        assert_eq!(u.take("list"), "list");
        assert_eq!(u.take("list"), "list_2");
        assert_eq!(u.take("list"), "list_3");
        assert_eq!(u.take("list_2"), "list_2_2");
        assert!(u.contains("list_3"));
    }
}
