//! The general transport (decision 96): reqwest, HTTP/2 by ALPN, HTTP(S)
//! proxies from the builder or the environment, extra root certificates.
//!
//! The URL policy holds here as in the pooled transport: names resolve
//! through it (a proxy's own name excepted: the operator chose it), and
//! redirects are not followed (the pipeline follows them hop by hop). A proxy
//! resolves the target's name itself, out of the policy's sight, so a proxied
//! request's target name is resolved here first and refused unless every
//! address passes (fail closed: a name that does not resolve here is refused
//! too), unless the policy allows every network anyway.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{NoProxy, Proxy};
use tower::Service;

use super::seam::{BoxError, General, HttpService, NotSent, ResponseBody, erase};
use crate::error::Error;
use crate::url_policy::{UrlPolicy, allowed_addrs};

/// TCP keep-alive probes on upstream connections, so a dead peer is noticed.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The general transport for `policy`.
///
/// # Errors
/// `CONFIGURATION_ERROR` for a proxy URL that does not parse or TLS that
/// cannot be set up.
pub(super) fn service(
    options: General,
    policy: UrlPolicy,
    connect_timeout: Duration,
) -> Result<HttpService, Error> {
    let proxies = match options.proxies.is_empty() && options.from_env {
        true => from_env(|name| std::env::var(name).ok()),
        false => options
            .proxies
            .iter()
            .map(|url| ProxyRule::All(url.clone()))
            .collect(),
    };
    let mut exempt = HashSet::new();
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .tcp_keepalive(TCP_KEEPALIVE)
        .tls_certs_merge(options.roots)
        // Our own proxies only: the system's are read above, once, so the
        // policy knows which hosts are proxies.
        .no_proxy();
    for rule in &proxies {
        let (proxy, host) = rule.proxy()?;
        exempt.extend(host);
        builder = builder.proxy(proxy);
    }
    let client = builder
        .dns_resolver(Arc::new(Resolver {
            policy,
            proxies: Arc::new(exempt),
        }))
        .build()
        .map_err(|e| Error::config(format!("the HTTP client cannot be built: {e}")))?;
    let precheck = (!proxies.is_empty() && !policy.allows_every_network()).then_some(policy);
    Ok(erase(GeneralService { client, precheck }))
}

/// One proxy setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ProxyRule {
    /// For every scheme.
    All(String),
    /// For `http` targets (`HTTP_PROXY`).
    Http(String, Option<String>),
    /// For `https` targets (`HTTPS_PROXY`).
    Https(String, Option<String>),
}

