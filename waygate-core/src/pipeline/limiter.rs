//! Step 7b, guard: an outbound rate limiter (governor's GCRA) per connection.
//!
//! Over the limit, a call waits for its turn when that fits in the action's
//! timeout, and otherwise fails at once with `RATE_LIMITED` and the wait.
//! Limits are per process; a shared limit across replicas needs Redis (DESIGN.md §7).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::policy::RateLimitPolicy;

/// One connection's limiter and the policy it was built from.
#[derive(Debug)]
struct Limiter {
    policy: RateLimitPolicy,
    limiter: DefaultDirectRateLimiter,
}

/// All limiters of an executor, by integration + connection key.
#[derive(Debug, Default)]
pub(crate) struct Limiters {
    map: Mutex<HashMap<String, Arc<Limiter>>>,
}

impl Limiters {
    /// `None` when a request may go now, else how long until it may.
    pub(crate) fn wait_time(&self, key: &str, policy: RateLimitPolicy) -> Option<Duration> {
        let limiter = {
            let mut map = self.map.lock().expect("limiters lock poisoned");
            match map.get(key) {
                // A changed policy (PATCHed defaults) replaces the bucket.
                Some(l) if l.policy == policy => Arc::clone(l),
                _ => {
                    let quota = Quota::with_period(policy.period)
                        .unwrap_or(Quota::per_second(std::num::NonZeroU32::MAX));
                    let fresh = Arc::new(Limiter {
                        policy,
                        limiter: RateLimiter::direct(quota.allow_burst(policy.burst)),
                    });
                    map.insert(key.to_owned(), Arc::clone(&fresh));
                    fresh
                }
            }
        };
        limiter
            .limiter
            .check()
            .err()
            .map(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    #[test]
    fn allows_the_burst_then_names_the_wait() {
        let limiters = Limiters::default();
        let policy = RateLimitPolicy {
            period: Duration::from_secs(60),
            burst: NonZeroU32::new(2).unwrap(),
        };
        assert_eq!(limiters.wait_time("k", policy), None);
        assert_eq!(limiters.wait_time("k", policy), None);
        let wait = limiters
            .wait_time("k", policy)
            .expect("third call must wait");
        assert!(
            wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(
            limiters.wait_time("other", policy),
            None,
            "keys are independent"
        );
    }
}
