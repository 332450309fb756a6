//! W3C trace context across the gateway (decisions 122, 123), through
//! OpenTelemetry's own propagators: `traceparent`/`tracestate`
//! (`TraceContextPropagator`) and, when `OTEL_PROPAGATORS` names it,
//! `baggage` (`BaggagePropagator`).
//!
//! - In: [`Propagation::extract`] reads the caller's context from a request's
//!   headers; the [`Gateway`](crate::http::Gateway) makes it the current
//!   OpenTelemetry context while the request is answered, so the invocation
//!   span core opens becomes its child (tracing-opentelemetry takes a span's
//!   parent from the current context). A malformed `traceparent` yields none:
//!   the invocation starts a new trace.
//! - Out: [`Propagation::layer`] is a tower layer on the upstream transport
//!   (core's seam, decision 95) that writes the current context into each
//!   hop's headers: the `send` span's when spans are exported, the caller's
//!   own when they are not (decision 123).
//!
//! Core knows nothing of this: it opens `tracing` spans and sends through
//! the transport it is given.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::http::{HeaderMap, HeaderName};
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use waygate_core::pipeline::transport::bytes::Bytes;
use waygate_core::pipeline::transport::http::Request;
use waygate_core::pipeline::transport::tower::{Layer, Service};

use super::otlp::Propagators;

/// The propagators `OTEL_PROPAGATORS` asks for, and the headers they read.
#[derive(Clone)]
pub struct Propagation(Arc<Inner>);

struct Inner {
    propagator: TextMapCompositePropagator,
    /// The headers any of them reads: a request with none of them is not
    /// handed to the propagators at all.
    fields: Vec<HeaderName>,
}

impl std::fmt::Debug for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Propagation").field(&self.0.fields).finish()
    }
}

impl Propagation {
    /// The propagation `propagators` asks for; `None` for none at all.
    pub fn new(propagators: Propagators) -> Option<Self> {
        let mut chosen: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
        if propagators.trace_context {
            chosen.push(Box::new(TraceContextPropagator::new()));
        }
        if propagators.baggage {
            chosen.push(Box::new(BaggagePropagator::new()));
        }
        if chosen.is_empty() {
            return None;
        }
        let propagator = TextMapCompositePropagator::new(chosen);
        let fields = propagator
            .fields()
            .filter_map(|f| HeaderName::try_from(f).ok())
            .collect();
        Some(Self(Arc::new(Inner { propagator, fields })))
    }

    /// The caller's context, when `headers` carry a valid one (a span
    /// context, or baggage); `None` costs a header lookup per field.
    pub fn extract(&self, headers: &HeaderMap) -> Option<Context> {
        if !self.0.fields.iter().any(|f| headers.contains_key(f)) {
            return None;
        }
        let cx = self
            .0
            .propagator
            .extract_with_context(&Context::new(), &HeaderExtractor(headers));
        (cx.has_active_span() || !cx.baggage().is_empty()).then_some(cx)
    }

    /// The layer that writes the current context into upstream requests.
    pub fn layer(&self) -> Inject {
        Inject(self.clone())
    }
}

/// A tower layer on the upstream transport: each hop carries the current
/// OpenTelemetry context.
#[derive(Debug, Clone)]
pub struct Inject(Propagation);

impl<S> Layer<S> for Inject {
    type Service = Injecting<S>;

    fn layer(&self, inner: S) -> Injecting<S> {
        Injecting {
            propagation: self.0.clone(),
            inner,
        }
    }
}

/// The transport behind [`Inject`].
#[derive(Debug, Clone)]
pub struct Injecting<S> {
    propagation: Propagation,
    inner: S,
}

impl<S> Service<Request<Bytes>> for Injecting<S>
where
    S: Service<Request<Bytes>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Bytes>) -> S::Future {
        // Called while the attempt's `send` span is entered (core's exchange
        // calls the transport inside it), whose context is then the current
        // one. Without a span context or baggage the propagators write nothing.
        Context::map_current(|cx| {
            self.propagation
                .0
                .propagator
                .inject_context(cx, &mut HeaderInjector(request.headers_mut()));
        });
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use axum::http::HeaderValue;
    use opentelemetry::trace::TraceContextExt as _;
    use waygate_core::pipeline::transport::tower::ServiceExt as _;
    use waygate_core::pipeline::transport::tower::service_fn;

    use super::*;

    const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    /// The headers a request leaves with through the layer, sent in `cx`.
    async fn sent(propagation: &Propagation, cx: Context) -> HeaderMap {
        let service = propagation
            .layer()
            .layer(service_fn(|r: Request<Bytes>| async move {
                Ok::<_, Infallible>(r.headers().clone())
            }));
        let _current = cx.attach();
        service.oneshot(Request::new(Bytes::new())).await.unwrap()
    }

    #[test]
    fn a_valid_traceparent_is_extracted_and_anything_else_ignored() {
        let p = Propagation::new(Propagators::default()).unwrap();
        let cx = p
            .extract(&headers(&[
                ("traceparent", TRACEPARENT),
                ("tracestate", "vendor=opaque"),
            ]))
            .expect("a caller's context");
        let span = cx.span();
        let sc = span.span_context();
        assert_eq!(
            sc.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(sc.span_id().to_string(), "b7ad6b7169203331");
        assert!(sc.is_remote() && sc.is_sampled());
        assert_eq!(sc.trace_state().get("vendor"), Some("opaque"));
        for malformed in [
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-not-hex-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            let h: HeaderMap = [(
                HeaderName::from_static("traceparent"),
                HeaderValue::from_str(malformed).unwrap(),
            )]
            .into_iter()
            .collect();
            assert!(p.extract(&h).is_none(), "{malformed}");
        }
        assert!(p.extract(&headers(&[("tracestate", "a=b")])).is_none());
        assert!(p.extract(&HeaderMap::new()).is_none());
        // Baggage is read only when asked for.
        assert!(p.extract(&headers(&[("baggage", "user=42")])).is_none());
        let with_baggage = Propagation::new(Propagators {
            trace_context: true,
            baggage: true,
        })
        .unwrap();
        let cx = with_baggage
            .extract(&headers(&[("baggage", "user=42")]))
            .unwrap();
        assert_eq!(
            cx.baggage().get("user").map(ToString::to_string).as_deref(),
            Some("42")
        );
        assert!(Propagation::new(Propagators::NONE).is_none());
    }

    #[tokio::test]
    async fn the_transport_layer_writes_the_current_context_and_nothing_without_one() {
        let p = Propagation::new(Propagators::default()).unwrap();
        let caller = p
            .extract(&headers(&[
                ("traceparent", TRACEPARENT),
                ("tracestate", "vendor=opaque"),
                ("baggage", "user=42"),
            ]))
            .unwrap();
        let out = sent(&p, caller).await;
        assert_eq!(out["traceparent"], TRACEPARENT);
        assert_eq!(out["tracestate"], "vendor=opaque");
        assert!(!out.contains_key("baggage"), "{out:?}");
        let out = sent(&p, Context::new()).await;
        assert!(out.is_empty(), "{out:?}");
    }
}
