//! Resilience settings as they appear in a definition.
//!
//! Every field is optional: a definition states only what it changes, and the
//! effective policy is layered `built-in < integration < action < call`
//! (see [`crate::policy`]).

use serde::{Deserialize, Serialize};

/// Retry settings; unset fields fall back to the layer below.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts in all, the first included (`1` turns retries off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Backoff before the first retry, before jitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_delay_ms: Option<u64>,
    /// Upper bound of one backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_ms: Option<u64>,
    /// Growth of the backoff per attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// The longest `Retry-After` Waygate waits for; a longer one ends the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retry_after_ms: Option<u64>,
}

impl RetryConfig {
    /// The first setting out of range, as (field, what is wrong): the one rule
    /// for a definition's `retry` and a call's own.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        if matches!(self.max_attempts, Some(0 | 21..)) {
            return Some(("maxAttempts", "must be between 1 and 20"));
        }
        if let Some(f) = self.factor
            && !(f.is_finite() && f >= 1.0)
        {
            return Some(("factor", "must be a number of at least 1"));
        }
        if let (Some(base), Some(max)) = (self.base_delay_ms, self.max_delay_ms)
            && base > max
        {
            return Some(("baseDelayMs", "must not exceed maxDelayMs"));
        }
        None
    }
}

/// Circuit breaker settings; unset fields take the built-in defaults.
///
/// A breaker opens on `failureThreshold` failures in a row, or when at least
/// `minimumCalls` calls ended within the last `windowMs` and `failureRate` of
/// them failed. A success resets the run of failures and dilutes the rate.
/// Outcomes are counted per invocation (retries included): one that succeeds
/// after a failed attempt is a success. There is one breaker per integration,
/// connection and action, and one per connection that counts only calls
/// that got no answer at all (connection refused, timeouts) and opens every
/// action of the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failures in a row that open the breaker (5 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
    /// Share of failed calls within the window that opens the breaker, above
    /// 0 and at most 1 (0.5 by default); counts once `minimumCalls` ended there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// Calls that must end within the window before the rate counts (20 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_calls: Option<u32>,
    /// Length of the window the failure rate is measured over (30 s by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// How long an open breaker refuses calls before it lets one probe through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_ms: Option<u64>,
    /// `false` turns the breaker off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// An outbound rate limit (token bucket) per connection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second; fractions allowed (`0.5` = one per two seconds).
    pub requests_per_second: f64,
    /// Requests that may go at once before the sustained rate applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}
