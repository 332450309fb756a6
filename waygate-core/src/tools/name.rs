//! Portable tool names: one deterministic name per action id, valid for every
//! LLM vendor and MCP host.
//!
//! The MCP spec allows `slack.chat.postMessage`, but OpenAI and Anthropic
//! require `^[a-zA-Z0-9_-]{1,64}$`, and MCP hosts prefix tool names with the
//! server's name (`mcp__waygate__…`). So the portable name is at most
//! [`MAX_NAME_LEN`] (48) characters, leaving 16 for such prefixes.

use sha2::{Digest, Sha256};

/// The longest portable name.
pub const MAX_NAME_LEN: usize = 48;

/// Hex digits of the full id's SHA-256 that end a shortened name.
const HASH_LEN: usize = 8;

/// The portable tool name of an action id (`integration.action`).
///
/// `.` becomes `__` (so `slack.chat_postMessage` → `slack__chat_postMessage`),
/// any other character outside `[a-zA-Z0-9_-]` becomes `_`, a name that does
/// not start with a letter or `_` gets a leading `_`, and a name longer
/// than [`MAX_NAME_LEN`] keeps its first 39 characters and ends in `_` plus
/// eight hex digits of the SHA-256 of the full id, so two long ids sharing a
/// prefix still differ. The same id always gives the same name.
pub fn portable_name(id: &str) -> String {
    let mut name = String::with_capacity(id.len() + 4);
    for c in id.chars() {
        match c {
            '.' => name.push_str("__"),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => name.push(c),
            _ => name.push('_'),
        }
    }
    // Gemini wants a letter or `_` first; an integration slug may start with a
    // digit or `-` (`1password`), so those get a leading `_` everywhere.
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    if name.len() <= MAX_NAME_LEN {
        return name;
    }
    let digest = Sha256::digest(id.as_bytes());
    let hash: String = digest
        .iter()
        .take(HASH_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect();
    // Only ASCII is left in `name`, so byte offsets are character offsets.
    name.truncate(MAX_NAME_LEN - HASH_LEN - 1);
    name.push('_');
    name.push_str(&hash);
    name
}

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's and Anthropic's rule).
pub fn is_portable(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_become_double_underscores() {
        assert_eq!(
            portable_name("slack.chat_postMessage"),
            "slack__chat_postMessage"
        );
        assert_eq!(
            portable_name("slack.chat.postMessage"),
            "slack__chat__postMessage"
        );
    }

    #[test]
    fn other_characters_are_replaced() {
        assert_eq!(portable_name("a b.c/d"), "a_b__c_d");
        assert_eq!(portable_name("twilio.ünï"), "twilio___n_");
        assert!(is_portable(&portable_name("twilio.ünï")));
    }

    #[test]
    fn names_start_with_a_letter_or_underscore() {
        assert_eq!(portable_name("1password.get"), "_1password__get");
        assert_eq!(portable_name("-x.y"), "_-x__y");
        assert_eq!(portable_name(""), "_");
    }

    #[test]
    fn long_ids_are_cut_with_a_hash_of_the_whole_id() {
        let a = "digitalocean.apps_get_instance_size_and_region_and_more_a";
        let b = "digitalocean.apps_get_instance_size_and_region_and_more_b";
        let (na, nb) = (portable_name(a), portable_name(b));
        assert_eq!(na.len(), MAX_NAME_LEN);
        assert_ne!(na, nb);
        assert_eq!(na[..39], nb[..39]);
        assert!(is_portable(&na));
        assert_eq!(na, portable_name(a), "deterministic");
    }

    #[test]
    fn portability_check() {
        assert!(is_portable("a-b_C9"));
        assert!(!is_portable(""));
        assert!(!is_portable("a.b"));
        assert!(!is_portable(&"a".repeat(65)));
    }
}
