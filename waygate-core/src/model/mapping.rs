//! Field mappings (DESIGN.md §3 steps 3 and 11): how an action's input is
//! reshaped before it is validated and sent, and how its output is reshaped
//! before it is returned. Executed by `pipeline/mapping.rs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The mappings of one action, per direction. Applied in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mappings {
    /// Applied to the caller's input, before input validation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<FieldMapping>,
    /// Applied to the response data, after response validation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<FieldMapping>,
}

impl Mappings {
    /// No mapping in either direction.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty() && self.output.is_empty()
    }
}

/// One mapping: the value at `from` moves to `to` (stays in place when `to`
/// is unset), transformed on the way.
///
/// Pointers are JSON pointers (RFC 6901) whose `*` segments stand for every
/// element of an array: `/members/*/profile/email` → `/members/*/email`; `to`
/// has as many `*` segments as `from`, filled with the same indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldMapping {
    /// Where the value is taken from.
    pub from: String,
    /// Where it goes; `from` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// What is done to the value on the way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
    /// The value written to `to` when `from` is absent (else the mapping is
    /// skipped and reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// A transform of one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Transform {
    /// A number or boolean as its JSON text; a string stays as it is.
    String,
    /// A numeric string as a number; a number stays as it is.
    Number,
    /// `"true"`/`"false"` (any case), `1`/`0`, as a boolean.
    Boolean,
    /// A date or time (RFC 3339 timestamp, `YYYY-MM-DD`, or Unix seconds) in
    /// another format: a `strftime` pattern (`%Y-%m-%d`), `rfc3339`, or
    /// `unix` (seconds, a number).
    Date(String),
    /// The value inside a one-element array (an array too: Google Sheets'
    /// `values` wants `[[1,2,3]]` where a caller has `[1,2,3]`).
    Wrap,
    /// The value is removed.
    Omit,
}
