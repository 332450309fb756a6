//! Time, injected: backoff, breaker windows and token expiry read it from here,
//! so tests run them on tokio's paused clock instead of sleeping.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// A source of time.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time, for HTTP dates and token expiry.
    fn now(&self) -> SystemTime;
    /// Monotonic time, for windows and deadlines.
    fn instant(&self) -> Instant;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// A clock shared by every step of an executor.
pub type SharedClock = Arc<dyn Clock>;

impl fmt::Debug for dyn Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// The real clock: the system's wall time and tokio's monotonic time (which a
/// test can pause and advance with `tokio::time::pause`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that moves only when told to, or when something sleeps on it: a
/// sleep returns at once after advancing the clock and is recorded. Tests use
/// it to check backoff, `Retry-After`, breaker windows and token expiry
/// without waiting.
#[derive(Debug)]
pub struct ManualClock {
    wall: SystemTime,
    start: Instant,
    state: std::sync::Mutex<ManualState>,
}

#[derive(Debug, Default)]
struct ManualState {
    elapsed: Duration,
    sleeps: Vec<Duration>,
}

impl ManualClock {
    /// A clock whose wall time starts at `wall`.
    pub fn new(wall: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            wall,
            start: Instant::now(),
            state: Default::default(),
        })
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.state.lock().expect("clock lock poisoned").elapsed += by;
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state
            .lock()
            .expect("clock lock poisoned")
            .sleeps
            .clone()
    }

    fn elapsed(&self) -> Duration {
        self.state.lock().expect("clock lock poisoned").elapsed
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.wall + self.elapsed()
    }

    fn instant(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut state = self.state.lock().expect("clock lock poisoned");
        state.elapsed += duration;
        state.sleeps.push(duration);
        Box::pin(std::future::ready(()))
    }
}
