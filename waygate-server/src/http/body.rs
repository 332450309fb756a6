//! Request bodies under two bounds, for every route at once (the
//! [`Gateway`](super::Gateway) wraps each body before any handler sees it):
//!
//! - **a total deadline**: the whole body must arrive within
//!   `WAYGATE_BODY_TIMEOUT_SECS` of the request's headers. An idle timeout per
//!   read is not enough: a body trickled one byte every few seconds never
//!   idles long. Past the deadline the read fails and the answer is 408.
//! - **a memory budget**: the bodies being received or held at once reserve
//!   their declared `Content-Length` (the largest accepted body when no length
//!   is declared) from one budget, `WAYGATE_BODY_MEMORY_BYTES`, before their
//!   first byte is read, and keep it until their request is answered. A body
//!   waits (in arrival order) for room; one that finds none before its
//!   deadline is answered 503. A reservation is taken whole, so bodies never
//!   hold part of the budget while waiting for the rest of it.
//!
//! Both start only when a handler reads the body, which is after the request
//! was authenticated ([`crate::api::auth::authenticate`]): an
//! anonymous client is answered from its headers and holds no budget. A body
//! that is already buffered costs neither a timer nor a wait: the timer is
//! set on the first read that has to wait for the socket.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::BoxError;
use axum::response::{IntoResponse, Response};
use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::api::error::ApiError;

/// The budget is counted in units of this many bytes (a semaphore takes at
/// most `u32::MAX` permits at once).
const UNIT: usize = 1024;

/// The bounds on request bodies, shared by every serving thread.
#[derive(Debug)]
pub struct BodyLimits {
    timeout: Duration,
    max_body: usize,
    budget: Arc<Semaphore>,
    budget_units: usize,
}

impl BodyLimits {
    /// Bodies must arrive within `timeout`; bodies held at once reserve at most
    /// `budget` bytes together; one body is at most `max_body` bytes.
    ///
    /// # Errors
    /// When the budget could never admit a body of `max_body` bytes, or the
    /// timeout is zero.
    pub fn new(timeout: Duration, budget: usize, max_body: usize) -> Result<Self, String> {
        if timeout.is_zero() {
            return Err("the request body timeout must be at least 1 second".into());
        }
        if budget < max_body {
            return Err(format!(
                "the request body memory budget ({budget} bytes) must be at least the largest body accepted ({max_body} bytes)"
            ));
        }
        let budget_units = (budget / UNIT).min(Semaphore::MAX_PERMITS);
        Ok(Self {
            timeout,
            max_body,
            budget: Arc::new(Semaphore::new(budget_units)),
            budget_units,
        })
    }

    /// Bytes of the budget reserved now (for tests and metrics).
    pub fn reserved_bytes(&self) -> usize {
        (self.budget_units - self.budget.available_permits()) * UNIT
    }

    /// `body` under the limits, timed from now (its headers have arrived), and
    /// the watch that tells the gateway how its reading ended. A body known to
    /// be empty passes as it is.
    pub fn guard<B>(&self, body: B) -> (axum::body::Body, Option<Arc<BodyWatch>>)
    where
        B: Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<BoxError>,
    {
        if body.is_end_stream() {
            return (axum::body::Body::new(body), None);
        }
        // A declared length above the largest body is refused by the reader's
        // limit before anything is read; reserving the largest body covers it.
        let declared = body.size_hint().exact().map_or(self.max_body, |n| {
            usize::try_from(n).unwrap_or(usize::MAX).min(self.max_body)
        });
        // Whole units, so that a run of small bodies reserves what they hold;
        // never more than the whole budget, so that every body can be admitted.
        let units = declared.div_ceil(UNIT).clamp(1, self.budget_units.max(1));
        let watch = Arc::new(BodyWatch::default());
        let guarded = GuardedBody {
            inner: body,
            deadline: Instant::now() + self.timeout,
            timeout: self.timeout,
            timer: None,
            reservation: Reservation::Needed {
                budget: self.budget.clone(),
                units: u32::try_from(units).unwrap_or(u32::MAX),
            },
            watch: watch.clone(),
        };
        (axum::body::Body::new(guarded), Some(watch))
    }
}

