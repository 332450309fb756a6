//! The pooled transport, the gateway's choice: keep-alive HTTP/1.1
//! connections, pooled per thread and per origin, over a connector that
//! resolves names through the URL policy, connects within the connect timeout
//! and speaks TLS (rustls, the platform's verifier) to `https` upstreams
//! (decision 34). [`Pooled`] is its one-hop service behind the transport seam.
//!
//! Each thread that sends keeps its own idle connections ([`Clients`]): a
//! connection is driven by a task on the runtime that opened it, so a pool
//! shared by the gateway's per-core runtimes would wake another core for
//! every request (measured 22% slower than a pool per runtime, decision 35).
//! The pool is ours rather than hyper-util's pooled client, which spends a
//! lock, a spawned task and a `Host` header formatted anew on every request
//! (decision 39): a connection goes back to its thread's pool once its
//! response body has been read to its end ([`PooledBody`]), and one that is
//! not (a failure, a timeout, a redirect's unread body) is closed.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use thread_local::ThreadLocal;
use tower_service::Service as _;

use super::seam::{BoxError, NotSent};
use crate::error::Error;
use crate::url_policy::{PolicyResolver, UrlPolicy};

/// How long an unused pooled connection is kept open. Measured on the real
/// clock, not the injected one (decision 89): it stands in for the upstream's
/// keep-alive timer, which runs on real time whatever a test's clock says.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// Idle connections are swept for expired ones once per this many returns.
const SWEEP_EVERY: u32 = 256;

/// TCP keep-alive probes on upstream connections, so a dead peer is noticed.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Policy-checked TCP with TLS for `https` URLs.
type Connector = HttpsConnector<HttpConnector<PolicyResolver>>;

/// A connection's sending half; whole bodies are sent.
type Sender = SendRequest<Full<Bytes>>;

/// Where a connection goes: scheme and authority.
type Origin = (Scheme, Authority);

/// The pool as a one-hop service; clones share it.
#[derive(Clone)]
pub(super) struct Pooled(Arc<Clients>);

impl Pooled {
    /// The pool for `policy`; the connector (TLS set-up included) is built once here.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when the platform's certificate verifier cannot be set up.
    pub(super) fn new(policy: UrlPolicy, connect_timeout: Duration) -> Result<Self, Error> {
        Ok(Self(Arc::new(Clients::new(policy, connect_timeout)?)))
    }
}

type Answer = Result<Response<PooledBody>, BoxError>;

impl tower::Service<Request<Bytes>> for Pooled {
    type Response = Response<PooledBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let clients = self.0.clone();
        Box::pin(async move {
            let (response, lease) = match clients.send(request.map(Full::new)).await {
                Ok(sent) => sent,
                Err(SendError::Connect(e)) => return Err(NotSent::new(e).into()),
                Err(SendError::Request(e)) => return Err(e.into()),
            };
            Ok(response.map(|incoming| PooledBody {
                incoming,
                lease: Some(lease),
                clients,
            }))
        })
    }
}

/// A response body that gives its connection back to the pool once read to
/// its end; dropped before that, the connection closes with it.
pub(super) struct PooledBody {
    incoming: Incoming,
    lease: Option<Lease>,
    clients: Arc<Clients>,
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.incoming).poll_frame(cx);
        if let Poll::Ready(None) = polled
            && let Some(lease) = this.lease.take()
        {
            this.clients.release(lease);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

/// The connector, and each thread's idle connections.
pub(crate) struct Clients {
    connector: Connector,
    per_thread: ThreadLocal<Pool>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients").finish_non_exhaustive()
    }
}

/// One thread's idle connections by origin, the most recently used last.
#[derive(Default)]
struct Pool {
    idle: RefCell<HashMap<Origin, Vec<Idle>>>,
    returns: Cell<u32>,
}

struct Idle {
    sender: Sender,
    since: Instant,
}

/// A connection in use by one exchange: give it back with
/// [`Clients::release`] once the response is read whole; dropped, it closes.
pub(crate) struct Lease {
    origin: Origin,
    sender: Sender,
}

