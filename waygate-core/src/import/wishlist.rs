//! Wishlist ranking: phrases such as "send message" or "list users" matched against
//! actions by tokens of their slug, name, path and description, with simple
//! stemming and verb/noun synonyms (send ≈ post, list ≈ get-all, channel ≈ conversation).
//!
//! Each phrase picks its best action: every phrase token must match somewhere; slug
//! and path tokens count most, name and description tokens less, and slug tokens
//! the phrase does not mention cost a little (so `users_list` beats `admin_users_list`).

use crate::model::ActionDef;

/// Groups of words treated as equal; the first is the canonical form.
const SYNONYMS: [&[&str]; 10] = [
    &["post", "send", "publish", "submit"],
    &["create", "add", "new", "make", "insert", "initiate"],
    &["list", "all", "index", "enumerate", "browse"],
    &[
        "get", "fetch", "retrieve", "read", "show", "info", "describe", "view", "lookup",
    ],
    &["update", "edit", "modify", "change", "patch"],
    &["delete", "remove", "destroy", "del", "erase"],
    &["channel", "conversation", "room"],
    &["message", "msg", "chat"],
    &["user", "member", "people", "person"],
    &["search", "find", "query"],
];

/// For each phrase (in order), the index of its best action, or `None` when no action
/// covers all of its words.
pub(super) fn rank(phrases: &[String], actions: &[ActionDef]) -> Vec<Option<usize>> {
    let indexed: Vec<Indexed> = actions.iter().map(Indexed::new).collect();
    phrases
        .iter()
        .map(|phrase| {
            let wanted = tokens(phrase);
            if wanted.is_empty() {
                return None;
            }
            let mut best: Option<(f64, usize)> = None;
            for (i, action) in indexed.iter().enumerate() {
                if let Some(score) = action.score(&wanted)
                    && best.is_none_or(|(b, _)| score > b)
                {
                    best = Some((score, i));
                }
            }
            best.map(|(_, i)| i)
        })
        .collect()
}

/// An action's tokens, by where they come from.
struct Indexed {
    slug: Vec<String>,
    /// Path tokens and the verbs the method implies.
    path: Vec<String>,
    text: Vec<String>,
    deprecated: bool,
}

impl Indexed {
    fn new(a: &ActionDef) -> Self {
        let mut path = tokens(&a.path);
        let collection = !a.path.trim_end_matches('/').ends_with('}');
        let implied: &[&str] = match a.method.as_str() {
            "GET" if collection => &["list", "get"],
            "GET" => &["get"],
            "POST" => &["create", "post"],
            "PUT" | "PATCH" => &["update"],
            "DELETE" => &["delete"],
            _ => &[],
        };
        path.extend(implied.iter().map(|s| (*s).to_owned()));
        let mut text = tokens(a.name.as_deref().unwrap_or(""));
        text.extend(tokens(
            a.description
                .as_deref()
                .unwrap_or("")
                .split(['.', '\n'])
                .next()
                .unwrap_or(""),
        ));
        Self {
            slug: tokens(&a.slug),
            path,
            text,
            deprecated: a.deprecated,
        }
    }

    fn score(&self, wanted: &[String]) -> Option<f64> {
        let mut score = 0.0;
        for w in wanted {
            score += if self.slug.contains(w) {
                3.0
            } else if self.path.contains(w) {
                2.0
            } else if self.text.contains(w) {
                1.0
            } else {
                return None;
            };
        }
        let extra = self.slug.iter().filter(|t| !wanted.contains(t)).count();
        score -= 0.5 * extra as f64;
        if self.deprecated {
            score -= 1.0;
        }
        Some(score)
    }
}

/// Lower-case, stemmed, canonical tokens; camelCase and punctuation split words.
fn tokens(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            flush(&mut word, &mut words);
            continue;
        }
        if c.is_uppercase() && prev_lower {
            flush(&mut word, &mut words);
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    flush(&mut word, &mut words);
    words
}

fn flush(word: &mut String, words: &mut Vec<String>) {
    if word.is_empty() {
        return;
    }
    let stemmed = stem(word);
    let canonical = SYNONYMS
        .iter()
        .find(|group| group.contains(&stemmed.as_str()))
        .map_or(stemmed, |g| g[0].to_owned());
    words.push(canonical);
    word.clear();
}

fn stem(word: &str) -> String {
    let w = word;
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    for suffix in ["sses", "shes", "ches", "xes"] {
        if w.len() > suffix.len() + 1 && w.ends_with(suffix) {
            return w[..w.len() - 2].to_owned();
        }
    }
    if w.len() > 5 && w.ends_with("ing") {
        return w[..w.len() - 3].to_owned();
    }
    if w.len() > 4 && w.ends_with("ed") && !w.ends_with("eed") {
        return w[..w.len() - 2].to_owned();
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(slug: &str, method: &str, path: &str) -> ActionDef {
        ActionDef::new(slug, method, path)
    }

    #[test]
    fn tokens_split_stem_and_canonicalise() {
        assert_eq!(tokens("chat_postMessage"), ["message", "post", "message"]);
        assert_eq!(tokens("Listing all Users"), ["list", "list", "user"]);
        assert_eq!(tokens("conversations.create"), ["channel", "create"]);
    }

    #[test]
    fn prefers_the_specific_action() {
        let actions = vec![
            action("admin_users_list", "GET", "/admin.users.list"),
            action("users_list", "GET", "/users.list"),
            action("search_messages", "GET", "/search.messages"),
            action("chat_postMessage", "POST", "/chat.postMessage"),
            action("getUsers", "GET", "/users"),
        ];
        let found = rank(
            &["send message".into(), "list users".into(), "fly".into()],
            &actions,
        );
        assert_eq!(found, [Some(3), Some(1), None]);
        assert_eq!(rank(&["list users".into()], &actions[4..]), [Some(0)]);
    }
}