/// How a body's reading ended, and its reservation of the budget, shared by
/// the body and the gateway: the reservation is released when both are done
/// (the body read, the request answered).
#[derive(Debug, Default)]
pub struct BodyWatch {
    failure: AtomicU8,
    permit: OnceLock<OwnedSemaphorePermit>,
}

const FINE: u8 = 0;
const TIMED_OUT: u8 = 1;
const NO_ROOM: u8 = 2;

impl BodyWatch {
    /// The answer the request gets instead of its handler's, when its body was
    /// cut off: whatever the handler made of the failed read, the client is
    /// told what happened.
    pub fn answer(&self, timeout: Duration) -> Option<Response> {
        let error = match self.failure.load(Ordering::Relaxed) {
            TIMED_OUT => ApiError::request_timeout(timeout),
            NO_ROOM => ApiError::busy(
                "the gateway is receiving too many request bodies at once",
                timeout,
            ),
            _ => return None,
        };
        let mut response = error.into_response();
        // The rest of the body is still on its way: this connection is done.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        Some(response)
    }

    fn fail(&self, why: u8) {
        let _ = self
            .failure
            .compare_exchange(FINE, why, Ordering::Relaxed, Ordering::Relaxed);
    }
}

impl BodyLimits {
    /// The total time allowed for a body.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

type Acquire = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

enum Reservation {
    /// Not yet asked for: the body has not been read.
    Needed { budget: Arc<Semaphore>, units: u32 },
    /// Waiting for room in the budget.
    Waiting(Acquire),
    /// Held (in the watch) until the request is answered.
    Held,
}

/// A request body cut off at its deadline, read only with room in the budget.
struct GuardedBody<B> {
    inner: B,
    deadline: Instant,
    timeout: Duration,
    /// Set on the first read that has to wait.
    timer: Option<Pin<Box<Sleep>>>,
    reservation: Reservation,
    watch: Arc<BodyWatch>,
}

/// Why a guarded body could not be read.
#[derive(Debug)]
enum BodyError {
    TimedOut(Duration),
    NoRoom,
    Read(BoxError),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut(limit) => write!(
                f,
                "the request body did not arrive within {} s",
                limit.as_secs()
            ),
            Self::NoRoom => f.write_str("no room to receive the request body"),
            Self::Read(e) => write!(f, "reading the request body failed: {e}"),
        }
    }
}

impl StdError for BodyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Read(e) => Some(&**e),
            _ => None,
        }
    }
}

