//! Outbound URL policy (DESIGN.md §6): upstream requests never reach loopback,
//! private, link-local or cloud-metadata addresses unless the operator allows it.
//!
//! Three places enforce it, because each alone has a gap: [`UrlPolicy::check_url`]
//! before sending (HTTP clients skip the resolver for IP-literal hosts), the
//! policy-filtered resolver for every name lookup (what a name resolves to right
//! now), and the redirect checks for every hop.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns;
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Which address ranges upstream requests may reach. The default refuses every
/// non-public range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    allow_loopback: bool,
    allow_private: bool,
}

/// A refused target; reqwest carries it as the source of its error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl UrlPolicy {
    /// Refuses loopback, private, link-local and metadata addresses.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Also allows loopback (127.0.0.0/8, ::1): for tests and local development.
    pub fn allow_loopback(mut self) -> Self {
        self.allow_loopback = true;
        self
    }

    /// Allows every address range (`WAYGATE_ALLOW_PRIVATE_NETWORKS=1`).
    pub fn allow_private_networks(mut self) -> Self {
        self.allow_loopback = true;
        self.allow_private = true;
        self
    }

    /// Whether `ip` may be reached.
    ///
    /// # Errors
    /// [`Refused`], naming the address and its range.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match classify(ip) {
            Range::Public => Ok(()),
            Range::Loopback if self.allow_loopback || self.allow_private => Ok(()),
            Range::Other(_) if self.allow_private => Ok(()),
            Range::Loopback => Err(Refused(format!("{ip} is a loopback address"))),
            Range::Other(what) => Err(Refused(format!("{ip} is a {what} address"))),
        }
    }

    /// Checks a URL's scheme and, when the host is an IP literal or a name that
    /// is local by definition, the host itself. Other names are checked when
    /// they are resolved.
    ///
    /// # Errors
    /// [`Refused`], naming the host, never the path or query (which may hold keys).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!(
                "scheme '{}' is not http or https",
                url.scheme()
            )));
        }
        match url.host() {
            None => Err(Refused("the URL has no host".into())),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain(name)) => self.check_name(name),
        }
    }

    fn check_name(&self, name: &str) -> Result<(), Refused> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return self
                .check_ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
                .map_err(|_| Refused(format!("{name} is a loopback name")));
        }
        if METADATA_NAMES.contains(&name.as_str()) && !self.allow_private {
            return Err(Refused(format!("{name} is a cloud metadata service")));
        }
        Ok(())
    }

    /// A `reqwest` client builder that enforces this policy: names are resolved
    /// through the policy, every redirect hop is re-checked, no proxy is used.
    /// Callers must still [`check_url`](Self::check_url) the first URL, for
    /// IP-literal hosts.
    pub fn client_builder(self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver::new(self)))
            .redirect(self.redirect_policy())
            .no_proxy()
    }

    /// The redirect policy that re-checks every hop (at most [`MAX_REDIRECTS`]).
    fn redirect_policy(self) -> reqwest::redirect::Policy {
        reqwest::redirect::Policy::custom(move |attempt| {
            match self.check_redirect(attempt.previous().len(), attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        })
    }

    /// Whether the hop to `url`, after `followed` redirects already, may be taken.
    ///
    /// # Errors
    /// [`Refused`] past [`MAX_REDIRECTS`] hops or for a refused target.
    pub(crate) fn check_redirect(&self, followed: usize, url: &Url) -> Result<(), Refused> {
        if followed >= MAX_REDIRECTS {
            return Err(Refused(format!("more than {MAX_REDIRECTS} redirects")));
        }
        self.check_url(url)
    }
}

/// Redirects followed at most per request.
pub const MAX_REDIRECTS: usize = 10;

const METADATA_NAMES: [&str; 3] = [
    "metadata.google.internal",
    "metadata",
    "instance-data.ec2.internal",
];

