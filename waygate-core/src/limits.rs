//! Bounds on the work that parsing untrusted text may cost (decision 43).
//!
//! Every parser of user input in core checks these before its expensive work:
//! [`IntegrationDef::from_json`](crate::model::IntegrationDef::from_json) and
//! [`from_yaml`](crate::model::IntegrationDef::from_yaml), the OpenAPI importer's
//! [`from_str`](crate::import::from_str), [`from_value`](crate::import::from_value)
//! and the documents its `$ref`s load. A server can call the cheap checks here
//! itself first (on the thread that read the body) to refuse a hostile document
//! before handing it to a worker pool.
//!
//! - Size: [`MAX_DOCUMENT_BYTES`] per document.
//! - Nesting: [`MAX_DEPTH`] levels of arrays and objects in JSON, the bound
//!   `serde_json` applies by default; [`MAX_YAML_DEPTH`] of flow and block
//!   collections in YAML.
//! - YAML nodes: [`MAX_YAML_NODES`]. YAML parsing costs about a microsecond per
//!   node (JSON about a tenth of that), so this keeps any YAML document under a
//!   second or two of CPU; larger descriptions can be sent as JSON.
//! - YAML aliases: [`MAX_ALIAS_REPLAY`] nodes replayed in all, so a "billion
//!   laughs" document of nested aliases is refused before it is expanded.
//!
//! YAML is parsed by `serde-saphyr`, whose budgets are checked on the event
//! stream as the parser produces it: a breach stops the parse at that point.
//! (`libyaml`'s scanner, used before, re-scanned its stack of possible simple
//! keys for every token: 100,000 nested `[` after a mapping key cost 40 s.)

use serde_json::Value;

#[cfg(feature = "yaml")]
mod yaml;
#[cfg(feature = "yaml")]
pub(crate) use yaml::{YamlError, from_yaml};

/// The largest document (bytes of text) a parser accepts.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of arrays/objects accepted in JSON (`serde_json`'s own bound).
pub const MAX_DEPTH: usize = 128;

/// The deepest nesting of sequences/mappings accepted in YAML. Lower than JSON's:
/// each level costs the YAML deserializer several kilobytes of stack in a debug
/// build, and 128 levels of flow mappings overflowed a 2 MiB thread stack.
pub const MAX_YAML_DEPTH: usize = 64;

/// The most nodes (scalars, sequences, mappings, aliases replayed) one YAML document may hold.
pub const MAX_YAML_NODES: usize = 1_000_000;

/// The most nodes all aliases of one YAML document may replay together.
pub const MAX_ALIAS_REPLAY: usize = 100_000;

/// A document over one of the limits: which limit, and where the parser was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

impl LimitError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    fn at(mut self, line: usize, column: usize) -> Self {
        self.message = format!("{} (line {line}, column {column})", self.message);
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// What was over which limit, with the line and column when known.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line where the limit was reached, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column where the limit was reached, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }
}

/// Refuses a document of more than [`MAX_DOCUMENT_BYTES`].
///
/// # Errors
/// A [`LimitError`] giving both sizes.
pub fn check_size(bytes: usize) -> Result<(), LimitError> {
    if bytes > MAX_DOCUMENT_BYTES {
        return Err(LimitError::new(format!(
            "the document is {bytes} bytes; the limit is {MAX_DOCUMENT_BYTES}"
        )));
    }
    Ok(())
}

/// Checks JSON text's size and nesting depth in one pass over its bytes (no
/// allocation, strings skipped), before a parser builds anything from it.
///
/// Text that is not valid JSON passes unless it is too large or too deep; the
/// parser reports its syntax errors.
///
/// # Errors
/// A [`LimitError`] naming the limit, with the line and column where it was passed.
pub fn check_json_text(text: &str) -> Result<(), LimitError> {
    check_size(text.len())?;
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string; an escape skips the byte after the backslash.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    let (line, column) = line_column(text, i);
                    return Err(depth_error().at(line, column));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Checks an already parsed value's nesting depth (without recursion), for
/// documents handed over as values rather than text.
///
/// # Errors
/// A [`LimitError`] naming the limit and the JSON pointer of the first node past it.
pub fn check_value(value: &Value) -> Result<(), LimitError> {
    check_value_at(value, 0)
}

/// As [`check_value`], for a value found `depth` levels down in a document
/// (the importer reads some parts of a document later than the rest).
///
/// # Errors
/// As [`check_value`].
pub(crate) fn check_value_at(value: &Value, depth: usize) -> Result<(), LimitError> {
    let mut stack: Vec<(&Value, usize)> = vec![(value, depth)];
    while let Some((node, depth)) = stack.pop() {
        if !(node.is_array() || node.is_object()) {
            continue;
        }
        if depth + 1 > MAX_DEPTH {
            return Err(depth_error());
        }
        match node {
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

fn depth_error() -> LimitError {
    LimitError::new(format!(
        "the document nests arrays/objects more than {MAX_DEPTH} levels deep"
    ))
}

/// The 1-based line and column (in characters) of byte `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// How long `value` is as compact JSON text, counted without building the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonTextSize {
    /// UTF-8 bytes: what holding the text costs.
    pub(crate) bytes: u64,
    /// Characters: what a reader (an LLM's context) sees.
    pub(crate) characters: u64,
}

/// The size of `value` written as compact JSON.
pub(crate) fn json_text_size(value: &Value) -> JsonTextSize {
    struct Count(JsonTextSize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.bytes += bytes.len() as u64;
            // Every UTF-8 character has exactly one byte that is no continuation byte.
            self.0.characters += bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(JsonTextSize {
        bytes: 0,
        characters: 0,
    });
    // Writing into a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_is_measured_as_written_in_bytes_and_characters() {
        for v in [
            serde_json::json!({"name": "Zoë ✓", "n": [1, 2.5, null]}),
            serde_json::json!("a\"b\n"),
        ] {
            let text = v.to_string();
            let size = json_text_size(&v);
            assert_eq!(size.bytes, text.len() as u64);
            assert_eq!(size.characters, text.chars().count() as u64);
        }
    }

    #[test]
    fn json_depth_is_checked_outside_strings_with_its_place() {
        check_json_text(&format!("{}{}", "[".repeat(128), "]".repeat(128))).unwrap();
        let e = check_json_text(&format!("{{\"a\":\n{}", "[".repeat(200))).unwrap_err();
        assert_eq!((e.line(), e.column()), (Some(2), Some(128)));
        assert!(e.message().contains("more than 128 levels"), "{e}");
        // Brackets in strings, escaped quotes included, do not count.
        check_json_text(&format!("[\"\\\"{}\"]", "[".repeat(500))).unwrap();
    }

    #[test]
    fn values_and_sizes() {
        let mut deep = Value::Null;
        for _ in 0..200 {
            deep = Value::Array(vec![deep]);
        }
        assert!(check_value(&deep).is_err());
        check_value(&serde_json::json!({"a": [[{"b": 1}]]})).unwrap();
        assert!(check_size(MAX_DOCUMENT_BYTES + 1).is_err());
        check_size(MAX_DOCUMENT_BYTES).unwrap();
    }
}
