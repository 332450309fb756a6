//! The result of an invocation.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::pipeline::{MappingReport, PaginationMeta, ValidationReport};

/// A successful call: the upstream's data and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invocation {
    /// The response body: JSON when the upstream sent JSON, else a string.
    pub data: Value,
    /// How the call went.
    pub meta: InvocationMeta,
}

/// Facts about one invocation, reported on success and on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationMeta {
    /// Unique id of this invocation, sent upstream as `x-request-id`.
    pub request_id: String,
    /// Requests sent upstream (0 when it failed before sending).
    pub attempts: u32,
    /// Time from start to result.
    #[serde(rename = "durationMs", serialize_with = "as_millis")]
    pub duration: Duration,
    /// The last upstream status, when there was an answer.
    pub upstream_status: Option<u16>,
    /// Whether the integration, action and connection were found. Names of a
    /// call that did not resolve are the caller's, not the tenant's: whatever
    /// keeps state per name (metric series, say) must not keep them.
    #[serde(skip)]
    pub resolved: bool,
    /// For an action with a response cache: whether this answer came from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::pipeline::CacheMeta>,
    /// What following pages did, for a `fetchAll` call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<PaginationMeta>,
    /// What response validation found, when the action has an output schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationReport>,
    /// Field mappings that were skipped (a source absent, a transform that
    /// did not fit), when any was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mappings: Option<MappingReport>,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}
