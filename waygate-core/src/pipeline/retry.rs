//! Step 8b, retry: two decisions, kept apart. The classifier says *whether* an
//! outcome is worth retrying (and, in the same pass, what it says about the
//! upstream's health, for the breakers); the strategy says *when*, and owns
//! backoff and the attempt budget.

use std::time::{Duration, SystemTime};

use rand::Rng as _;
use reqwest::header::HeaderMap;

use super::breaker::Outcome;
use super::transport::UpstreamResponse;
use crate::error::{Error, ErrorKind};
use crate::policy::RetryPolicy;

/// Why an outcome may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// The connection failed: nothing was sent.
    Connect,
    /// No answer in time, or the exchange broke off after sending: the request
    /// may have been processed.
    Timeout,
    /// HTTP 429.
    Throttled,
    /// HTTP 502, 503 or 504.
    Unavailable,
}

/// The classifier's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryAction {
    /// Worth retrying, with the server's requested delay when it gave one.
    Retry(RetryReason, Option<Duration>),
    /// Not a retryable outcome.
    NoOpinion,
}

/// The strategy's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShouldAttempt {
    /// Try again after this delay.
    YesAfter(Duration),
    /// Stop and report the outcome.
    No,
}

/// The classifier's verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Whether it is worth retrying.
    pub(crate) retry: RetryAction,
    /// What it says about the upstream's health; `None` for a failure of
    /// ours (a URL refused by the policy, a body that cannot be encoded).
    pub(crate) health: Option<Outcome>,
}

/// Classifies one attempt's outcome: the one classifier of an attempt, read
/// by the retry strategy and the breakers alike.
pub(crate) fn classify(outcome: &Result<UpstreamResponse, Error>, now: SystemTime) -> Verdict {
    let (retry, health) = match outcome {
        Ok(r) => {
            let health = match r.status.is_server_error() {
                true => Outcome::ServerError,
                false => Outcome::Answered,
            };
            let retry = match r.status.as_u16() {
                429 => RetryAction::Retry(RetryReason::Throttled, server_delay(&r.headers, now)),
                502..=504 => {
                    RetryAction::Retry(RetryReason::Unavailable, server_delay(&r.headers, now))
                }
                _ => RetryAction::NoOpinion,
            };
            (retry, Some(health))
        }
        Err(e) => match e.kind() {
            ErrorKind::Transport { .. } | ErrorKind::Timeout { .. } => {
                let reason = match e.may_have_been_sent() {
                    true => RetryReason::Timeout,
                    false => RetryReason::Connect,
                };
                (RetryAction::Retry(reason, None), Some(Outcome::NoAnswer))
            }
            _ => (RetryAction::NoOpinion, None),
        },
    };
    Verdict { retry, health }
}

/// The delay a server asked for: `Retry-After` (seconds or HTTP date), else
/// `RateLimit-Reset` (seconds), else `X-RateLimit-Reset` (seconds, or a Unix
/// timestamp in seconds or milliseconds, as providers differ).
pub(crate) fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(v) = text("retry-after") {
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    if let Some(secs) = text("ratelimit-reset").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let reset = text("x-ratelimit-reset").and_then(|v| v.parse::<f64>().ok())?;
    if !reset.is_finite() || reset < 0.0 {
        return None;
    }
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let delay = match reset {
        r if r > 1e12 => r / 1000.0 - since_epoch,
        r if r > 1e9 => r - since_epoch,
        r => r,
    };
    Some(Duration::from_secs_f64(delay.max(0.0)))
}

/// Backoff and budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Strategy {
    policy: RetryPolicy,
}

impl Strategy {
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self { policy }
    }

    /// Whether attempt number `attempts + 1` should go out.
    ///
    /// `may_repeat` says whether repeating the request is safe: the action is
    /// idempotent or the call carries an idempotency key. A connect failure may
    /// always be retried, because nothing reached the upstream.
    pub(crate) fn should_attempt(
        &self,
        attempts: u32,
        action: RetryAction,
        may_repeat: bool,
    ) -> ShouldAttempt {
        let RetryAction::Retry(reason, server_delay) = action else {
            return ShouldAttempt::No;
        };
        if attempts >= self.policy.max_attempts || (!may_repeat && reason != RetryReason::Connect) {
            return ShouldAttempt::No;
        }
        match server_delay {
            Some(d) if d > self.policy.max_retry_after => ShouldAttempt::No,
            Some(d) => ShouldAttempt::YesAfter(d),
            None => ShouldAttempt::YesAfter(self.backoff(attempts)),
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        full_jitter(
            self.policy.base_delay,
            self.policy.factor,
            self.policy.max_delay,
            attempts,
        )
    }
}

