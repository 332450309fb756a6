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
//! was authenticated ([`crate::api::auth`], [`crate::api::direct`]): an
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

use axum::response::{IntoResponse, Response};
use axum::BoxError;
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
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(|e| BodyError::Read(e.into())))),
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
