//! Search text as both backends index it: lowercase words of letters and
//! digits, separated by single spaces.
//!
//! Normalising in Rust, before either database sees the text, is what makes
//! SQLite FTS5 and PostgreSQL agree: FTS5's `unicode61` tokenizer and
//! PostgreSQL's `array_to_tsvector` then only split on spaces, and neither
//! applies its own rules (PostgreSQL's parser would keep `api-00042` or a URL
//! path as one token; FTS5 would strip diacritics unless told not to).

/// Longer words are not indexed (PostgreSQL refuses lexemes over 2 KiB; a
/// base64 blob in a description is not something anyone searches for).
pub(crate) const MAX_WORD_CHARS: usize = 64;

/// The words of `text`: runs of letters and digits, lowercased. A word written
/// in camelCase also yields its parts (`postMessage` → `postmessage`, `post`,
/// `message`), so that API slugs are found by the words they are made of.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs(text) {
        push_word(&mut out, run);
        let parts = camel_parts(run);
        if parts.len() > 1 {
            for part in parts {
                push_word(&mut out, part);
            }
        }
    }
    out
}

/// The words of a search query: as [`words`], without camelCase parts (a
/// query word must match a whole indexed word, or its prefix when last).
pub(crate) fn query_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs(text) {
        push_word(&mut out, run);
    }
    out
}

/// Runs of letters and digits short enough to index.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty() && run.chars().count() <= MAX_WORD_CHARS)
}

/// The words of several fields, as one indexed document (space-separated).
pub(crate) fn document<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut all: Vec<String> = Vec::new();
    for field in fields {
        for w in words(field) {
            if !all.contains(&w) {
                all.push(w);
            }
        }
    }
    all.join(" ")
}

fn push_word(out: &mut Vec<String>, word: &str) {
    let lower = word.to_lowercase();
    // Lowercasing can add characters (İ → i̇) and characters that are not
    // alphanumeric (a combining dot): keep the word only if it stays one word.
    if lower.chars().all(char::is_alphanumeric) && !lower.is_empty() {
        out.push(lower);
    }
}

/// `postMessage` → `post`, `Message`; `HTTPServer` → `HTTP`, `Server`;
/// `v2Users` → `v2`, `Users`. A word without case changes is one part.
fn camel_parts(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|(_, n)| n.is_lowercase());
        let boundary = c.is_uppercase()
            && (prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower));
        if boundary {
            parts.push(&word[start..at]);
            start = at;
        }
    }
    parts.push(&word[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercase_runs_of_letters_and_digits() {
        assert_eq!(words("api-00042 /v1/{id}"), ["api", "00042", "v1", "id"]);
        assert_eq!(words("Café crème"), ["café", "crème"]);
        assert_eq!(
            words(r#"" * AND OR - : ( ) ^ NEAR/2 ' % _"#),
            ["and", "or", "near", "2"]
        );
        assert!(words("").is_empty());
        assert!(words("---").is_empty());
    }

    #[test]
    fn camel_case_words_also_yield_their_parts() {
        assert_eq!(
            words("chat_postMessage"),
            ["chat", "postmessage", "post", "message"]
        );
        assert_eq!(words("HTTPServer"), ["httpserver", "http", "server"]);
        assert_eq!(words("v2Users"), ["v2users", "v2", "users"]);
        assert_eq!(words("ALLCAPS"), ["allcaps"]);
    }

    #[test]
    fn query_words_are_whole_words() {
        assert_eq!(
            query_words("postMessage to #General"),
            ["postmessage", "to", "general"]
        );
    }

    #[test]
    fn long_words_are_not_indexed() {
        let long = "a".repeat(MAX_WORD_CHARS + 1);
        assert_eq!(words(&format!("x {long} y")), ["x", "y"]);
        assert_eq!(words(&"b".repeat(MAX_WORD_CHARS)).len(), 1);
    }

    #[test]
    fn a_document_lists_each_word_once() {
        assert_eq!(
            document(["listUsers", "Lists the users", "users"]),
            "listusers list users lists the"
        );
        assert_eq!(document(["", "!!"]), "");
    }
}
