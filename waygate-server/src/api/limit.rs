//! The per-tenant request budget on the gateway API (`WAYGATE_TENANT_RATE_LIMIT`,
//! overridden per tenant by its `rateLimitPerMinute` setting). Per process: with
//! N replicas behind a balancer each one grants the budget (DESIGN.md §7).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Budgets per tenant.
#[derive(Debug)]
pub struct TenantLimits {
    default_per_minute: u32,
    limiters: RwLock<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

impl TenantLimits {
    /// Budgets of `default_per_minute` requests a minute; 0 turns them off.
    pub fn new(default_per_minute: u32) -> Self {
        Self {
            default_per_minute,
            limiters: RwLock::new(HashMap::new()),
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
        let limiter = self.limiter(tenant, rate);
        limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn limiter(&self, tenant: &str, rate: NonZeroU32) -> Arc<DefaultDirectRateLimiter> {
        if let Ok(map) = self.limiters.read()
            && let Some((r, l)) = map.get(tenant)
            && *r == rate.get()
        {
            return l.clone();
        }
        let mut map = self.limiters.write().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(tenant.to_owned()).or_insert_with(|| {
            (
                rate.get(),
                Arc::new(RateLimiter::direct(Quota::per_minute(rate))),
            )
        });
        // The setting changed: start the tenant over with the new budget.
        if entry.0 != rate.get() {
            *entry = (
                rate.get(),
                Arc::new(RateLimiter::direct(Quota::per_minute(rate))),
            );
        }
        entry.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_its_budget_and_then_a_wait() {
        let limits = TenantLimits::new(3);
        for _ in 0..3 {
            limits.check("t1", None).unwrap();
        }
        let wait = limits.check("t1", None).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        // Budgets are per tenant.
        limits.check("t2", None).unwrap();
    }

    #[test]
    fn zero_is_no_limit_and_an_override_wins() {
        let off = TenantLimits::new(0);
        for _ in 0..1000 {
            off.check("t", None).unwrap();
        }
        let limits = TenantLimits::new(1000);
        limits.check("t", Some(1)).unwrap();
        assert!(limits.check("t", Some(1)).is_err());
        limits.check("t", Some(0)).unwrap();
    }
}
