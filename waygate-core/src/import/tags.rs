//! Suggested tags: a small keyword classifier over what an integration says it
//! does. The gateway offers its answer on import (`suggestedTags`); nothing is
//! applied without the caller choosing it.
//!
//! Each category has a few keywords. The integration's name weighs most, its
//! description next, and its actions by share: a category that most actions'
//! groups, paths or slugs speak of scores high, one that a few mention scores
//! little, so one `invoices` endpoint does not make a cloud API "payments".
//! Words are split on punctuation and camelCase and lowercased; a plural `s` is
//! dropped.

use std::collections::HashSet;

use crate::model::IntegrationDef;

/// Categories and the words that speak of them.
const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "communication",
        &[
            "message",
            "chat",
            "channel",
            "conversation",
            "sms",
            "mms",
            "email",
            "mail",
            "call",
            "voice",
            "conference",
            "fax",
            "reaction",
            "thread",
            "notification",
            "communication",
            "messaging",
        ],
    ),
    (
        "crm",
        &[
            "crm",
            "contact",
            "lead",
            "deal",
            "opportunity",
            "prospect",
            "customer",
        ],
    ),
    (
        "payments",
        &[
            "payment",
            "charge",
            "refund",
            "payout",
            "checkout",
            "invoice",
            "billing",
            "subscription",
        ],
    ),
    (
        "storage",
        &[
            "storage", "bucket", "blob", "upload", "download", "folder", "drive",
        ],
    ),
    (
        "cloud",
        &[
            "cloud",
            "server",
            "instance",
            "region",
            "vpc",
            "volume",
            "snapshot",
            "firewall",
            "dns",
            "domain",
            "cdn",
            "certificate",
            "droplet",
            "cluster",
            "database",
            "kubernetes",
        ],
    ),
    (
        "devops",
        &[
            "devops",
            "deploy",
            "deployment",
            "build",
            "pipeline",
            "container",
            "registry",
            "kubernetes",
            "monitoring",
            "alert",
            "uptime",
            "log",
            "incident",
        ],
    ),
    (
        "code",
        &[
            "repository",
            "repo",
            "commit",
            "branch",
            "pull",
            "gist",
            "git",
            "code",
        ],
    ),
    (
        "analytics",
        &[
            "analytics",
            "metric",
            "report",
            "insight",
            "dashboard",
            "statistic",
            "funnel",
            "cohort",
            "tracking",
        ],
    ),
    (
        "ai",
        &[
            "ai",
            "llm",
            "model",
            "completion",
            "embedding",
            "inference",
            "prompt",
            "agent",
        ],
    ),
    (
        "productivity",
        &[
            "task",
            "todo",
            "calendar",
            "note",
            "document",
            "spreadsheet",
            "sheet",
            "board",
            "meeting",
            "productivity",
        ],
    ),
    (
        "design",
        &[
            "design",
            "component",
            "style",
            "variable",
            "node",
            "frame",
            "prototype",
            "canvas",
            "layer",
            "font",
        ],
    ),
    (
        "ecommerce",
        &[
            "ecommerce",
            "product",
            "order",
            "cart",
            "inventory",
            "shipping",
            "fulfillment",
            "catalog",
        ],
    ),
    (
        "marketing",
        &[
            "marketing",
            "campaign",
            "newsletter",
            "audience",
            "subscriber",
            "ad",
            "ads",
        ],
    ),
];

/// Weight of one keyword in the integration's name.
const NAME_WEIGHT: f64 = 3.0;
/// Weight of one keyword in its description (at most [`DESCRIPTION_HITS`] count).
const DESCRIPTION_WEIGHT: f64 = 1.0;
/// Keyword occurrences counted in a description: a long text does not win by length.
const DESCRIPTION_HITS: usize = 3;
/// Weight of the share (0..1) of actions that speak of a category.
const ACTION_WEIGHT: f64 = 10.0;
/// A category below this score is not suggested.
const MIN_SCORE: f64 = 2.0;
/// A category below this fraction of the best one's score is not suggested.
const RELATIVE_MIN: f64 = 0.5;
/// Most tags suggested.
const MAX_SUGGESTIONS: usize = 3;
/// Characters of a description read: bounded work on any input.
const DESCRIPTION_CHARS: usize = 20_000;

/// Tags suggested for `def` from its name, description and actions, best
/// first: at most three of the categories above, none when nothing stands out;
/// a tag the integration has already is not suggested again.
pub fn suggest_tags(def: &IntegrationDef) -> Vec<String> {
    let name = words(&def.name);
    let description: Vec<String> = def
        .description
        .as_deref()
        .map(|d| words(&d.chars().take(DESCRIPTION_CHARS).collect::<String>()))
        .unwrap_or_default();
    let actions: Vec<HashSet<String>> = def
        .actions
        .iter()
        .map(|a| {
            let mut set: HashSet<String> = words(&a.slug).into_iter().collect();
            set.extend(words(&a.path));
            if let Some(group) = &a.group {
                set.extend(words(group));
            }
            set
        })
        .collect();
    let mut scored: Vec<(&str, f64)> = CATEGORIES
        .iter()
        .map(|(tag, keywords)| {
            let hits = |ws: &[String]| ws.iter().filter(|w| keywords.contains(&w.as_str())).count();
            let in_actions = actions
                .iter()
                .filter(|set| keywords.iter().any(|k| set.contains(*k)))
                .count();
            let share = if actions.is_empty() {
                0.0
            } else {
                in_actions as f64 / actions.len() as f64
            };
            let score = NAME_WEIGHT * hits(&name) as f64
                + DESCRIPTION_WEIGHT * hits(&description).min(DESCRIPTION_HITS) as f64
                + ACTION_WEIGHT * share;
            (*tag, score)
        })
        .filter(|(tag, score)| *score >= MIN_SCORE && !def.tags.iter().any(|t| t == tag))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let best = scored.first().map_or(0.0, |(_, s)| *s);
    scored
        .into_iter()
        .filter(|(_, s)| *s >= best * RELATIVE_MIN)
        .take(MAX_SUGGESTIONS)
        .map(|(tag, _)| tag.to_owned())
        .collect()
}

/// `text` split into lowercase words at punctuation and camelCase humps,
/// with a plural `s` dropped (`postMessages` → `post`, `message`).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut out);
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            flush(&mut word, &mut out);
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    flush(&mut word, &mut out);
    out
}

/// Moves `word` (singular) into `out`.
fn flush(word: &mut String, out: &mut Vec<String>) {
    if word.is_empty() {
        return;
    }
    let mut w = std::mem::take(word);
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w.pop();
    }
    out.push(w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActionDef;

    #[test]
    fn words_split_camel_case_and_punctuation_and_drop_plurals() {
        assert_eq!(
            words("chat.postMessage /v2/droplets/{id} Files"),
            ["chat", "post", "message", "v2", "droplet", "id", "file"]
        );
        assert_eq!(words("access"), ["access"], "a double s is not a plural");
    }

    #[test]
    fn the_share_of_actions_decides_and_a_few_mentions_do_not() {
        let mut def = IntegrationDef::new("x", "Example");
        def.actions = (0..10)
            .map(|i| ActionDef::new(format!("a{i}"), "GET", format!("/v1/channels/{i}")))
            .collect();
        def.actions
            .push(ActionDef::new("invoice", "GET", "/v1/invoices"));
        assert_eq!(suggest_tags(&def), ["communication"]);
        def.tags = vec!["communication".into()];
        assert!(suggest_tags(&def).is_empty(), "nothing it has already");
        assert!(suggest_tags(&IntegrationDef::new("y", "Nothing known")).is_empty());
    }
}
