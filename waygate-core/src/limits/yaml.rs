//! YAML within the budgets of [`crate::limits`] (the `yaml` feature).

use super::{
    LimitError, MAX_ALIAS_REPLAY, MAX_DOCUMENT_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, check_size,
};

/// `serde-saphyr` options with this module's budgets; `duplicate_keys_win`
/// keeps the last of duplicate mapping keys (vendor specifications have them)
/// instead of refusing the document.
pub(crate) fn yaml_options(duplicate_keys_win: bool) -> serde_saphyr::Options {
    use serde_saphyr::options::DuplicateKeyPolicy;
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(MAX_DOCUMENT_BYTES),
            max_depth: MAX_YAML_DEPTH,
            flow_nesting_limit: MAX_YAML_DEPTH,
            max_nodes: MAX_YAML_NODES,
            max_events: 2 * MAX_YAML_NODES,
            max_total_scalar_bytes: MAX_DOCUMENT_BYTES,
            max_aliases: MAX_ALIAS_REPLAY,
            max_anchors: MAX_ALIAS_REPLAY,
            max_recorded_anchor_events: 2 * MAX_ALIAS_REPLAY,
            max_recorded_anchor_bytes: MAX_DOCUMENT_BYTES,
            max_documents: 1,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_REPLAY,
        },
        duplicate_keys: if duplicate_keys_win {
            DuplicateKeyPolicy::LastWins
        } else {
            DuplicateKeyPolicy::Error
        },
        // `.inf` and `.nan` have no JSON form: kept as their YAML text.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
        // Messages name line and column; the text itself is the caller's.
        with_snippet: false,
    }
}

/// Parses YAML text under this module's limits.
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(
    text: &str,
    duplicate_keys_win: bool,
) -> Result<T, YamlError> {
    check_size(text.len()).map_err(YamlError::Limit)?;
    serde_saphyr::from_str_with_options(text, yaml_options(duplicate_keys_win)).map_err(|e| {
        match yaml_limit(&e) {
            Some(message) => {
                let limit = LimitError::new(message);
                YamlError::Limit(match location(&e) {
                    (Some(line), Some(column)) => limit.at(line, column),
                    _ => limit,
                })
            }
            None => YamlError::Parse(e),
        }
    })
}

/// What a budget breach means, in this module's terms; `None` for other errors.
fn yaml_limit(e: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let nodes = || {
        format!(
            "the YAML document has more than {MAX_YAML_NODES} nodes; send larger documents as JSON"
        )
    };
    let aliases =
        || format!("the YAML document's aliases would replay more than {MAX_ALIAS_REPLAY} nodes");
    Some(match e {
        E::Budget { breach, .. } => match breach {
            B::Depth { .. } => yaml_depth_error(),
            B::Nodes { .. } | B::Events { .. } => nodes(),
            B::ScalarBytes { .. } => {
                format!("the YAML document's text values exceed {MAX_DOCUMENT_BYTES} bytes")
            }
            B::Documents { .. } => "the text holds more than one YAML document".to_owned(),
            B::Aliases { .. }
            | B::Anchors { .. }
            | B::AliasAnchorRatio { .. }
            | B::RecordedAnchorEvents { .. }
            | B::RecordedAnchorBytes { .. } => aliases(),
            other => format!("the YAML document is over a parser budget: {other:?}"),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => aliases(),
        other => {
            // Errors raised inside deserialization reach us wrapped; their text
            // is all that tells them apart (the parser's own nesting guard for
            // flow collections words it "recursion limit exceeded").
            let text = other.to_string();
            if text.contains("recursion limit exceeded") {
                yaml_depth_error()
            } else if text.contains("alias replay") || text.contains("alias expansion") {
                aliases()
            } else {
                return None;
            }
        }
    })
}

/// The 1-based line and column of a `serde-saphyr` error, when it has them.
fn location(e: &serde_saphyr::Error) -> (Option<usize>, Option<usize>) {
    let number = |n: u64| usize::try_from(n).ok().filter(|n| *n > 0);
    let location = e.location();
    (
        location.as_ref().and_then(|l| number(l.line())),
        location.as_ref().and_then(|l| number(l.column())),
    )
}

/// Why YAML text was not read.
#[derive(Debug)]
pub(crate) enum YamlError {
    /// Over one of this module's limits.
    Limit(LimitError),
    /// A syntax or type error.
    Parse(serde_saphyr::Error),
}

impl YamlError {
    /// The message, and the 1-based line and column when known.
    pub(crate) fn parts(&self) -> (String, Option<usize>, Option<usize>) {
        match self {
            Self::Limit(e) => (e.message().to_owned(), e.line(), e.column()),
            Self::Parse(e) => {
                let (line, column) = location(e);
                (e.to_string(), line, column)
            }
        }
    }
}

fn yaml_depth_error() -> String {
    format!("the YAML document nests sequences/mappings more than {MAX_YAML_DEPTH} levels deep")
}
