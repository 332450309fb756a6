//! Step 7b, guard: an outbound rate limiter (governor's GCRA) per connection.
//!
//! Over the limit, a call waits for its turn when that fits in the action's
//! timeout, and otherwise fails at once with `RATE_LIMITED` and the wait.
//! Limits are per process; a shared limit across replicas needs Redis (DESIGN.md §7).
//!
//! The buckets read the injected [`Clock`]: a wait slept on a
//! [`ManualClock`](crate::clock::ManualClock) refills them as a real one would.
//! The gateway's per-tenant budget is one of these too.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::clock::SharedClock;
use crate::policy::RateLimitPolicy;

/// The injected clock as governor's time source.
#[derive(Debug, Clone)]
struct GovernorClock(SharedClock);

impl governor::clock::Clock for GovernorClock {
    type Instant = std::time::Instant;

    fn now(&self) -> std::time::Instant {
        self.0.instant().into_std()
    }
}

type Bucket =
    RateLimiter<NotKeyed, InMemoryState, GovernorClock, NoOpMiddleware<std::time::Instant>>;

/// One key's bucket and the policy it was built from.
#[derive(Debug)]
struct Limiter {
    policy: RateLimitPolicy,
    bucket: Bucket,
}

/// Token buckets by key (an executor's connections; the gateway's tenants),
/// timed by the injected clock. A key's bucket starts over when its policy
/// changes.
#[derive(Debug)]
pub struct RateLimiters {
    clock: SharedClock,
    map: RwLock<HashMap<String, Arc<Limiter>>>,
}

impl RateLimiters {
    /// No buckets yet; they are made on first use, timed by `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            map: RwLock::default(),
        }
    }

    /// Takes a token from `key`'s bucket: `None` when a request may go now,
    /// else how long until one may (nothing is taken then).
    pub fn wait_time(&self, key: &str, policy: RateLimitPolicy) -> Option<Duration> {
        let limiter = self.limiter(key, policy);
        limiter
            .bucket
            .check()
            .err()
            .map(|not_until| not_until.wait_time_from(self.clock.instant().into_std()))
    }

    /// `key`'s bucket for `policy`: found under the read lock on the hot path.
    fn limiter(&self, key: &str, policy: RateLimitPolicy) -> Arc<Limiter> {
        let read = self.map.read().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = read.get(key)
            && l.policy == policy
        {
            return Arc::clone(l);
        }
        drop(read);
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            // Another caller made it meanwhile.
            Some(l) if l.policy == policy => Arc::clone(l),
            // New, or a changed policy (PATCHed defaults, a tenant's setting):
            // the bucket starts over.
            _ => {
                let quota = Quota::with_period(policy.period)
                    .unwrap_or(Quota::per_second(std::num::NonZeroU32::MAX));
                let clock = GovernorClock(Arc::clone(&self.clock));
                let fresh = Arc::new(Limiter {
                    policy,
                    bucket: RateLimiter::direct_with_clock(quota.allow_burst(policy.burst), clock),
                });
                map.insert(key.to_owned(), Arc::clone(&fresh));
                fresh
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::SystemTime;

    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn allows_the_burst_then_names_the_wait_until_the_clock_refills_it() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let limiters = RateLimiters::new(clock.clone());
        let policy = RateLimitPolicy {
            period: Duration::from_secs(60),
            burst: NonZeroU32::new(2).unwrap(),
        };
        assert_eq!(limiters.wait_time("k", policy), None);
        assert_eq!(limiters.wait_time("k", policy), None);
        assert_eq!(
            limiters.wait_time("k", policy),
            Some(Duration::from_secs(60)),
            "the third call waits a whole period on a clock that stands still"
        );
        assert_eq!(
            limiters.wait_time("other", policy),
            None,
            "keys are independent"
        );
        clock.advance(Duration::from_secs(45));
        assert_eq!(
            limiters.wait_time("k", policy),
            Some(Duration::from_secs(15))
        );
        clock.advance(Duration::from_secs(15));
        assert_eq!(
            limiters.wait_time("k", policy),
            None,
            "refilled by the clock"
        );
        assert!(limiters.wait_time("k", policy).is_some());

        let changed = RateLimitPolicy {
            period: Duration::from_secs(1),
            ..policy
        };
        assert_eq!(
            limiters.wait_time("k", changed),
            None,
            "a new policy starts over"
        );
    }
}
