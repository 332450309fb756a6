//! The service hyper serves on each connection: the work around every
//! request ([`ops::request_id`]: request id, metrics, access line; axum's
//! plain-text rejections rewritten by [`api::rejections`]; the caller's trace
//! context made current, [`ops::propagation`]) around the one router,
//! invocations included (decision 110).
//!
//! It is a hyper service rather than router middleware: a layer on the router
//! wraps every route in one more boxed service, cloned per request, while this
//! runs once per request, whatever the route. Here, too, every request body
//! is put under its deadline and the memory budget ([`body`](super::body)),
//! and under the largest body accepted ([`DefaultBodyLimit`]), so that no
//! route can read one unbounded.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::Response;
use hyper::body::Incoming;
use opentelemetry::context::FutureExt as _;
use tower::Layer as _;
use tower_service::Service as _;

use super::body::BodyWatch;
use crate::app::AppState;
use crate::{api, ops};

/// The router with the body limit every extractor reads.
type Routes = <DefaultBodyLimit as tower::Layer<Router>>::Service;

/// The gateway's HTTP service: cheap to clone (two `Arc`s).
#[derive(Clone)]
pub struct Gateway {
    app: AppState,
    routes: Routes,
}

impl Gateway {
    /// The gateway on `app`, with its [`router`](super::router).
    pub fn new(app: AppState) -> Self {
        // Around the whole router once, not on each of its routes: a layer
        // given to `Router::layer` boxes every route once more.
        let routes =
            DefaultBodyLimit::max(app.settings.max_body_bytes).layer(super::router(app.clone()));
        Self { app, routes }
    }

    /// Answers one request; `body` tells how reading its body ended, when it has one.
    async fn answer(self, request: Request, body: Option<Arc<BodyWatch>>) -> Response {
        let Self { app, mut routes } = self;
        ops::request_id::track(&app, request, |request| async {
            // A router is always ready: its `poll_ready` returns `Ready` at once.
            let response = match routes.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            // A body cut off answers for itself, whatever the handler made of
            // the failed read.
            if let Some(cut) = body.and_then(|b| b.answer(app.bodies.timeout())) {
                return cut;
            }
            api::rejections::normalize(response).await
        })
        .await
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for Gateway {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let gateway = self.clone();
        let (parts, body) = request.into_parts();
        let (body, watch) = gateway.app.bodies.guard(body);
        // The caller's trace, when its headers carry one, is the current
        // context while the request is answered: the invocation span is its
        // child, and the upstream request carries it (decisions 122, 123).
        let caller = match &gateway.app.trace_context {
            Some(propagation) => propagation.extract(&parts.headers),
            None => None,
        };
        let request = Request::from_parts(parts, body);
        let answer = async move { Ok(gateway.answer(request, watch).await) };
        match caller {
            Some(trace) => Box::pin(answer.with_context(trace)),
            None => Box::pin(answer),
        }
    }
}
