//! The pooled HTTP client of the invocation transport: hyper's client over a
//! connector that resolves names through the URL policy, connects within the
//! connect timeout and speaks TLS (rustls, the platform's verifier) to
//! `https` upstreams. HTTP/1.1 only: keep-alive connections are pooled per
//! host, and the pool is what a busy integration reuses (decision 34).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::Error;
use crate::url_policy::{PolicyResolver, UrlPolicy};

/// How long an unused pooled connection is kept open.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// TCP keep-alive probes on upstream connections, so a dead peer is noticed.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The client type: policy-checked connections, whole bodies sent.
pub(crate) type HttpClient = Client<HttpsConnector<HttpConnector<PolicyResolver>>, Full<Bytes>>;

/// Builds the client for `policy`.
///
/// # Errors
/// `CONFIGURATION_ERROR` when the platform's certificate verifier cannot be set up.
pub(crate) fn build(policy: UrlPolicy, connect_timeout: Duration) -> Result<HttpClient, Error> {
    let mut tcp = HttpConnector::new_with_resolver(PolicyResolver::new(policy));
    // `https` URLs are passed on to the TLS layer, which needs them.
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(connect_timeout));
    tcp.set_keepalive(Some(TCP_KEEPALIVE));
    // Named explicitly: the process may hold another rustls provider (DEPENDENCIES.md).
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let connector = HttpsConnectorBuilder::new()
        .with_provider_and_platform_verifier(provider)
        .map_err(|e| Error::config(format!("TLS cannot be set up: {e}")))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector))
}