enum Range {
    Public,
    Loopback,
    Other(&'static str),
}

/// Non-public ranges and what they are, parsed once.
static REFUSED: LazyLock<Vec<(IpNet, &'static str)>> = LazyLock::new(|| {
    [
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("ff00::/8", "multicast"),
        ("fd00:ec2::254/128", "cloud metadata"),
    ]
    .into_iter()
    .map(|(net, what)| (net.parse().expect("static network literals parse"), what))
    .collect()
});

fn classify(ip: IpAddr) -> Range {
    if ip.is_loopback() {
        return Range::Loopback;
    }
    REFUSED
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map_or(Range::Public, |(_, what)| Range::Other(what))
}

/// The addresses `host` resolves to that the policy allows: a name that
/// resolves only to refused addresses is refused (naming the first refusal).
async fn allowed_addrs(policy: UrlPolicy, host: &str) -> Result<Vec<SocketAddr>, BoxError> {
    policy.check_name(host)?;
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
    let mut first_refusal = None;
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| match policy.check_ip(a.ip()) {
            Ok(()) => true,
            Err(e) => {
                first_refusal.get_or_insert(e);
                false
            }
        })
        .collect();
    if allowed.is_empty() {
        let why = first_refusal.map_or_else(|| "no addresses".to_owned(), |r| r.0);
        return Err(Box::new(Refused(format!("{host} resolves to {why}"))));
    }
    Ok(allowed)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The system resolver filtered by the policy, for both HTTP clients: reqwest's
/// (OAuth2 token requests, spec downloads) and hyper's (the invocation transport).
#[derive(Clone, Copy)]
pub(crate) struct PolicyResolver {
    policy: UrlPolicy,
}

impl PolicyResolver {
    pub(crate) fn new(policy: UrlPolicy) -> Self {
        Self { policy }
    }
}

impl fmt::Debug for PolicyResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyResolver")
            .field("policy", &self.policy)
            .finish()
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let allowed = allowed_addrs(policy, name.as_str()).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl tower_service::Service<dns::Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: dns::Name) -> Self::Future {
        let policy = self.policy;
        Box::pin(async move { Ok(allowed_addrs(policy, name.as_str()).await?.into_iter()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: UrlPolicy, url: &str) -> Result<(), String> {
        policy.check_url(&Url::parse(url).unwrap()).map_err(|e| e.0)
    }

    #[test]
    fn refuses_non_public_targets_by_default() {
        let strict = UrlPolicy::strict();
        for url in [
            "http://127.0.0.1:8080/x",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://172.20.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fd00:ec2::254]/",
            "http://0.0.0.0/",
            "http://localhost:9000/",
            "http://api.localhost/",
            "http://metadata.google.internal/",
        ] {
            assert!(check(strict, url).is_err(), "{url} should be refused");
        }
        check(strict, "https://slack.com/api").unwrap();
        check(strict, "http://93.184.216.34/").unwrap();
        assert_eq!(
            check(strict, "file:///etc/passwd").unwrap_err(),
            "scheme 'file' is not http or https"
        );
    }

    #[test]
    fn the_refusal_names_the_host_not_the_query() {
        let err = check(UrlPolicy::strict(), "http://10.0.0.1/x?api_key=sekrit").unwrap_err();
        assert_eq!(err, "10.0.0.1 is a private address");
    }

    #[test]
    fn loopback_and_private_can_be_allowed() {
        let lo = UrlPolicy::strict().allow_loopback();
        check(lo, "http://127.0.0.1/").unwrap();
        check(lo, "http://localhost/").unwrap();
        assert!(check(lo, "http://10.0.0.1/").is_err());
        let all = UrlPolicy::strict().allow_private_networks();
        check(all, "http://10.0.0.1/").unwrap();
        check(all, "http://169.254.169.254/").unwrap();
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_to_loopback() {
        let resolver = PolicyResolver::new(UrlPolicy::strict());
        let name: Name = "localhost".parse().unwrap();
        let err = match resolver.resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("loopback"), "{err}");
    }
}