/// Why an exchange failed: before anything was sent, or after.
#[derive(Debug)]
pub(crate) enum SendError {
    /// No connection: nothing was sent.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The request failed on its connection: it may have been sent.
    Request(hyper::Error),
}

impl Clients {
    /// Clients for `policy`; the connector (TLS set-up included) is built once here.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when the platform's certificate verifier cannot be set up.
    pub(crate) fn new(policy: UrlPolicy, connect_timeout: Duration) -> Result<Self, Error> {
        Ok(Self {
            connector: connector(policy, connect_timeout)?,
            per_thread: ThreadLocal::new(),
        })
    }

    /// Sends `request` (with an absolute URI) on an idle connection to its
    /// origin, or on a new one. A request that an idle connection could not
    /// take (closed by the upstream meanwhile) goes to the next, unsent.
    pub(crate) async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<(Response<Incoming>, Lease), SendError> {
        let (target, origin, mut request) = on_the_wire(request)?;
        while let Some(mut sender) = self.checkout(&origin) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, Lease { origin, sender })),
                Err(mut e) => match e.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(SendError::Request(e.into_error())),
                },
            }
        }
        let mut sender = self.connect(target).await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(SendError::Request)?;
        Ok((response, Lease { origin, sender }))
    }

    /// Returns a connection whose response was read whole to this thread's pool.
    pub(crate) fn release(&self, lease: Lease) {
        if lease.sender.is_closed() {
            return;
        }
        let pool = self.pool();
        let mut idle = pool.idle.borrow_mut();
        let returns = pool.returns.get().wrapping_add(1);
        pool.returns.set(returns);
        if returns.is_multiple_of(SWEEP_EVERY) {
            idle.retain(|_, connections| {
                connections.retain(Idle::usable);
                !connections.is_empty()
            });
        }
        idle.entry(lease.origin).or_default().push(Idle {
            sender: lease.sender,
            since: Instant::now(),
        });
    }

    fn pool(&self) -> &Pool {
        self.per_thread.get_or(Pool::default)
    }

    /// The most recently used idle connection to `origin` that is still usable.
    fn checkout(&self, origin: &Origin) -> Option<Sender> {
        let mut idle = self.pool().idle.borrow_mut();
        let connections = idle.get_mut(origin)?;
        while let Some(connection) = connections.pop() {
            if connection.usable() {
                return Some(connection.sender);
            }
        }
        None
    }

    /// A new connection to `target`'s origin, driven by a task of its own.
    async fn connect(&self, target: Uri) -> Result<Sender, SendError> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(SendError::Connect)?;
        let io = connector.call(target).await.map_err(SendError::Connect)?;
        let (sender, connection) = http1::handshake(io)
            .await
            .map_err(|e| SendError::Connect(e.into()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "an upstream connection closed with an error");
            }
        });
        Ok(sender)
    }
}

impl Idle {
    fn usable(&self) -> bool {
        !self.sender.is_closed() && self.since.elapsed() < POOL_IDLE
    }
}

/// The request as HTTP/1.1 sends it to an origin server: the target in
/// origin form (`/path?query`) and a `Host` header (unless it has one);
/// with the absolute URI (to connect to) and the origin (to pool by).
fn on_the_wire(
    mut request: Request<Full<Bytes>>,
) -> Result<(Uri, Origin, Request<Full<Bytes>>), SendError> {
    let target = request.uri().clone();
    let (Some(scheme), Some(authority)) = (target.scheme(), target.authority()) else {
        return Err(SendError::Connect(
            format!("'{target}' is not an absolute URL").into(),
        ));
    };
    if !request.headers().contains_key(HOST) {
        let host = match authority.port() {
            Some(port) if Some(port.as_u16()) != default_port(scheme) => {
                format!("{}:{port}", authority.host())
            }
            _ => authority.host().to_owned(),
        };
        let host = HeaderValue::from_str(&host)
            .map_err(|_| SendError::Connect(format!("'{host}' is not a valid host").into()))?;
        request.headers_mut().insert(HOST, host);
    }
    let origin = (scheme.clone(), authority.clone());
    let path = target
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *request.uri_mut() = Uri::from(path);
    Ok((target, origin, request))
}

