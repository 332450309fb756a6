//! The pooled HTTP client of the invocation transport: hyper's client over a
//! connector that resolves names through the URL policy, connects within the
//! connect timeout and speaks TLS (rustls, the platform's verifier) to
//! `https` upstreams. HTTP/1.1 only: keep-alive connections are pooled per
//! host, and the pool is what a busy integration reuses (decision 34).
//!
//! Each thread that sends gets its own client and pool ([`Clients`]): a
//! pooled connection is driven by a task on the runtime that opened it, so a
//! pool shared by the gateway's per-core runtimes would wake another core for
//! every request (measured 22% slower than a pool per runtime, decision 35).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use thread_local::ThreadLocal;

use crate::error::Error;
use crate::url_policy::{PolicyResolver, UrlPolicy};

/// How long an unused pooled connection is kept open.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// TCP keep-alive probes on upstream connections, so a dead peer is noticed.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The client type: policy-checked connections, whole bodies sent.
pub(crate) type HttpClient = Client<Connector, Full<Bytes>>;

/// Policy-checked TCP with TLS for `https` URLs.
type Connector = HttpsConnector<HttpConnector<PolicyResolver>>;

/// One pooled client per thread, all over the same connector.
pub(crate) struct Clients {
    connector: Connector,
    per_thread: ThreadLocal<HttpClient>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients").finish_non_exhaustive()
    }
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

    /// The calling thread's client, made on its first use.
    pub(crate) fn get(&self) -> &HttpClient {
        self.per_thread.get_or(|| {
            Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(POOL_IDLE)
                .build(self.connector.clone())
        })
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
