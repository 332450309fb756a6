//! Effective resilience policies: built-in defaults (DESIGN.md §5) overlaid by
//! the integration's defaults, then by the action's overrides.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::model::{ActionDef, BreakerConfig, Defaults, RateLimitConfig, RetryConfig};

/// Retry policy of one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry.
    pub base_delay: Duration,
    /// Upper bound of one backoff.
    pub max_delay: Duration,
    /// Growth per attempt.
    pub factor: f64,
    /// The longest server-requested wait that is honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn once() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// This policy as settings that replace every field of the layer below.
    pub fn as_config(&self) -> RetryConfig {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        RetryConfig {
            max_attempts: Some(self.max_attempts),
            base_delay_ms: Some(millis(self.base_delay)),
            max_delay_ms: Some(millis(self.max_delay)),
            factor: Some(self.factor),
            max_retry_after_ms: Some(millis(self.max_retry_after)),
        }
    }

    /// This policy with `config`'s set fields applied.
    pub fn overlaid(mut self, config: Option<&RetryConfig>) -> Self {
        let Some(c) = config else { return self };
        if let Some(v) = c.max_attempts {
            self.max_attempts = v.max(1);
        }
        if let Some(v) = c.base_delay_ms {
            self.base_delay = Duration::from_millis(v);
        }
        if let Some(v) = c.max_delay_ms {
            self.max_delay = Duration::from_millis(v);
        }
        if let Some(v) = c.factor {
            self.factor = v;
        }
        if let Some(v) = c.max_retry_after_ms {
            self.max_retry_after = Duration::from_millis(v);
        }
        self
    }
}

/// Circuit breaker policy of one integration (see [`BreakerConfig`] for the
/// semantics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerPolicy {
    /// Failures in a row that open the breaker.
    pub failure_threshold: u32,
    /// Share of failed calls within `window` that opens the breaker.
    pub failure_rate: f64,
    /// Calls that must end within `window` before `failure_rate` counts.
    pub minimum_calls: u32,
    /// The window the failure rate is measured over.
    pub window: Duration,
    /// How long it stays open before one probe.
    pub open_for: Duration,
    /// Whether the breaker is on.
    pub enabled: bool,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            failure_rate: 0.5,
            minimum_calls: 20,
            window: Duration::from_secs(30),
            open_for: Duration::from_secs(60),
            enabled: true,
        }
    }
}

impl BreakerPolicy {
    fn overlaid(mut self, config: Option<&BreakerConfig>) -> Self {
        let Some(c) = config else { return self };
        if let Some(v) = c.failure_threshold {
            self.failure_threshold = v.max(1);
        }
        // The definition check refuses rates outside (0, 1]; a definition that
        // skipped it still gets a breaker that means something.
        if let Some(v) = c.failure_rate
            && v.is_finite()
            && v > 0.0
        {
            self.failure_rate = v.min(1.0);
        }
        if let Some(v) = c.minimum_calls {
            self.minimum_calls = v.max(1);
        }
        if let Some(v) = c.window_ms {
            self.window = Duration::from_millis(v.max(1));
        }
        if let Some(v) = c.open_ms {
            self.open_for = Duration::from_millis(v);
        }
        if let Some(v) = c.enabled {
            self.enabled = v;
        }
        self
    }
}

/// An outbound token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// Time between two tokens.
    pub period: Duration,
    /// Bucket size.
    pub burst: NonZeroU32,
}

impl RateLimitPolicy {
    fn from_config(c: &RateLimitConfig) -> Option<Self> {
        if !(c.requests_per_second.is_finite() && c.requests_per_second > 0.0) {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / c.requests_per_second);
        let burst = c
            .burst
            .unwrap_or_else(|| c.requests_per_second.ceil() as u32);
        Some(Self {
            period,
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        })
    }
}

/// Policies that hold for the whole integration (per connection).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IntegrationPolicies {
    pub(crate) breaker: BreakerPolicy,
    pub(crate) rate_limit: Option<RateLimitPolicy>,
    pub(crate) idempotency_header: reqwest::header::HeaderName,
}

/// The idempotency header when an integration names none.
pub(crate) const IDEMPOTENCY_KEY: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("idempotency-key");

impl IntegrationPolicies {
    pub(crate) fn new(d: &Defaults) -> Self {
        Self {
            breaker: BreakerPolicy::default().overlaid(d.circuit_breaker.as_ref()),
            rate_limit: d.rate_limit.as_ref().and_then(RateLimitPolicy::from_config),
            idempotency_header: d
                .idempotency_header
                .as_deref()
                .and_then(|h| reqwest::header::HeaderName::from_bytes(h.as_bytes()).ok())
                .unwrap_or(IDEMPOTENCY_KEY),
        }
    }
}

/// Policies of one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ActionPolicies {
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl ActionPolicies {
    pub(crate) fn new(d: &Defaults, a: &ActionDef) -> Self {
        Self {
            retry: RetryPolicy::default()
                .overlaid(d.retry.as_ref())
                .overlaid(a.retry.as_ref()),
            timeout: a
                .timeout_ms
                .or(d.timeout_ms)
                .map(Duration::from_millis)
                .unwrap_or(DEFAULT_TIMEOUT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_builtin_integration_and_action() {
        let d = Defaults {
            retry: Some(RetryConfig {
                max_attempts: Some(4),
                base_delay_ms: Some(200),
                ..Default::default()
            }),
            timeout_ms: Some(5000),
            ..Default::default()
        };
        let mut a = ActionDef::new("x", "GET", "/x");
        a.retry = Some(RetryConfig {
            max_attempts: Some(5),
            ..Default::default()
        });
        let p = ActionPolicies::new(&d, &a);
        assert_eq!(p.retry.max_attempts, 5);
        assert_eq!(p.retry.base_delay, Duration::from_millis(200));
        assert_eq!(p.retry.max_delay, Duration::from_secs(30));
        assert_eq!(p.timeout, Duration::from_secs(5));

        // The call layer: what it sets replaces the action's, the rest stays.
        let call = RetryConfig {
            max_attempts: Some(1),
            ..Default::default()
        };
        let called = p.retry.overlaid(Some(&call));
        assert_eq!(called.max_attempts, 1);
        assert_eq!(called.base_delay, Duration::from_millis(200));
        // A whole policy given as the call layer replaces every field.
        let whole = RetryPolicy {
            max_attempts: 7,
            base_delay: Duration::from_millis(3),
            max_delay: Duration::from_millis(9),
            factor: 1.5,
            max_retry_after: Duration::from_secs(2),
        };
        assert_eq!(p.retry.overlaid(Some(&whole.as_config())), whole);
    }

    #[test]
    fn rate_limit_burst_defaults_to_one_second_of_tokens() {
        let p = RateLimitPolicy::from_config(&RateLimitConfig {
            requests_per_second: 2.5,
            burst: None,
        })
        .unwrap();
        assert_eq!(p.burst.get(), 3);
        assert_eq!(p.period, Duration::from_millis(400));
    }
}
