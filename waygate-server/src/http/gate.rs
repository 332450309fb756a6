//! Admission in front of routes, as a tower layer (decision 124): a [`Gate`]
//! runs an async check on each request (authentication, a dashboard session
//! and its CSRF token, MCP's caller) that either hands the request on, with
//! what it learnt in its extensions, or answers in its place.
//!
//! A tower layer rather than `middleware::from_fn`: `from_fn` clones its
//! inner service, boxes it again into a `Next` and runs an extractor for the
//! state on every request; this service only clones the state's `Arc`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};

use crate::app::AppState;

/// The layer: `admit(app, request)` decides on each request, `Ok` with the
/// request to serve, `Err` with the answer instead.
#[derive(Debug, Clone)]
pub struct Gate<F> {
    app: AppState,
    admit: F,
}

impl<F> Gate<F> {
    /// The gate of `admit`, on `app`.
    pub fn new(app: AppState, admit: F) -> Self {
        Self { app, admit }
    }
}

impl<S, F: Clone> Layer<S> for Gate<F> {
    type Service = Gated<S, F>;

    fn layer(&self, inner: S) -> Gated<S, F> {
        Gated {
            app: self.app.clone(),
            admit: self.admit.clone(),
            inner,
        }
    }
}

/// A route behind a [`Gate`].
#[derive(Debug, Clone)]
pub struct Gated<S, F> {
    app: AppState,
    admit: F,
    inner: S,
}

impl<S, F, Fut> Service<Request> for Gated<S, F>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
    F: Fn(AppState, Request) -> Fut,
    Fut: Future<Output = Result<Request, Response>> + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was made ready serves this request; the clone
        // stays for the next one (tower's contract for `poll_ready`).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let admitted = (self.admit)(self.app.clone(), request);
        Box::pin(async move {
            match admitted.await {
                Ok(request) => inner.call(request).await,
                Err(answer) => Ok(answer),
            }
        })
    }
}
