//! Step 7a, guard: circuit breakers per action and per connection.
//!
//! Each breaker opens on `failure_threshold` failures in a row, or on a
//! failure rate of at least `failure_rate` once `minimum_calls` calls ended
//! within `window`; a success resets the run and dilutes the rate. Open, it
//! refuses at once (nothing is sent) for `open_for`; then half-open lets one
//! probe through, whose outcome closes or re-opens it.
//!
//! Scope: one breaker per integration + connection + action, so one failing
//! action does not refuse the others; and one per integration + connection
//! that counts only calls that got no answer at all (refused connections,
//! timeouts, broken reads), so a dead host opens every action after a few
//! calls of any of them. An upstream that answers (even 5xx) is alive.
//!
//! Outcomes are counted once per invocation, by its last attempt: a call that
//! failed once and succeeded on retry is a success, a call whose every attempt
//! failed is one failure. Admission is per invocation too: its retries go on
//! once admitted, bounded by the retry policy.
//!
//! Breakers are created only for resolved targets (an unknown name never
//! reaches this step). State is per process (DESIGN.md §7).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::policy::BreakerPolicy;

/// Breaker state as reported to metrics and health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// One probe is allowed.
    HalfOpen,
    /// Calls are refused.
    Open,
}

/// The failure-rate window, in this many slices (the window slides by one
/// slice: the rate covers between 9/10 and all of `window`). Memory per
/// breaker is fixed, whatever the traffic.
const SLICES: usize = 10;

/// Calls and failures that ended in one slice of the window.
#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    /// Which slice of time (counted from the breaker's origin) this is.
    index: u64,
    calls: u32,
    failures: u32,
}

#[derive(Debug)]
enum State {
    Closed {
        /// Failures since the last success.
        in_a_row: u32,
        slices: [Slice; SLICES],
    },
    Open {
        until: Instant,
    },
    /// `probe_since`: when the probe was admitted. A probe that never reports
    /// stops blocking after another `open_for`.
    HalfOpen {
        probe_since: Instant,
    },
}

impl State {
    fn closed() -> Self {
        Self::Closed {
            in_a_row: 0,
            slices: [Slice::default(); SLICES],
        }
    }
}

/// One breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    /// Slices of the rate window are counted from here.
    origin: Instant,
    state: Mutex<State>,
}

/// The answer to "may this invocation send?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send it; `probe` when it is the one call of a half-open breaker.
    Allowed {
        /// Whether this call is the half-open breaker's probe.
        probe: bool,
    },
    /// Refused; try again after the duration.
    Refused(Duration),
}

