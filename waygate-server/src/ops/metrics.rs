//! Prometheus metrics, rendered at `GET /metrics`.
//!
//! Names follow Prometheus conventions (`_total` counters, `_seconds`
//! histograms). Labels are bounded by what tenants configure (integration and
//! action slugs, connection names), never by request data: a call whose names
//! did not resolve is counted under [`UNKNOWN`], so guessed names leave no
//! series (and no cached handle) behind.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use waygate_core::oauth2::TokenEvent;
use waygate_core::pipeline::{BreakerState, ValidationReport};

/// The integration and action label of calls that named something that does
/// not exist (or could not be looked up): a fixed value, not the guess.
pub const UNKNOWN: &str = "_unknown";

/// Series handles cached at most per cache. Only things that exist get series,
/// so this is a ceiling for a gateway with very many actions, not the usual
/// bound: past it, series are still recorded, through the recorder's own lookup.
const MAX_CACHED_SERIES: usize = 100_000;

/// Latency buckets in seconds: from a fast loopback call to a slow upstream.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's metrics recorder and what it records.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    /// Per action: its series, registered on first use. The recorder would find
    /// them by hashing owned labels on every call; this is three map lookups.
    actions: Arc<SeriesCache<ActionSeries>>,
    /// Per connection: its breaker gauge.
    breakers: Arc<SeriesCache<Gauge>>,
    /// Per action with an output schema: its response validation series.
    validations: Arc<SeriesCache<ValidationSeries>>,
    /// The gateway's own requests, by method and status class.
    http: Arc<[HttpSeries; METHODS.len()]>,
}

/// The request series of one HTTP method, registered when first seen.
#[derive(Default)]
struct HttpSeries {
    duration: OnceLock<Histogram>,
    /// By status class (1xx…5xx).
    requests: [OnceLock<Counter>; 5],
}

/// The series of one tenant's action that every invocation touches.
struct ActionSeries {
    successes: Counter,
    duration: Histogram,
    retries: Counter,
    /// Upstream answers by status class (1xx…5xx), registered when first seen.
    upstream: [OnceLock<Counter>; 5],
}

/// The response validation series of one action.
struct ValidationSeries {
    /// By outcome: valid, invalid, skipped ([`VALIDATION_OUTCOMES`]).
    outcomes: [OnceLock<Counter>; 3],
    /// 1 while the action is drifting (decision 64), else 0.
    drifting: Gauge,
}

/// Outcome labels of `waygate_response_validations_total`.
const VALIDATION_OUTCOMES: [&str; 3] = ["valid", "invalid", "skipped"];

/// Values by three names (tenant, integration, then action or connection),
/// looked up without allocating. Filled only for calls that resolved, so
/// bounded by what tenants configure, and capped at [`MAX_CACHED_SERIES`].
struct SeriesCache<T> {
    entries: RwLock<Entries<T>>,
}

struct Entries<T> {
    by_name: ByName<ByName<ByName<Arc<T>>>>,
    len: usize,
}

type ByName<T> = HashMap<String, T>;

impl<T> Default for SeriesCache<T> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(Entries {
                by_name: HashMap::new(),
                len: 0,
            }),
        }
    }
}

impl<T> SeriesCache<T> {
    fn get_or_insert(&self, a: &str, b: &str, c: &str, make: impl FnOnce() -> T) -> Arc<T> {
        let found = self
            .entries
            .read()
            .ok()
            .and_then(|e| e.by_name.get(a)?.get(b)?.get(c).cloned());
        if let Some(found) = found {
            return found;
        }
        let made = Arc::new(make());
        if let Ok(mut entries) = self.entries.write()
            && entries.len < MAX_CACHED_SERIES
        {
            let Entries { by_name, len } = &mut *entries;
            let slot = by_name
                .entry(a.to_owned())
                .or_default()
                .entry(b.to_owned())
                .or_default()
                .entry(c.to_owned())
                .or_insert_with(|| {
                    *len += 1;
                    made
                });
            return Arc::clone(slot);
        }
        made
    }

