//! The per-tenant request budget on the gateway API (`WAYGATE_TENANT_RATE_LIMIT`,
//! overridden per tenant by its `rateLimitPerMinute` setting). Per process: with
//! N replicas behind a balancer each one grants the budget (DESIGN.md §7).
//!
//! The buckets are the engine's [`RateLimiters`], timed by the injected clock.

use std::num::NonZeroU32;
use std::time::Duration;

use waygate_core::clock::SharedClock;
use waygate_core::pipeline::RateLimiters;
use waygate_core::policy::RateLimitPolicy;

/// Budgets per tenant.
#[derive(Debug)]
pub struct TenantLimits {
    default_per_minute: u32,
    buckets: RateLimiters,
}

impl TenantLimits {
    /// Budgets of `default_per_minute` requests a minute (0 turns them off),
    /// timed by `clock`.
    pub fn new(default_per_minute: u32, clock: SharedClock) -> Self {
        Self {
            default_per_minute,
            buckets: RateLimiters::new(clock),
        }
    }

    /// Takes one request from the tenant's budget, or says how long to wait.
    /// `own` is the tenant's setting, which wins over the default; 0 is no limit.
    ///
    /// # Errors
    /// The time until the budget allows the next request.
    pub fn check(&self, tenant: &str, own: Option<u32>) -> Result<(), Duration> {
        let per_minute = own.unwrap_or(self.default_per_minute);
        let Some(rate) = NonZeroU32::new(per_minute) else {
            return Ok(());
        };
        // `rate` a minute, all of them at once if need be (governor's `per_minute`).
        let policy = RateLimitPolicy {
            period: Duration::from_secs(60) / rate.get(),
            burst: rate,
        };
        // A changed setting starts the tenant over with the new budget.
        self.buckets.wait_time(tenant, policy).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::SystemTime;

    use waygate_core::clock::ManualClock;

    use super::*;

    #[test]
    fn a_tenant_gets_its_budget_then_a_wait_until_the_clock_refills_it() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let limits = TenantLimits::new(3, clock.clone());
        for _ in 0..3 {
            limits.check("t1", None).unwrap();
        }
        assert_eq!(limits.check("t1", None), Err(Duration::from_secs(20)));
        // Budgets are per tenant.
        limits.check("t2", None).unwrap();
        clock.advance(Duration::from_secs(20));
        limits.check("t1", None).unwrap();
        assert!(limits.check("t1", None).is_err());
    }

    #[test]
    fn zero_is_no_limit_and_an_override_wins() {
        let clock: SharedClock = Arc::new(waygate_core::clock::SystemClock);
        let off = TenantLimits::new(0, clock.clone());
        for _ in 0..1000 {
            off.check("t", None).unwrap();
        }
        let limits = TenantLimits::new(1000, clock);
        limits.check("t", Some(1)).unwrap();
        assert!(limits.check("t", Some(1)).is_err());
        limits.check("t", Some(0)).unwrap();
    }
}
