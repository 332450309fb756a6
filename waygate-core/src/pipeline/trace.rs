//! Step 12's trace spans (decision 92): one `invoke` span per invocation and
//! one `send` span per attempt, their names and fields in one place. The other
//! steps open their spans with `#[tracing::instrument]` on their own function
//! (`resolve`, `map_input`, `validate_input`, `cache_lookup`, `cache_store`,
//! `credential`, `build_request`, `authorize`, `breaker`, `rate_limit`, `page`,
//! `validate_response`, `map_output`). All of them are at `DEBUG`, as
//! tower-http's request spans are: a subscriber that logs at `INFO` creates
//! none of them, so logging pays nothing for spans nobody reads, and an
//! exporter (or `RUST_LOG=waygate_core=debug`) turns them on.
//!
//! Spans carry names, ids, counts, statuses and error codes only: never an
//! input, a URL, a header or a body, so no secret can reach a span. With no
//! subscriber listening, a span is a disabled handle (one cached interest
//! check per callsite); fields are not even evaluated.

use std::time::Duration;

use tracing::Span;
use tracing::field::Empty;

use super::{Call, UpstreamResponse};
use crate::error::Error;
use crate::invocation::InvocationMeta;

/// The span around one invocation; what it found is recorded by [`invoked`]
/// when it ends.
pub(super) fn invoke(call: &Call, request_id: &str) -> Span {
    tracing::debug_span!(
        "invoke",
        request_id,
        tenant = %call.tenant,
        integration = %call.integration,
        action = %call.action,
        connection = call.options.connection.as_deref().unwrap_or("default"),
        attempts = Empty,
        upstream_status = Empty,
        error_code = Empty,
        otel.status_code = Empty,
    )
}

/// Records how an invocation ended on its span.
pub(super) fn invoked(span: &Span, meta: &InvocationMeta, error: Option<&Error>) {
    if span.is_disabled() {
        return;
    }
    span.record("attempts", meta.attempts);
    if let Some(status) = meta.upstream_status {
        span.record("upstream_status", status);
    }
    failed(span, error);
}

/// The span around one attempt of sending a request upstream; `number`
/// counts the invocation's attempts so far, pages included, as
/// `meta.attempts` does.
pub(super) fn attempt(number: u32) -> Span {
    tracing::debug_span!(
        "send",
        attempt = number,
        otel.kind = "client",
        status = Empty,
        duration_ms = Empty,
        error_code = Empty,
        otel.status_code = Empty,
    )
}

/// Records an attempt's outcome (status or error code) and duration.
pub(super) fn attempted(span: &Span, outcome: &Result<UpstreamResponse, Error>, took: Duration) {
    if span.is_disabled() {
        return;
    }
    span.record("duration_ms", took.as_secs_f64() * 1000.0);
    match outcome {
        Ok(response) => {
            span.record("status", response.status.as_u16());
            if response.status.is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
        }
        Err(e) => failed(span, Some(e)),
    }
}

fn failed(span: &Span, error: Option<&Error>) {
    if let Some(e) = error {
        span.record("error_code", e.code());
        span.record("otel.status_code", "ERROR");
    }
}