impl ProxyRule {
    /// reqwest's proxy, and the proxy's host when it is a name.
    fn proxy(&self) -> Result<(Proxy, Option<String>), Error> {
        let (url, no_proxy) = match self {
            Self::All(url) => (url, None),
            Self::Http(url, no) | Self::Https(url, no) => (url, no.as_deref()),
        };
        let bad = |e: &dyn std::fmt::Display| {
            // The URL may hold the proxy's password: name only what is wrong.
            Error::config(format!("the proxy URL is not valid: {e}"))
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
        let host = match parsed.host() {
            Some(url::Host::Domain(name)) => Some(name.to_ascii_lowercase()),
            Some(_) => None,
            None => return Err(bad(&"it has no host")),
        };
        let proxy = match self {
            Self::All(_) => Proxy::all(url),
            Self::Http(..) => Proxy::http(url),
            Self::Https(..) => Proxy::https(url),
        }
        .map_err(|e| bad(&e))?;
        Ok((
            proxy.no_proxy(no_proxy.and_then(NoProxy::from_string)),
            host,
        ))
    }
}

/// The proxies the environment names, as curl reads them: `HTTPS_PROXY`,
/// `HTTP_PROXY` (not in a CGI script, where a request could set it),
/// `ALL_PROXY` for a scheme without its own, each name also in lower case;
/// `NO_PROXY` exempts hosts.
pub(super) fn from_env(var: impl Fn(&str) -> Option<String>) -> Vec<ProxyRule> {
    let read = |upper: &str| {
        var(upper)
            .or_else(|| var(&upper.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let cgi = var("REQUEST_METHOD").is_some();
    let all = read("ALL_PROXY");
    let http = match cgi {
        true => var("http_proxy").filter(|v| !v.trim().is_empty()),
        false => read("HTTP_PROXY"),
    }
    .or_else(|| all.clone());
    let https = read("HTTPS_PROXY").or(all);
    let no_proxy = read("NO_PROXY");
    let mut rules = Vec::new();
    if let Some(url) = http {
        rules.push(ProxyRule::Http(url, no_proxy.clone()));
    }
    if let Some(url) = https {
        rules.push(ProxyRule::Https(url, no_proxy));
    }
    rules
}

/// The policy's resolver, except for the proxies' own names.
struct Resolver {
    policy: UrlPolicy,
    proxies: Arc<HashSet<String>>,
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let proxy = self.proxies.contains(&name.as_str().to_ascii_lowercase());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match proxy {
                true => tokio::net::lookup_host((name.as_str(), 0)).await?.collect(),
                false => allowed_addrs(policy, name.as_str()).await?,
            };
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// reqwest's client as a one-hop service.
#[derive(Clone)]
struct GeneralService {
    client: reqwest::Client,
    /// The policy a proxied target's name is checked by before sending.
    precheck: Option<UrlPolicy>,
}

type Answer = Result<Response<ResponseBody>, BoxError>;

impl Service<Request<Bytes>> for GeneralService {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        let client = self.client.clone();
        let precheck = self.precheck;
        Box::pin(async move {
            if let Some(policy) = precheck
                && let Some(host) = request.uri().host()
                && host.parse::<std::net::IpAddr>().is_err()
                && !host.starts_with('[')
            {
                allowed_addrs(policy, host).await.map_err(NotSent::new)?;
            }
            // reqwest's errors name the URL, which may hold a key: dropped.
            let request =
                reqwest::Request::try_from(request).map_err(|e| NotSent::new(e.without_url()))?;
            let response = client.execute(request).await.map_err(|e| -> BoxError {
                match e.is_connect() {
                    true => Box::new(NotSent::new(e.without_url())),
                    false => Box::new(e.without_url()),
                }
            })?;
            let response: Response<reqwest::Body> = response.into();
            Ok(response.map(|body| {
                body.map_err(|e| -> BoxError { Box::new(e.without_url()) })
                    .boxed_unsync()
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<ProxyRule> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        from_env(|name| map.get(name).cloned())
    }

    #[test]
    fn the_environment_names_proxies_per_scheme_as_curl_reads_it() {
        assert_eq!(env(&[]), []);
        assert_eq!(
            env(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "a.test")]),
            [ProxyRule::Https("http://p:1".into(), Some("a.test".into()))]
        );
        assert_eq!(
            env(&[("http_proxy", "http://h:1"), ("ALL_PROXY", "http://all:1")]),
            [
                ProxyRule::Http("http://h:1".into(), None),
                ProxyRule::Https("http://all:1".into(), None)
            ]
        );
        // In a CGI script a request's `Proxy:` header becomes HTTP_PROXY.
        assert_eq!(
            env(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]),
            []
        );
        assert_eq!(env(&[("HTTPS_PROXY", " ")]), []);
    }

    #[test]
    fn a_proxy_url_error_never_shows_the_password() {
        let e = ProxyRule::All("http://user:s3cret@[::1".into())
            .proxy()
            .unwrap_err();
        assert_eq!(e.code(), "CONFIGURATION_ERROR");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let (_, host) = ProxyRule::All("http://Proxy.Corp:3128".into())
            .proxy()
            .unwrap();
        assert_eq!(host.as_deref(), Some("proxy.corp"));
        let (_, host) = ProxyRule::All("http://10.0.0.1:3128".into())
            .proxy()
            .unwrap();
        assert_eq!(host, None);
    }
}