fn default_port(scheme: &Scheme) -> Option<u16> {
    if *scheme == Scheme::HTTPS {
        Some(443)
    } else if *scheme == Scheme::HTTP {
        Some(80)
    } else {
        None
    }
}

fn connector(policy: UrlPolicy, connect_timeout: Duration) -> Result<Connector, Error> {
    let mut tcp = HttpConnector::new_with_resolver(PolicyResolver::new(policy));
    // `https` URLs are passed on to the TLS layer, which needs them.
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(connect_timeout));
    tcp.set_keepalive(Some(TCP_KEEPALIVE));
    // Named explicitly: the process may hold another rustls provider (DEPENDENCIES.md).
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(HttpsConnectorBuilder::new()
        .with_provider_and_platform_verifier(provider)
        .map_err(|e| Error::config(format!("TLS cannot be set up: {e}")))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::serve::ListenerExt as _;
    use http_body_util::BodyExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    fn clients() -> Clients {
        Clients::new(UrlPolicy::strict().allow_loopback(), Duration::from_secs(5)).unwrap()
    }

    fn get(url: &str) -> Request<Full<Bytes>> {
        Request::get(url).body(Full::default()).unwrap()
    }

    /// Sends a GET and reads the answer whole; releases the connection.
    async fn fetch(clients: &Clients, url: &str) -> (Response<()>, Bytes) {
        let (response, lease) = clients.send(get(url)).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        clients.release(lease);
        (Response::from_parts(parts, ()), body)
    }

    #[tokio::test]
    async fn a_connection_is_reused_once_its_answer_is_read() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/echo?q=1", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let listener = listener.tap_io(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let app = axum::Router::new().fallback(|request: axum::extract::Request| async move {
            let host = request.headers()[HOST].to_str().unwrap().to_owned();
            format!("{} {host}", request.uri())
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let clients = clients();
        for _ in 0..5 {
            let (response, body) = fetch(&clients, &url).await;
            assert_eq!(response.status(), 200);
            let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
            assert_eq!(body, format!("/echo?q=1 127.0.0.1:{port}"));
        }
        assert_eq!(accepted.load(Ordering::Relaxed), 1);

        // Not released (its answer unread): closed, and the next one is new.
        let (_unread, lease) = clients.send(get(&url)).await.unwrap();
        drop(lease);
        fetch(&clients, &url).await;
        assert_eq!(accepted.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_connection_the_upstream_closed_is_not_reused() {
        // Answers one request per connection, keep-alive, then hangs up.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::Relaxed);
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).await.unwrap();
                    head.extend_from_slice(&buf[..n]);
                }
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await
                    .unwrap();
            }
        });
        let clients = clients();
        for _ in 0..3 {
            let (response, body) = fetch(&clients, &url).await;
            assert_eq!(
                (response.status().as_u16(), body.as_ref()),
                (200, &b"ok"[..])
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(accepted.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn requests_go_out_in_origin_form_with_a_host() {
        let (target, origin, wire) = on_the_wire(get("https://api.test:8443/v1/x?y=1")).unwrap();
        assert_eq!(target, "https://api.test:8443/v1/x?y=1");
        assert_eq!(origin.1.as_str(), "api.test:8443");
        assert_eq!(wire.uri(), "/v1/x?y=1");
        assert_eq!(wire.headers()[HOST], "api.test:8443");

        let (_, _, wire) = on_the_wire(get("https://api.test:443")).unwrap();
        assert_eq!(wire.uri(), "/");
        assert_eq!(wire.headers()[HOST], "api.test");

        let mut own = get("http://10.0.0.1/");
        own.headers_mut()
            .insert(HOST, HeaderValue::from_static("vhost.test"));
        let (_, _, wire) = on_the_wire(own).unwrap();
        assert_eq!(wire.headers()[HOST], "vhost.test");

        assert!(matches!(
            on_the_wire(get("/relative")),
            Err(SendError::Connect(_))
        ));
    }
}