impl<B> GuardedBody<B> {
    /// Whether the deadline has passed; registers the waker for it otherwise.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = self.deadline;
        self.timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)))
            .as_mut()
            .poll(cx)
            .is_ready()
    }

    /// Takes the body's reservation; `Pending` while the budget has no room.
    fn reserve(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BodyError>> {
        loop {
            match &mut self.reservation {
                Reservation::Held => return Poll::Ready(Ok(())),
                Reservation::Needed { budget, units } => {
                    let (budget, units) = (budget.clone(), *units);
                    match budget.clone().try_acquire_many_owned(units) {
                        Ok(permit) => self.hold(permit),
                        Err(_) => {
                            self.reservation =
                                Reservation::Waiting(Box::pin(budget.acquire_many_owned(units)));
                        }
                    }
                }
                Reservation::Waiting(acquire) => match acquire.as_mut().poll(cx) {
                    Poll::Ready(Ok(permit)) => self.hold(permit),
                    // The budget is never closed; should it be, nothing is admitted.
                    Poll::Ready(Err(_)) => return Poll::Ready(Err(BodyError::NoRoom)),
                    Poll::Pending if self.expired(cx) => {
                        self.watch.fail(NO_ROOM);
                        return Poll::Ready(Err(BodyError::NoRoom));
                    }
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }

    fn hold(&mut self, permit: OwnedSemaphorePermit) {
        // Set once: a body is reserved for once.
        let _ = self.watch.permit.set(permit);
        self.reservation = Reservation::Held;
    }
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if let Err(e) = ready!(this.reserve(cx)) {
            return Poll::Ready(Some(Err(e)));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                Poll::Ready(frame.map(|f| f.map_err(|e| BodyError::Read(e.into()))))
            }
            Poll::Pending if this.expired(cx) => {
                this.watch.fail(TIMED_OUT);
                Poll::Ready(Some(Err(BodyError::TimedOut(this.timeout))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;
    use tokio::sync::mpsc;

    use super::*;

    /// A body fed by the test, of a declared length.
    struct Fed {
        frames: mpsc::UnboundedReceiver<Bytes>,
        length: u64,
    }

    impl Body for Fed {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.frames
                .poll_recv(cx)
                .map(|f| f.map(|b| Ok(Frame::data(b))))
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.length)
        }
    }

    fn fed(length: u64) -> (mpsc::UnboundedSender<Bytes>, Fed) {
        let (tx, frames) = mpsc::unbounded_channel();
        (tx, Fed { frames, length })
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_arriving_at_its_deadline_is_cut_off() {
        let limits = BodyLimits::new(Duration::from_secs(30), 1 << 20, 1 << 20).unwrap();
        let (tx, body) = fed(100);
        let (body, watch) = limits.guard(body);
        let watch = watch.expect("a body with a length is guarded");
        // A byte every 5 s: never idle for long.
        let trickle = tokio::spawn(async move {
            while tx.send(Bytes::from_static(b" ")).is_ok() {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
        let started = Instant::now();
        let read = body.collect().await;
        assert!(read.is_err(), "the body was cut off");
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        let answer = watch.answer(limits.timeout()).expect("an answer for it");
        assert_eq!(answer.status(), axum::http::StatusCode::REQUEST_TIMEOUT);
        trickle.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn bodies_wait_for_room_and_release_it_when_answered() {
        let limits = BodyLimits::new(Duration::from_secs(10), 4 * UNIT, 4 * UNIT).unwrap();
        let (tx1, first) = fed(3 * UNIT as u64);
        let (first, first_watch) = limits.guard(first);
        tx1.send(Bytes::from(vec![b'x'; 3 * UNIT])).unwrap();
        drop(tx1);
        let bytes = first.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len(), 3 * UNIT);
        // Read, but its request is not answered yet: still reserved.
        assert_eq!(limits.reserved_bytes(), 3 * UNIT);

        // The next one needs 2 units of the 1 left: it waits, without reading.
        let (tx2, second) = fed(2 * UNIT as u64);
        let (second, second_watch) = limits.guard(second);
        tx2.send(Bytes::from(vec![b'y'; 2 * UNIT])).unwrap();
        drop(tx2);
        let reading = tokio::spawn(second.collect());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!reading.is_finished());
        // The first request is answered: room for the second.
        drop(first_watch);
        let read = reading.await.unwrap().unwrap().to_bytes();
        assert_eq!(read.len(), 2 * UNIT);
        assert_eq!(limits.reserved_bytes(), 2 * UNIT);
        drop(second_watch);
        assert_eq!(limits.reserved_bytes(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_without_room_before_its_deadline_is_answered_busy() {
        let limits = BodyLimits::new(Duration::from_secs(10), 2 * UNIT, 2 * UNIT).unwrap();
        let (_tx1, held) = fed(2 * UNIT as u64);
        let (mut held, _held_watch) = limits.guard(held);
        // Its first read reserves, then waits for bytes that do not come.
        let _ = tokio::time::timeout(Duration::from_millis(1), held.frame()).await;
        assert_eq!(limits.reserved_bytes(), 2 * UNIT);
        let (_tx2, waiting) = fed(10);
        let (waiting, watch) = limits.guard(waiting);
        assert!(waiting.collect().await.is_err());
        let answer = watch.unwrap().answer(limits.timeout()).unwrap();
        assert_eq!(answer.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn limits_that_could_never_admit_the_largest_body_are_refused() {
        assert!(BodyLimits::new(Duration::from_secs(1), 10, 11).is_err());
        assert!(BodyLimits::new(Duration::ZERO, 10, 10).is_err());
        let limits = BodyLimits::new(Duration::from_secs(1), 10, 10).unwrap();
        let (_, watch) = limits.guard(http_body_util::Empty::<Bytes>::new());
        assert!(watch.is_none(), "an empty body needs no guard");
    }
}
