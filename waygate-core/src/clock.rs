//! Time, injected: backoff, breaker windows, rate limits, transport timeouts,
//! cache freshness and token expiry read it from here, so tests run them on a
//! [`ManualClock`] (or tokio's paused clock) instead of sleeping.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::Instant;

/// A source of time.
pub trait Clock: Send + Sync + 'static {
    /// Wall-clock time, for HTTP dates and token expiry.
    fn now(&self) -> SystemTime;
    /// Monotonic time, for windows and deadlines.
    fn instant(&self) -> Instant;
    /// Waits for `duration`: the caller's own pause (a backoff, a rate limit's
    /// turn). A [`ManualClock`] moves forward by `duration` and returns at once.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
    /// Resolves once [`Clock::instant`] reads `deadline` or later, without
    /// moving the clock: a limit on something else's wait (a transport
    /// timeout). On a [`ManualClock`] it fires when the test advances the clock
    /// (or something sleeps on it) past `deadline`.
    fn wait_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// `future`'s output, or `None` once `after` has passed on `clock` first.
/// Like `tokio::time::timeout`, on the injected clock.
pub(crate) async fn timeout<F: Future>(
    clock: &dyn Clock,
    after: Duration,
    future: F,
) -> Option<F::Output> {
    // A limit too far away to be an `Instant` is no limit.
    let Some(deadline) = clock.instant().checked_add(after) else {
        return Some(future.await);
    };
    tokio::select! {
        biased;
        output = future => Some(output),
        () = clock.wait_until(deadline) => None,
    }
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

    fn wait_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep_until(deadline))
    }
}

/// A clock that moves only when told to, or when something sleeps on it: a
/// sleep returns at once after advancing the clock and is recorded; a
/// [`Clock::wait_until`] ends when the clock is moved past its deadline. Tests
/// use it to check backoff, `Retry-After`, rate limits, timeouts, breaker
/// windows, cache lifetimes and token expiry without waiting.
#[derive(Debug)]
pub struct ManualClock {
    wall: SystemTime,
    start: Instant,
    /// Time moved so far; waits on a deadline watch it.
    elapsed: watch::Sender<Duration>,
    sleeps: std::sync::Mutex<Vec<Duration>>,
}

impl ManualClock {
    /// A clock whose wall time starts at `wall`.
    pub fn new(wall: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            wall,
            start: Instant::now(),
            elapsed: watch::Sender::new(Duration::ZERO),
            sleeps: std::sync::Mutex::default(),
        })
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.elapsed.send_modify(|elapsed| *elapsed += by);
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().expect("clock lock poisoned").clone()
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.borrow()
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
        // Recorded before time moves, so a waiter woken by the move sees it.
        self.sleeps
            .lock()
            .expect("clock lock poisoned")
            .push(duration);
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }

    fn wait_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let due = deadline.saturating_duration_since(self.start);
        let mut elapsed = self.elapsed.subscribe();
        Box::pin(async move {
            // An error means the clock is gone and nothing can move it any
            // more: the deadline counts as passed rather than never.
            let _ = elapsed.wait_for(|e| *e >= due).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_deadline_fires_when_the_clock_is_moved_past_it() {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH);
        let never = std::future::pending::<()>();
        let waiting = tokio::spawn({
            let clock = clock.clone();
            async move { timeout(&*clock, Duration::from_secs(30), never).await }
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(29));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "fired before its deadline");
        clock.sleep(Duration::from_secs(1)).await;
        assert_eq!(waiting.await.unwrap(), None, "timed out at 30 s");
        assert_eq!(clock.sleeps(), [Duration::from_secs(1)]);

        // What finishes first wins; a deadline past `Instant`'s range is none.
        let quick = timeout(&*clock, Duration::from_secs(1), async { 7 }).await;
        assert_eq!(quick, Some(7));
        assert_eq!(timeout(&*clock, Duration::MAX, async { 8 }).await, Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn the_system_clock_times_out_on_tokio_time() {
        let clock = SystemClock;
        let started = Instant::now();
        let out = timeout(&clock, Duration::from_secs(5), std::future::pending::<()>()).await;
        assert_eq!(out, None);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }
}
