//! Step 7a, guard: a circuit breaker per integration and connection.
//!
//! Closed → open after `failure_threshold` failures within `window`; open
//! refuses at once (nothing is sent) for `open_for`; then half-open lets exactly
//! one probe through, whose outcome closes or re-opens it. State is per process
//! (DESIGN.md §7): each replica keeps its own breakers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::policy::BreakerPolicy;

/// Breaker state as reported to metrics and health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls are refused.
    Open,
    /// One probe is allowed.
    HalfOpen,
}

#[derive(Debug)]
enum State {
    Closed {
        failures: VecDeque<Instant>,
    },
    Open {
        until: Instant,
    },
    /// `probe_since`: when the probe went out. A probe that never reports (its
    /// call was cancelled) stops blocking after another `open_for`.
    HalfOpen {
        probe_since: Instant,
    },
}

/// One breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    state: Mutex<State>,
}

/// Permission to send one request; report its outcome with [`Breaker::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send it.
    Allowed,
    /// Refused; try again after the duration.
    Refused(Duration),
}

impl Breaker {
    fn new() -> Self {
        Self {
            state: Mutex::new(State::Closed {
                failures: VecDeque::new(),
            }),
        }
    }

    pub(crate) fn admit(&self, policy: &BreakerPolicy, now: Instant) -> Admission {
        if !policy.enabled {
            return Admission::Allowed;
        }
        let mut state = self.state.lock().expect("breaker lock poisoned");
        match &mut *state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } if now < *until => Admission::Refused(*until - now),
            State::Open { .. } => {
                *state = State::HalfOpen { probe_since: now };
                Admission::Allowed
            }
            State::HalfOpen { probe_since }
                if now.duration_since(*probe_since) < policy.open_for =>
            {
                Admission::Refused(policy.open_for - now.duration_since(*probe_since))
            }
            State::HalfOpen { probe_since } => {
                *probe_since = now;
                Admission::Allowed
            }
        }
    }

    pub(crate) fn record(&self, policy: &BreakerPolicy, now: Instant, failed: bool) {
        if !policy.enabled {
            return;
        }
        let mut state = self.state.lock().expect("breaker lock poisoned");
        match (&mut *state, failed) {
            (State::Closed { failures }, true) => {
                while failures
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= policy.window)
                {
                    failures.pop_front();
                }
                failures.push_back(now);
                if failures.len() >= policy.failure_threshold as usize {
                    *state = State::Open {
                        until: now + policy.open_for,
                    };
                }
            }
            (State::Closed { .. }, false) => {}
            (State::HalfOpen { .. }, true) => {
                *state = State::Open {
                    until: now + policy.open_for,
                }
            }
            (State::HalfOpen { .. }, false) => {
                *state = State::Closed {
                    failures: VecDeque::new(),
                }
            }
            // An attempt admitted before the breaker opened reports late: the
            // open period stands.
            (State::Open { .. }, _) => {}
        }
    }

    pub(crate) fn state(&self, now: Instant) -> BreakerState {
        match &*self.state.lock().expect("breaker lock poisoned") {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now < *until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

/// All breakers of an executor, by integration + connection key.
#[derive(Debug, Default)]
pub(crate) struct Breakers {
    map: Mutex<HashMap<String, Arc<Breaker>>>,
}

impl Breakers {
    /// The state behind `key`, `Closed` when it never saw a call.
    pub(crate) fn state(&self, key: &str, now: Instant) -> BreakerState {
        let breaker = self
            .map
            .lock()
            .expect("breakers lock poisoned")
            .get(key)
            .cloned();
        breaker.map_or(BreakerState::Closed, |b| b.state(now))
    }

    pub(crate) fn get(&self, key: &str) -> Arc<Breaker> {
        let mut map = self.map.lock().expect("breakers lock poisoned");
        if let Some(b) = map.get(key) {
            return Arc::clone(b);
        }
        Arc::clone(
            map.entry(key.to_owned())
                .or_insert_with(|| Arc::new(Breaker::new())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy::default()
    }

    #[test]
    fn opens_after_threshold_within_window_then_half_opens_for_one_probe() {
        let p = policy();
        let b = Breaker::new();
        let t0 = Instant::now();
        for i in 0..4 {
            b.record(&p, t0 + Duration::from_secs(i), true);
        }
        assert_eq!(b.admit(&p, t0 + Duration::from_secs(4)), Admission::Allowed);
        b.record(&p, t0 + Duration::from_secs(4), true);
        assert_eq!(b.state(t0 + Duration::from_secs(5)), BreakerState::Open);
        assert_eq!(
            b.admit(&p, t0 + Duration::from_secs(5)),
            Admission::Refused(Duration::from_secs(59))
        );
        let later = t0 + Duration::from_secs(65);
        assert_eq!(b.admit(&p, later), Admission::Allowed, "one probe");
        assert_eq!(
            b.admit(&p, later),
            Admission::Refused(Duration::from_secs(60)),
            "only one probe"
        );
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        b.record(&p, later, false);
        assert_eq!(b.state(later), BreakerState::Closed);
        assert_eq!(b.admit(&p, later), Admission::Allowed);
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let p = policy();
        let b = Breaker::new();
        let t0 = Instant::now();
        for i in 0..10 {
            b.record(&p, t0 + Duration::from_secs(10 * i), true);
        }
        assert_eq!(b.state(t0 + Duration::from_secs(100)), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens() {
        let p = policy();
        let b = Breaker::new();
        let t0 = Instant::now();
        for _ in 0..5 {
            b.record(&p, t0, true);
        }
        let probe = t0 + Duration::from_secs(60);
        assert_eq!(b.admit(&p, probe), Admission::Allowed);
        b.record(&p, probe, true);
        assert_eq!(
            b.admit(&p, probe + Duration::from_secs(1)),
            Admission::Refused(Duration::from_secs(59))
        );
    }
}