/// Full jitter after attempt `attempts`: uniform in
/// `[0, min(max, base × factor^(attempts-1))]`. The one backoff of the
/// engine: calls' retries and the OAuth2 token requests' both wait by it.
pub(crate) fn full_jitter(base: Duration, factor: f64, max: Duration, attempts: u32) -> Duration {
    let exp = factor.powi(attempts.saturating_sub(1).min(63) as i32);
    let ceiling = (base.as_secs_f64() * exp).min(max.as_secs_f64());
    if ceiling.is_nan() || ceiling <= 0.0 {
        return Duration::ZERO;
    }
    // `max` may be `Duration::MAX`, whose seconds round up past what a
    // `Duration` holds as an f64.
    Duration::try_from_secs_f64(rand::rng().random_range(0.0..=ceiling)).unwrap_or(max)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn reads_every_form_of_server_delay() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            server_delay(&headers("retry-after", "7"), now),
            Some(Duration::from_secs(7))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(12));
        assert_eq!(
            server_delay(&headers("retry-after", &date), now),
            Some(Duration::from_secs(12))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(12));
        assert_eq!(
            server_delay(&headers("retry-after", &past), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            server_delay(&headers("ratelimit-reset", "3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            server_delay(&headers("x-ratelimit-reset", "1800000005"), now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            server_delay(&headers("x-ratelimit-reset", "1800000002000"), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            server_delay(&headers("x-ratelimit-reset", "4"), now),
            Some(Duration::from_secs(4))
        );
        assert_eq!(server_delay(&headers("retry-after", "soon"), now), None);
    }

    #[test]
    fn one_pass_judges_retry_and_health() {
        let now = SystemTime::UNIX_EPOCH;
        let answer = |status: u16| {
            Ok(UpstreamResponse {
                status: http::StatusCode::from_u16(status).unwrap(),
                headers: headers("retry-after", "2"),
                body: bytes::Bytes::new(),
            })
        };
        let verdict = |outcome| {
            let v = classify(&outcome, now);
            (v.retry, v.health)
        };
        let later = Some(Duration::from_secs(2));
        assert_eq!(
            verdict(answer(503)),
            (
                RetryAction::Retry(RetryReason::Unavailable, later),
                Some(Outcome::ServerError)
            )
        );
        assert_eq!(
            verdict(answer(500)),
            (RetryAction::NoOpinion, Some(Outcome::ServerError))
        );
        assert_eq!(
            verdict(answer(429)),
            (
                RetryAction::Retry(RetryReason::Throttled, later),
                Some(Outcome::Answered)
            )
        );
        let unreachable = || {
            Error::new(ErrorKind::Transport {
                message: "refused".into(),
            })
        };
        assert_eq!(
            verdict(Err(unreachable())),
            (
                RetryAction::Retry(RetryReason::Connect, None),
                Some(Outcome::NoAnswer)
            )
        );
        assert_eq!(
            verdict(Err(unreachable().sent())),
            (
                RetryAction::Retry(RetryReason::Timeout, None),
                Some(Outcome::NoAnswer)
            )
        );
        let refused = Error::from(crate::url_policy::Refused("10.0.0.1".into()));
        assert_eq!(verdict(Err(refused)), (RetryAction::NoOpinion, None));
    }

    #[test]
    fn writes_are_repeated_only_when_safe() {
        let s = Strategy::new(RetryPolicy::default());
        let unavailable = RetryAction::Retry(RetryReason::Unavailable, None);
        assert_eq!(s.should_attempt(1, unavailable, false), ShouldAttempt::No);
        assert!(matches!(
            s.should_attempt(1, unavailable, true),
            ShouldAttempt::YesAfter(_)
        ));
        let connect = RetryAction::Retry(RetryReason::Connect, None);
        assert!(matches!(
            s.should_attempt(1, connect, false),
            ShouldAttempt::YesAfter(_)
        ));
    }

    #[test]
    fn full_jitter_stays_under_its_growing_ceiling() {
        let base = Duration::from_millis(200);
        let max = Duration::from_secs(1);
        for attempts in 1..=8 {
            let ceiling = (base * 2u32.pow(attempts - 1)).min(max);
            for _ in 0..50 {
                assert!(
                    full_jitter(base, 2.0, max, attempts) <= ceiling,
                    "{attempts}"
                );
            }
        }
        assert_eq!(full_jitter(Duration::ZERO, 2.0, max, 3), Duration::ZERO);
        let huge = Duration::from_secs(u64::MAX / 2);
        assert!(full_jitter(huge, 4.0, Duration::MAX, u32::MAX) <= Duration::MAX);
    }

    #[test]
    fn budget_server_delay_and_jitter_bounds() {
        let s = Strategy::new(RetryPolicy::default());
        let throttled =
            |d| RetryAction::Retry(RetryReason::Throttled, Some(Duration::from_secs(d)));
        assert_eq!(
            s.should_attempt(3, throttled(1), true),
            ShouldAttempt::No,
            "budget of 3 spent"
        );
        assert_eq!(
            s.should_attempt(1, throttled(5), true),
            ShouldAttempt::YesAfter(Duration::from_secs(5))
        );
        assert_eq!(
            s.should_attempt(1, throttled(61), true),
            ShouldAttempt::No,
            "beyond max Retry-After"
        );
        assert_eq!(
            s.should_attempt(1, RetryAction::NoOpinion, true),
            ShouldAttempt::No
        );
        let s = Strategy::new(RetryPolicy {
            max_attempts: 20,
            ..Default::default()
        });
        for attempts in 1..20 {
            let ShouldAttempt::YesAfter(d) = s.should_attempt(
                attempts,
                RetryAction::Retry(RetryReason::Timeout, None),
                true,
            ) else {
                panic!()
            };
            let ceiling = (2f64.powi(attempts as i32 - 1)).min(30.0);
            assert!(
                d.as_secs_f64() <= ceiling,
                "attempt {attempts}: {d:?} > {ceiling}"
            );
        }
    }
}
