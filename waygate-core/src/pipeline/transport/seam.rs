//! The transport seam (DESIGN.md §3, decision 95): which HTTP client sends
//! upstream requests, as a tower [`Service`] of one hop, and the tower layers a
//! user puts around it. The pipeline's exchange (`transport/mod.rs`) drives it:
//! the URL policy, redirects, the total timeout and the response size cap are
//! applied there, whatever the service is.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt as _};

use super::{general, pooled};
use crate::error::Error;
use crate::url_policy::UrlPolicy;

/// The error type of a transport.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of a transport's response, read by the pipeline up to the size cap.
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// A transport with its layers: one hop (no redirects followed; the pipeline
/// follows them under the URL policy), an absolute URI, a whole body.
pub type HttpService = BoxCloneSyncService<Request<Bytes>, Response<ResponseBody>, BoxError>;

/// The error (or a cause in its chain) a transport returns when the request
/// was not sent at all, so even a write may be retried (decision 1): no
/// connection could be made. Any other error counts as "may have been sent".
#[derive(Debug, thiserror::Error)]
#[error("connection failed")]
pub struct NotSent(#[source] BoxError);

impl NotSent {
    /// Marks `cause` as a failure before anything was sent.
    pub fn new(cause: impl Into<BoxError>) -> Self {
        Self(cause.into())
    }
}

/// Which HTTP client sends upstream requests, and the tower layers around it.
/// Given to [`ExecutorBuilder::transport`](crate::pipeline::ExecutorBuilder::transport)
/// or [`WaygateBuilder::transport`](crate::WaygateBuilder::transport); the
/// executor completes it with its URL policy and connect timeout.
///
/// - [`Transport::general`] (the default): reqwest, HTTP/2 by ALPN, proxies
///   from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
///   `NO_PROXY`) or from [`proxy`](Self::proxy), extra root certificates.
/// - [`Transport::pooled`]: the gateway's HTTP/1.1 pool per sending thread,
///   its fastest (decisions 35, 39); no proxy, the platform's roots only.
/// - [`Transport::custom`]: any tower service of one hop.
///
/// Whatever the transport, the pipeline checks the first URL and every
/// redirect hop against the URL policy; the general and pooled transports
/// also resolve names through it, and the general one checks a proxied
/// target's name itself before handing it to the proxy (which resolves it).
///
/// ```
/// use std::time::Duration;
/// use waygate_core::pipeline::transport::{Certificate, Transport, bytes, http, tower};
/// use waygate_core::{UrlPolicy, Waygate};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let ca_pem = rcgen::generate_simple_self_signed(vec!["ca.test".into()])?.cert.pem();
/// // Every request leaves through the proxy, trusts one more CA besides the
/// // platform's, and carries a header set by a tower layer of the caller's own.
/// let transport = Transport::general()
///     .proxy("http://proxy.internal:3128")
///     .root_certificate(Certificate::from_pem(ca_pem.as_bytes())?)
///     .layer(tower::util::MapRequestLayer::new(
///         |mut request: http::Request<bytes::Bytes>| {
///             request
///                 .headers_mut()
///                 .insert("x-egress", http::HeaderValue::from_static("app-1"));
///             request
///         },
///     ));
/// let waygate = Waygate::builder()
///     .transport(transport)
///     .max_response_bytes(4 * 1024 * 1024)
///     .connect_timeout(Duration::from_secs(3))
///     .url_policy(UrlPolicy::strict())
///     .build()?;
/// # let _ = waygate;
/// # Ok(()) }
/// ```
#[must_use]
pub struct Transport {
    client: Client,
    general: General,
    layers: Vec<Wrap>,
}

/// A layer waiting to be applied, type-erased.
type Wrap = Box<dyn FnOnce(HttpService) -> HttpService + Send>;

enum Client {
    General,
    Pooled,
    Custom(HttpService),
}

/// What only the general transport can do.
#[derive(Debug, Clone)]
pub(super) struct General {
    /// Proxies for every scheme, by URL.
    pub(super) proxies: Vec<String>,
    /// Whether `HTTPS_PROXY` & co. are read.
    pub(super) from_env: bool,
    /// Roots trusted besides the platform's.
    pub(super) roots: Vec<Certificate>,
}

/// A root certificate to trust (reqwest's).
pub use reqwest::Certificate;

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client = match self.client {
            Client::General => "general",
            Client::Pooled => "pooled",
            Client::Custom(_) => "custom",
        };
        f.debug_struct("Transport")
            .field("client", &client)
            .field("proxies", &self.general.proxies.len())
            .field("proxy_from_env", &self.general.from_env)
            .field("root_certificates", &self.general.roots.len())
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Default for Transport {
    fn default() -> Self {
        Self::general()
    }
}

impl Transport {
    /// The general transport: reqwest with HTTP/2 where the upstream offers
    /// it (ALPN), proxies from the environment unless
    /// [`no_proxy_from_env`](Self::no_proxy_from_env), the platform's roots.
    pub fn general() -> Self {
        Self::with(Client::General)
    }

    /// The gateway's per-thread HTTP/1.1 pool. It takes no proxy and no extra
    /// root certificate: [`build`](crate::pipeline::ExecutorBuilder::build)
    /// refuses them.
    pub fn pooled() -> Self {
        Self::with(Client::Pooled)
    }

    /// A transport of the caller's own: one hop per call, an absolute URI.
    /// Return (or wrap) [`NotSent`] when nothing was sent. The pipeline still
    /// checks URLs and redirect hops against the URL policy; names it cannot
    /// see resolved are the service's to check (see
    /// [`UrlPolicy::client_builder`]).
    pub fn custom<S, B>(service: S) -> Self
    where
        S: Service<Request<Bytes>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self::with(Client::Custom(erase(service)))
    }

    fn with(client: Client) -> Self {
        Self {
            client,
            general: General {
                proxies: Vec::new(),
                from_env: true,
                roots: Vec::new(),
            },
            layers: Vec::new(),
        }
    }

    /// Sends every request through this HTTP proxy (`http://host:port`,
    /// credentials as `http://user:password@host:port`); `https` targets
    /// through a `CONNECT` tunnel. Replaces the proxies of the environment.
    /// General transport only.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.general.proxies.push(url.into());
        self
    }

    /// Whether the environment names a proxy the general transport would use
    /// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, in either case): the
    /// gateway then sends through the general transport, as the pooled one
    /// takes no proxy.
    pub fn environment_names_a_proxy() -> bool {
        !general::from_env(|name| std::env::var(name).ok()).is_empty()
    }

    /// Ignores `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.
    pub fn no_proxy_from_env(mut self) -> Self {
        self.general.from_env = false;
        self
    }

    /// Trusts `certificate` as a root, besides the platform's. General
    /// transport only.
    pub fn root_certificate(mut self, certificate: Certificate) -> Self {
        self.general.roots.push(certificate);
        self
    }

    /// Wraps the transport (and the layers added before) in `layer`: the
    /// last layer added sees a request first.
    pub fn layer<L, B>(mut self, layer: L) -> Self
    where
        L: Layer<HttpService> + Send + 'static,
        L::Service: Service<Request<Bytes>, Response = Response<B>> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request<Bytes>>>::Error: Into<BoxError>,
        <L::Service as Service<Request<Bytes>>>::Future: Send + 'static,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.layers
            .push(Box::new(move |inner| erase(layer.layer(inner))));
        self
    }

    /// The service, its layers applied.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` for a proxy or root certificate on a transport
    /// other than the general one, a proxy URL that does not parse, or TLS
    /// that cannot be set up.
    pub(crate) fn build(
        self,
        policy: UrlPolicy,
        connect_timeout: Duration,
    ) -> Result<HttpService, Error> {
        let misfit = !self.general.proxies.is_empty() || !self.general.roots.is_empty();
        let mut service = match self.client {
            Client::General => general::service(self.general, policy, connect_timeout)?,
            _ if misfit => {
                return Err(Error::config(
                    "a proxy or root certificate needs the general transport (Transport::general())",
                ));
            }
            Client::Pooled => erase(pooled::Pooled::new(policy, connect_timeout)?),
            Client::Custom(service) => service,
        };
        for wrap in self.layers {
            service = wrap(service);
        }
        Ok(service)
    }
}

/// Any one-hop service as an [`HttpService`]: body and error boxed.
pub(super) fn erase<S, B>(service: S) -> HttpService
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    BoxCloneSyncService::new(
        service
            .map_response(|response: Response<B>| {
                response.map(|body| body.map_err(Into::into).boxed_unsync())
            })
            .map_err(Into::into),
    )
}