impl Breaker {
    fn new(origin: Instant) -> Self {
        Self {
            origin,
            state: Mutex::new(State::closed()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock left a valid state: keep using it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn admit(&self, policy: &BreakerPolicy, now: Instant) -> Admission {
        if !policy.enabled {
            return Admission::Allowed { probe: false };
        }
        let mut state = self.lock();
        match &mut *state {
            State::Closed { .. } => Admission::Allowed { probe: false },
            State::Open { until } if now < *until => Admission::Refused(*until - now),
            State::Open { .. } => {
                *state = State::HalfOpen { probe_since: now };
                Admission::Allowed { probe: true }
            }
            State::HalfOpen { probe_since }
                if now.saturating_duration_since(*probe_since) < policy.open_for =>
            {
                Admission::Refused(policy.open_for - now.saturating_duration_since(*probe_since))
            }
            State::HalfOpen { probe_since } => {
                *probe_since = now;
                Admission::Allowed { probe: true }
            }
        }
    }

    /// A probe admitted at `admit` went unsent (refused by another breaker or
    /// the rate limiter, or cancelled): the next call may probe at once.
    pub(crate) fn release_probe(&self) {
        let mut state = self.lock();
        if let State::HalfOpen { probe_since } = *state {
            *state = State::Open { until: probe_since };
        }
    }

    /// One invocation ended at `now`; `failed` says how.
    pub(crate) fn record(&self, policy: &BreakerPolicy, now: Instant, failed: bool) {
        if !policy.enabled {
            return;
        }
        let slice_len = (policy.window / SLICES as u32).max(Duration::from_nanos(1));
        let index = u64::try_from(
            now.saturating_duration_since(self.origin).as_nanos() / slice_len.as_nanos(),
        )
        .unwrap_or(u64::MAX);
        let mut state = self.lock();
        match (&mut *state, failed) {
            (State::Closed { in_a_row, slices }, _) => {
                let slice = &mut slices[(index % SLICES as u64) as usize];
                if slice.index != index {
                    *slice = Slice {
                        index,
                        ..Slice::default()
                    };
                }
                slice.calls = slice.calls.saturating_add(1);
                if !failed {
                    *in_a_row = 0;
                    return;
                }
                slice.failures = slice.failures.saturating_add(1);
                *in_a_row = in_a_row.saturating_add(1);
                let (calls, failures) = slices
                    .iter()
                    .filter(|s| s.index.saturating_add(SLICES as u64) > index && s.index <= index)
                    .fold((0u64, 0u64), |(c, f), s| {
                        (c + u64::from(s.calls), f + u64::from(s.failures))
                    });
                let rate_reached = calls >= u64::from(policy.minimum_calls)
                    && failures as f64 >= policy.failure_rate * calls as f64;
                if *in_a_row >= policy.failure_threshold || rate_reached {
                    *state = State::Open {
                        until: now + policy.open_for,
                    };
                }
            }
            (State::HalfOpen { .. }, true) => {
                *state = State::Open {
                    until: now + policy.open_for,
                }
            }
            (State::HalfOpen { .. }, false) => *state = State::closed(),
            // A call admitted before the breaker opened reports late: the open
            // period stands.
            (State::Open { .. }, _) => {}
        }
    }

    pub(crate) fn state(&self, now: Instant) -> BreakerState {
        match &*self.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now < *until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

/// How one attempt ended, as the breakers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An answer that is not a server error: the action and its host work.
    Answered,
    /// A 5xx answer: the host is up, the action fails.
    ServerError,
    /// No answer (connection refused or broken, timeout): the host may be down.
    NoAnswer,
}

/// The breakers of one connection of an integration.
#[derive(Debug)]
struct ConnectionBreakers {
    /// Counts only calls without an answer; open, it refuses every action.
    host: Breaker,
    /// One per action slug, created on the action's first call.
    actions: Mutex<HashMap<String, Arc<Breaker>>>,
}

/// All breakers of an executor, by integration + connection key.
#[derive(Debug, Default)]
pub(crate) struct Breakers {
    map: Mutex<HashMap<String, Arc<ConnectionBreakers>>>,
}

impl Breakers {
    /// The connection's state: the worst of its host breaker and its actions'
    /// (an open action breaker makes the connection degraded). `Closed` when
    /// it never saw a call.
    pub(crate) fn state(&self, key: &str, now: Instant) -> BreakerState {
        let Some(connection) = self.lock().get(key).cloned() else {
            return BreakerState::Closed;
        };
        // Each breaker's own lock is taken under the map's: `admit` releases
        // the map before it locks a breaker, so the order never inverts.
        let actions = lock(&connection.actions);
        actions
            .values()
            .map(|b| b.state(now))
            .chain([connection.host.state(now)])
            .max()
            .unwrap_or(BreakerState::Closed)
    }

    /// Admits one invocation of `action` on the connection `key`: both its
    /// host breaker and the action's must let it through. The guard reports
    /// the invocation's outcome when dropped. `Err` holds the wait.
    #[tracing::instrument(name = "breaker", level = "debug", skip_all)]
    pub(crate) fn admit(
        &self,
        key: &str,
        action: &str,
        policy: &BreakerPolicy,
        now: Instant,
    ) -> Result<Guard, Duration> {
        let connection = {
            let mut map = self.lock();
            match map.get(key) {
                Some(c) => Arc::clone(c),
                None => Arc::clone(map.entry(key.to_owned()).or_insert_with(|| {
                    Arc::new(ConnectionBreakers {
                        host: Breaker::new(now),
                        actions: Mutex::default(),
                    })
                })),
            }
        };
        let breaker = {
            let mut actions = lock(&connection.actions);
            match actions.get(action) {
                Some(b) => Arc::clone(b),
                None => Arc::clone(
                    actions
                        .entry(action.to_owned())
                        .or_insert_with(|| Arc::new(Breaker::new(now))),
                ),
            }
        };
        let host_probe = match connection.host.admit(policy, now) {
            Admission::Refused(wait) => return Err(wait),
            Admission::Allowed { probe } => probe,
        };
        let action_probe = match breaker.admit(policy, now) {
            Admission::Refused(wait) => {
                if host_probe {
                    connection.host.release_probe();
                }
                return Err(wait);
            }
            Admission::Allowed { probe } => probe,
        };
        Ok(Guard {
            connection,
            action: breaker,
            policy: *policy,
            probes: (host_probe, action_probe),
            last: None,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ConnectionBreakers>>> {
        lock(&self.map)
    }

    /// Connections with breakers (tests check that unknown names leave none).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One admitted invocation. Each attempt reports to it; when it is dropped
/// (the invocation ended, however it ended: answer, error, cancellation), the
/// last attempt's outcome is recorded on both breakers. An invocation that
/// sent nothing records nothing and gives back any probe it held.
#[derive(Debug)]
pub(crate) struct Guard {
    connection: Arc<ConnectionBreakers>,
    action: Arc<Breaker>,
    policy: BreakerPolicy,
    /// Whether this invocation is the probe of the host / action breaker.
    probes: (bool, bool),
    last: Option<(Instant, Outcome)>,
}

impl Guard {
    /// An attempt ended at `now` with `outcome`.
    pub(crate) fn attempted(&mut self, outcome: Outcome, now: Instant) {
        self.last = Some((now, outcome));
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some((at, outcome)) = self.last else {
            if self.probes.0 {
                self.connection.host.release_probe();
            }
            if self.probes.1 {
                self.action.release_probe();
            }
            return;
        };
        let p = &self.policy;
        self.connection
            .host
            .record(p, at, outcome == Outcome::NoAnswer);
        self.action.record(p, at, outcome != Outcome::Answered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy::default()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn opens_after_consecutive_failures_then_half_opens_for_one_probe() {
        let p = policy();
        let t0 = Instant::now();
        let b = Breaker::new(t0);
        for i in 0..4 {
            b.record(&p, t0 + secs(i), true);
        }
        assert_eq!(
            b.admit(&p, t0 + secs(4)),
            Admission::Allowed { probe: false }
        );
        b.record(&p, t0 + secs(4), true);
        assert_eq!(b.state(t0 + secs(5)), BreakerState::Open);
        assert_eq!(b.admit(&p, t0 + secs(5)), Admission::Refused(secs(59)));
        let later = t0 + secs(65);
        assert_eq!(b.admit(&p, later), Admission::Allowed { probe: true });
        assert_eq!(
            b.admit(&p, later),
            Admission::Refused(secs(60)),
            "one probe"
        );
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        b.record(&p, later, false);
        assert_eq!(b.state(later), BreakerState::Closed);
        assert_eq!(b.admit(&p, later), Admission::Allowed { probe: false });
    }

    #[test]
    fn a_success_resets_the_run_of_failures() {
        // The rate alone would open at 80 %: take it out of the picture.
        let p = BreakerPolicy {
            minimum_calls: u32::MAX,
            ..policy()
        };
        let t0 = Instant::now();
        let b = Breaker::new(t0);
        // Four failures, a success, four failures, ...: never five in a row.
        for i in 0..50 {
            b.record(&p, t0 + Duration::from_millis(i), i % 5 != 4);
        }
        assert_eq!(b.state(t0 + secs(1)), BreakerState::Closed);
        for _ in 0..4 {
            b.record(&p, t0 + secs(1), true);
        }
        assert_eq!(b.state(t0 + secs(1)), BreakerState::Closed);
        b.record(&p, t0 + secs(1), true);
        assert_eq!(b.state(t0 + secs(1)), BreakerState::Open, "now 5 in a row");
    }

    #[test]
    fn a_high_failure_rate_opens_only_after_the_minimum_calls() {
        let p = policy();
        let t0 = Instant::now();
        let b = Breaker::new(t0);
        // Failure, success, failure, success...: 50 %, never two in a row.
        for i in 0..19u64 {
            b.record(&p, t0 + Duration::from_millis(i * 100), i % 2 == 0);
        }
        assert_eq!(b.state(t0 + secs(2)), BreakerState::Closed, "19 calls");
        b.record(&p, t0 + secs(2), true);
        assert_eq!(b.state(t0 + secs(2)), BreakerState::Open, "20 calls, 50 %");
    }

    #[test]
    fn a_low_failure_rate_at_high_traffic_never_opens() {
        let p = policy();
        let t0 = Instant::now();
        let b = Breaker::new(t0);
        // 1 % failures, 10,000 calls in 100 s.
        for i in 0..10_000u64 {
            b.record(&p, t0 + Duration::from_millis(i * 10), i % 100 == 0);
        }
        assert_eq!(b.state(t0 + secs(100)), BreakerState::Closed);
    }

    #[test]
    fn calls_that_left_the_window_no_longer_count_toward_the_rate() {
        let p = BreakerPolicy {
            failure_threshold: 100,
            ..policy()
        };
        let t0 = Instant::now();
        // 15 failures then 10 successes: 60 % of 25 calls, checked at the next failure.
        let history = || {
            let b = Breaker::new(t0);
            for i in 0..25 {
                b.record(&p, t0, i < 15);
            }
            b
        };
        let within = history();
        within.record(&p, t0 + secs(20), true);
        assert_eq!(within.state(t0 + secs(20)), BreakerState::Open);
        let after = history();
        after.record(&p, t0 + secs(31), true);
        assert_eq!(
            after.state(t0 + secs(31)),
            BreakerState::Closed,
            "the 25 calls left the 30 s window"
        );
    }

    #[test]
    fn a_failed_probe_reopens() {
        let p = policy();
        let t0 = Instant::now();
        let b = Breaker::new(t0);
        for _ in 0..5 {
            b.record(&p, t0, true);
        }
        let probe = t0 + secs(60);
        assert_eq!(b.admit(&p, probe), Admission::Allowed { probe: true });
        b.record(&p, probe, true);
        assert_eq!(b.admit(&p, probe + secs(1)), Admission::Refused(secs(59)));
    }

    /// Runs one invocation of `action` that ends with `outcome` (or sends nothing).
    fn call(
        breakers: &Breakers,
        action: &str,
        now: Instant,
        outcome: Option<Outcome>,
    ) -> Result<(), Duration> {
        let mut guard = breakers.admit("conn", action, &policy(), now)?;
        if let Some(o) = outcome {
            guard.attempted(o, now);
        }
        Ok(())
    }

    #[test]
    fn one_failing_action_does_not_block_the_others() {
        let breakers = Breakers::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            call(&breakers, "broken", t0, Some(Outcome::ServerError)).unwrap();
        }
        assert_eq!(
            call(&breakers, "broken", t0, Some(Outcome::Answered)),
            Err(secs(60))
        );
        call(&breakers, "healthy", t0, Some(Outcome::Answered)).unwrap();
        assert_eq!(breakers.state("conn", t0), BreakerState::Open, "degraded");
    }

    #[test]
    fn a_dead_host_opens_every_action_of_the_connection() {
        let breakers = Breakers::default();
        let t0 = Instant::now();
        for action in ["a", "b", "c", "d", "e"] {
            call(&breakers, action, t0, Some(Outcome::NoAnswer)).unwrap();
        }
        for action in ["a", "f"] {
            assert_eq!(
                call(&breakers, action, t0, Some(Outcome::Answered)),
                Err(secs(60)),
                "{action}"
            );
        }
        // The host probe goes through any action; its answer closes the host.
        let later = t0 + secs(60);
        call(&breakers, "f", later, Some(Outcome::Answered)).unwrap();
        call(&breakers, "a", later, Some(Outcome::Answered)).unwrap();
        assert_eq!(breakers.state("conn", later), BreakerState::Closed);
    }

    #[test]
    fn server_errors_do_not_count_against_the_host() {
        let breakers = Breakers::default();
        let t0 = Instant::now();
        for action in ["a", "b", "c", "d", "e", "f"] {
            call(&breakers, action, t0, Some(Outcome::ServerError)).unwrap();
        }
        call(&breakers, "g", t0, Some(Outcome::Answered)).unwrap();
    }

    #[test]
    fn a_probe_that_sent_nothing_is_given_back() {
        let breakers = Breakers::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            call(&breakers, "a", t0, Some(Outcome::NoAnswer)).unwrap();
        }
        let later = t0 + secs(60);
        // The probe is admitted, then (say) the rate limiter refuses it.
        call(&breakers, "a", later, None).unwrap();
        call(&breakers, "a", later, Some(Outcome::Answered)).expect("the next call probes");
        assert_eq!(breakers.state("conn", later), BreakerState::Closed);
    }

    #[test]
    fn a_disabled_breaker_never_opens() {
        let p = BreakerPolicy {
            enabled: false,
            ..policy()
        };
        let t0 = Instant::now();
        let b = Breaker::new(t0);
        for _ in 0..100 {
            b.record(&p, t0, true);
        }
        assert_eq!(b.admit(&p, t0), Admission::Allowed { probe: false });
    }
}
