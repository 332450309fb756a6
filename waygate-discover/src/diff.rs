//! A re-scrape against what is stored (decision 73): endpoints added, removed
//! and changed, matched by method and path shape (placeholder names aside), the
//! groundwork for drift detection. A change is a path whose placeholders were
//! renamed, an input field added or removed, or a field whose requiredness flipped.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use waygate_core::model::{ActionDef, IntegrationDef};

use crate::shape;

/// What differs between a stored definition and a new draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    /// Endpoints only in the draft (`METHOD /path`).
    pub added: Vec<String>,
    /// Endpoints only in the stored definition.
    pub removed: Vec<String>,
    /// Endpoints in both whose inputs differ.
    pub changed: Vec<Changed>,
    /// Endpoints in both with the same inputs.
    pub unchanged: usize,
}

/// One endpoint's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// `METHOD /path` as the draft has it.
    pub endpoint: String,
    /// The stored action's slug.
    pub action: String,
    /// What changed, one phrase each.
    pub changes: Vec<String>,
}

fn label(a: &ActionDef) -> String {
    format!("{} {}", a.method, a.path)
}

fn key(a: &ActionDef) -> (String, String) {
    (a.method.to_ascii_uppercase(), shape(&a.path))
}

/// Input field names and which of them are required.
fn fields(a: &ActionDef) -> (BTreeSet<String>, BTreeSet<String>) {
    let names = a
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let required = a
        .input_schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    (names, required)
}

/// `stored` against `draft`.
pub fn diff(stored: &IntegrationDef, draft: &IntegrationDef) -> Diff {
    let old: BTreeMap<_, _> = stored.actions.iter().map(|a| (key(a), a)).collect();
    let new: BTreeMap<_, _> = draft.actions.iter().map(|a| (key(a), a)).collect();
    let mut out = Diff::default();
    for (k, a) in &new {
        let Some(before) = old.get(k) else {
            out.added.push(label(a));
            continue;
        };
        let mut changes = Vec::new();
        if before.path != a.path {
            changes.push(format!("path {} is now {}", before.path, a.path));
        }
        let (was, was_required) = fields(before);
        let (now, now_required) = fields(a);
        for f in now.difference(&was) {
            changes.push(format!("input '{f}' added"));
        }
        for f in was.difference(&now) {
            changes.push(format!("input '{f}' removed"));
        }
        for f in now.intersection(&was) {
            match (was_required.contains(f), now_required.contains(f)) {
                (false, true) => changes.push(format!("input '{f}' is now required")),
                (true, false) => changes.push(format!("input '{f}' is now optional")),
                _ => {}
            }
        }
        if changes.is_empty() {
            out.unchanged += 1;
        } else {
            out.changed.push(Changed {
                endpoint: label(a),
                action: before.slug.clone(),
                changes,
            });
        }
    }
    out.removed = old
        .iter()
        .filter(|(k, _)| !new.contains_key(*k))
        .map(|(_, a)| label(a))
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn action(method: &str, path: &str, fields: &[&str], required: &[&str]) -> ActionDef {
        let mut a = ActionDef::new(format!("{method}{path}"), method, path);
        let props: serde_json::Map<String, Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!({})))
            .collect();
        a.input_schema = json!({"type": "object", "properties": props, "required": required});
        a
    }

    #[test]
    fn added_removed_and_changed_by_method_and_shape() {
        let mut stored = IntegrationDef::new("x", "X");
        stored.actions = vec![
            action("GET", "/users/{id}", &["id"], &["id"]),
            action("DELETE", "/users/{id}", &["id"], &["id"]),
            action("POST", "/users", &["name", "email"], &["name"]),
            action("GET", "/users", &["limit"], &[]),
        ];
        let mut draft = IntegrationDef::new("x", "X");
        draft.actions = vec![
            action("GET", "/users/{user_id}", &["user_id"], &["user_id"]),
            action("POST", "/users", &["name", "phone"], &["name", "phone"]),
            action("GET", "/users", &["limit"], &[]),
            action("GET", "/teams", &[], &[]),
        ];
        let d = diff(&stored, &draft);
        assert_eq!(d.added, ["GET /teams"]);
        assert_eq!(d.removed, ["DELETE /users/{id}"]);
        assert_eq!(d.unchanged, 1);
        let post = d
            .changed
            .iter()
            .find(|c| c.endpoint == "POST /users")
            .unwrap();
        assert_eq!(
            post.changes,
            ["input 'phone' added", "input 'email' removed"]
        );
        let get = d
            .changed
            .iter()
            .find(|c| c.endpoint.starts_with("GET /users/"))
            .unwrap();
        assert_eq!(get.changes[0], "path /users/{id} is now /users/{user_id}");
        assert_eq!(d.changed.len(), 2);
    }
}