    /// Series cached (tests check that guessed names add none).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len)
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// How one invocation ended, for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct InvocationOutcome<'a> {
    /// `None` on success, else the error code.
    pub error_code: Option<&'a str>,
    /// The last upstream status.
    pub upstream_status: Option<u16>,
    /// Requests sent upstream.
    pub attempts: u32,
    /// How long it took.
    pub duration: Duration,
    /// Whether its integration, action and connection were found; when not,
    /// it is counted under [`UNKNOWN`] names.
    pub resolved: bool,
}

impl Metrics {
    /// The process-wide recorder, installed on first use.
    ///
    /// # Panics
    /// Never in practice: only if another global recorder was installed first.
    pub fn install() -> Self {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .expect("the bucket list is not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        });
        Self {
            handle: handle.clone(),
            actions: Arc::default(),
            breakers: Arc::default(),
            validations: Arc::default(),
            http: Arc::default(),
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// One gateway HTTP request answered.
    pub fn http_request(&self, method: &str, status: u16, duration: Duration) {
        let index = method_index(method);
        let (method, series) = (METHODS[index], &self.http[index]);
        let class = class_index(status);
        series.requests[class]
            .get_or_init(
                || counter!("waygate_http_requests_total", "method" => method, "status" => CLASSES[class]),
            )
            .increment(1);
        series
            .duration
            .get_or_init(|| histogram!("waygate_http_request_duration_seconds", "method" => method))
            .record(duration.as_secs_f64());
    }

    /// One action invocation finished.
    pub fn invocation(
        &self,
        tenant: &str,
        integration: &str,
        action: &str,
        o: InvocationOutcome<'_>,
    ) {
        if !o.resolved {
            // Nothing per name: one series per tenant and error code.
            counter!("waygate_invocations_total",
                "tenant" => tenant.to_owned(), "integration" => UNKNOWN, "action" => UNKNOWN,
                "outcome" => "error", "code" => o.error_code.unwrap_or("").to_owned())
            .increment(1);
            return;
        }
        let labels = || {
            [
                ("tenant", tenant.to_owned()),
                ("integration", integration.to_owned()),
                ("action", action.to_owned()),
            ]
        };
        let series = self.actions.get_or_insert(tenant, integration, action, || {
            let labels = labels();
            let mut success = labels.to_vec();
            success.push(("outcome", "success".to_owned()));
            success.push(("code", String::new()));
            ActionSeries {
                successes: counter!("waygate_invocations_total", &success),
                duration: histogram!("waygate_invocation_duration_seconds", &labels),
                retries: counter!("waygate_upstream_retries_total", &labels),
                upstream: Default::default(),
            }
        });
        match o.error_code {
            None => series.successes.increment(1),
            // Errors are the exception: their series are looked up by the recorder.
            Some(code) => {
                let mut with_outcome = labels().to_vec();
                with_outcome.push(("outcome", "error".to_owned()));
                with_outcome.push(("code", code.to_owned()));
                counter!("waygate_invocations_total", &with_outcome).increment(1);
            }
        }
        series.duration.record(o.duration.as_secs_f64());
        if let Some(status) = o.upstream_status {
            let class = class_index(status);
            series.upstream[class]
                .get_or_init(|| {
                    let mut with_class = labels().to_vec();
                    with_class.push(("class", CLASSES[class].to_owned()));
                    counter!("waygate_upstream_responses_total", &with_class)
                })
                .increment(1);
        }
        if o.attempts > 1 {
            series.retries.increment(u64::from(o.attempts - 1));
        }
    }

    /// The breaker of one connection (the worst of its host and action
    /// breakers), after an invocation that resolved: 0 closed, 1 half-open, 2 open.
    pub fn breaker(&self, tenant: &str, integration: &str, connection: &str, state: BreakerState) {
        let value = match state {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            _ => 2.0,
        };
        self.breakers
            .get_or_insert(tenant, integration, connection, || {
                gauge!("waygate_circuit_breaker_state",
                    "tenant" => tenant.to_owned(), "integration" => integration.to_owned(),
                    "connection" => connection.to_owned())
            })
            .set(value);
    }

    /// One response validated (or skipped) for an action that resolved; the
    /// action's drift gauge follows the report.
    pub fn response_validation(
        &self,
        tenant: &str,
        integration: &str,
        action: &str,
        report: &ValidationReport,
    ) {
        let labels = || {
            [
                ("tenant", tenant.to_owned()),
                ("integration", integration.to_owned()),
                ("action", action.to_owned()),
            ]
        };
        let series = self
            .validations
            .get_or_insert(tenant, integration, action, || ValidationSeries {
                outcomes: Default::default(),
                drifting: gauge!("waygate_response_drift", &labels()),
            });
        let outcome = match (report.skipped.is_some(), report.valid) {
            (true, _) => 2,
            (false, true) => 0,
            (false, false) => 1,
        };
        series.outcomes[outcome]
            .get_or_init(|| {
                let mut with_outcome = labels().to_vec();
                with_outcome.push(("outcome", VALIDATION_OUTCOMES[outcome].to_owned()));
                counter!("waygate_response_validations_total", &with_outcome)
            })
            .increment(1);
        if report.skipped.is_none() {
            series.drifting.set(if report.drifting { 1.0 } else { 0.0 });
        }
    }

    /// How an OAuth2 refresh ended (before a call, by the sweep, or asked for).
    pub fn oauth_token_event(&self, event: TokenEvent) {
        match event {
            TokenEvent::Refreshed => {
                counter!("waygate_oauth_refreshes_total", "outcome" => "success").increment(1);
            }
            TokenEvent::RefreshFailed => {
                counter!("waygate_oauth_refreshes_total", "outcome" => "failure").increment(1);
            }
            _ => counter!("waygate_oauth_needs_reauth_total").increment(1),
        }
    }

    /// The sweep's count of connections that need re-authorization (an alert).
    pub fn connections_needing_reauth(&self, n: u64) {
        gauge!("waygate_connections_needing_reauth").set(n as f64);
    }

    /// A tenant was refused by its gateway rate limit.
    pub fn tenant_rate_limited(&self, tenant: &str) {
        counter!("waygate_tenant_rate_limited_total", "tenant" => tenant.to_owned()).increment(1);
    }

    /// The request-log queue: entries waiting, written and shed since start.
    pub fn log_queue(&self, queued: usize, written: u64, dropped: u64) {
        gauge!("waygate_log_queue_depth").set(queued as f64);
        counter!("waygate_log_entries_written_total").absolute(written);
        counter!("waygate_log_entries_dropped_total").absolute(dropped);
    }
}

/// Method labels: the standard methods, then `OTHER`, which every extension
/// method shares (labels stay bounded).
const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "OTHER",
];

fn method_index(method: &str) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// Status class labels, by [`class_index`].
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// 0 for `1xx` … 4 for `5xx` (anything else counts as `5xx`).
fn class_index(status: u16) -> usize {
    match status {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_that_did_not_resolve_leave_no_series_named_after_the_guess() {
        let metrics = Metrics::install();
        for i in 0..2_000 {
            metrics.invocation(
                "t-metrics",
                &format!("guessed-integration-{i}"),
                &format!("guessed-action-{i}"),
                InvocationOutcome {
                    error_code: Some("NOT_FOUND"),
                    upstream_status: None,
                    attempts: 0,
                    duration: Duration::ZERO,
                    resolved: false,
                },
            );
        }
        assert_eq!(metrics.actions.len(), 0);
        assert_eq!(metrics.breakers.len(), 0);
        let text = metrics.render();
        assert!(!text.contains("guessed-"), "a guessed name is exported");
        assert!(
            text.contains(r#"integration="_unknown""#) && text.contains(r#"code="NOT_FOUND""#),
            "{text}"
        );
    }
}
