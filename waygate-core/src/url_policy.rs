//! Outbound URL policy (DESIGN.md §6): upstream requests never reach loopback,
//! private, link-local or cloud-metadata addresses unless the operator allows it.
//!
//! Three places enforce it, because each alone has a gap: [`UrlPolicy::check_url`]
//! before sending (HTTP clients skip the resolver for IP-literal hosts), the
//! policy-filtered resolver for every name lookup (what a name resolves to right
//! now), and the redirect checks for every hop.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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

    /// Whether `ip` may be reached. An IPv6 address that embeds an IPv4 one
    /// (IPv4-mapped, -compatible or -translated, NAT64, 6to4, Teredo) is judged
    /// by the address it embeds as well: a translator or relay would deliver it there.
    ///
    /// # Errors
    /// [`Refused`], naming the address and its range.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        if let IpAddr::V6(v6) = ip {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return self.check_ip(IpAddr::V4(v4));
            }
            for (v4, form) in embedded_ipv4(v6) {
                if let Some(what) = self.refusal(IpAddr::V4(v4)) {
                    return Err(Refused(format!(
                        "{v6} is {form} address embedding {v4}, a {what} address"
                    )));
                }
            }
        }
        match self.refusal(ip) {
            None => Ok(()),
            Some(what) => Err(Refused(format!("{ip} is a {what} address"))),
        }
    }

    /// Whether no address is refused (`allow_private_networks`).
    pub(crate) fn allows_every_network(&self) -> bool {
        self.allow_private
    }

    /// The range that makes `ip` refused under this policy, if any.
    fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        match classify(ip) {
            Range::Public => None,
            Range::Loopback if self.allow_loopback || self.allow_private => None,
            Range::Other(_) if self.allow_private => None,
            Range::Loopback => Some("loopback"),
            Range::Other(what) => Some(what),
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
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("100::/64", "discard-only"),
        ("2001:db8::/32", "documentation"),
        // Local-use IPv4/IPv6 translation (RFC 8215): the operator's own
        // translator, whose IPv4 side is by definition not public.
        ("64:ff9b:1::/48", "local-use NAT64"),
    ]
    .into_iter()
    .map(|(net, what)| (net.parse().expect("static network literals parse"), what))
    .collect()
});

/// The IPv4 addresses an IPv6 address carries, and the form that carries each
/// (with its article, for messages).
fn embedded_ipv4(v6: Ipv6Addr) -> Vec<(Ipv4Addr, &'static str)> {
    let s = v6.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let mut found = Vec::new();
    match s {
        // ::a.b.c.d (IPv4-compatible, deprecated); :: and ::1 are not.
        [0, 0, 0, 0, 0, 0, hi, lo] if u128::from(v6) > 1 => {
            found.push((v4(hi, lo), "an IPv4-compatible"));
        }
        // ::ffff:0:a.b.c.d (IPv4-translated, SIIT).
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => found.push((v4(hi, lo), "an IPv4-translated")),
        // 64:ff9b::a.b.c.d (NAT64 well-known prefix, RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => found.push((v4(hi, lo), "a NAT64")),
        // 2002:aabb:ccdd::/48 (6to4): the relay's IPv4 in bits 16..48.
        [0x2002, hi, lo, ..] => found.push((v4(hi, lo), "a 6to4")),
        // 2001:0:server:server:flags:port:client:client (Teredo): the server's
        // IPv4 in bits 32..64, the client's inverted in the last 32 bits.
        [0x2001, 0, server_hi, server_lo, _, _, client_hi, client_lo] => {
            found.push((v4(server_hi, server_lo), "a Teredo"));
            found.push((v4(!client_hi, !client_lo), "a Teredo"));
        }
        _ => {}
    }
    found
}

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
pub(crate) async fn allowed_addrs(
    policy: UrlPolicy,
    host: &str,
) -> Result<Vec<SocketAddr>, BoxError> {
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

/// The system resolver filtered by the policy, for every HTTP client: reqwest's
/// (OAuth2 token requests, spec downloads, the general transport) and hyper's
/// (the pooled transport).
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
    fn odd_ipv4_literals_are_normalised_and_refused() {
        // The url crate reads WHATWG's IPv4 forms; each is the loopback address.
        for url in [
            "http://0x7f.1/",
            "http://2130706433/",
            "http://127.1/",
            "http://0177.0.0.1/",
            "http://0x7f000001/",
            "http://127.0.0.1./",
            "http://%31%32%37.0.0.1/",
        ] {
            assert_eq!(
                check(UrlPolicy::strict(), url).unwrap_err(),
                "127.0.0.1 is a loopback address",
                "{url}"
            );
        }
    }

    #[test]
    fn ipv6_forms_embedding_a_refused_ipv4_are_refused_like_it() {
        let strict = UrlPolicy::strict();
        for (url, expected) in [
            (
                "http://[::ffff:127.0.0.1]/",
                "127.0.0.1 is a loopback address",
            ),
            (
                "http://[::ffff:a9fe:a9fe]/",
                "169.254.169.254 is a link-local (cloud metadata) address",
            ),
            (
                "http://[::127.0.0.1]/",
                "::7f00:1 is an IPv4-compatible address embedding 127.0.0.1, a loopback address",
            ),
            (
                "http://[::10.0.0.1]/",
                "::a00:1 is an IPv4-compatible address embedding 10.0.0.1, a private address",
            ),
            (
                "http://[::ffff:0:127.0.0.1]/",
                "::ffff:0:7f00:1 is an IPv4-translated address embedding 127.0.0.1, a loopback address",
            ),
            (
                "http://[64:ff9b::127.0.0.1]/",
                "64:ff9b::7f00:1 is a NAT64 address embedding 127.0.0.1, a loopback address",
            ),
            (
                "http://[64:ff9b::a9fe:a9fe]/",
                "64:ff9b::a9fe:a9fe is a NAT64 address embedding 169.254.169.254, a link-local (cloud metadata) address",
            ),
            (
                "http://[64:ff9b:1::5db8:d822]/",
                "64:ff9b:1::5db8:d822 is a local-use NAT64 address",
            ),
            (
                "http://[2002:7f00:1::]/",
                "2002:7f00:1:: is a 6to4 address embedding 127.0.0.1, a loopback address",
            ),
            (
                "http://[2002:c0a8:101::1]/",
                "2002:c0a8:101::1 is a 6to4 address embedding 192.168.1.1, a private address",
            ),
            // Teredo client 127.0.0.1 is stored inverted: 80ff:fffe.
            (
                "http://[2001:0:5db8:d822:0:0:80ff:fffe]/",
                "2001:0:5db8:d822::80ff:fffe is a Teredo address embedding 127.0.0.1, a loopback address",
            ),
            (
                "http://[2001:0:a00:1::]/",
                "2001:0:a00:1:: is a Teredo address embedding 10.0.0.1, a private address",
            ),
        ] {
            assert_eq!(check(strict, url).unwrap_err(), expected, "{url}");
        }
        // The same forms around a public IPv4 (93.184.216.34 = 5db8:d822) pass.
        for url in [
            "http://[64:ff9b::5db8:d822]/",
            "http://[2002:5db8:d822::1]/",
            "http://[2001:0:5db8:d822:0:0:a247:27dd]/",
            "http://[::5db8:d822]/",
        ] {
            check(strict, url).unwrap();
        }
        // Allowing loopback allows it in embedded form too, and ::1 stays plain loopback.
        let lo = UrlPolicy::strict().allow_loopback();
        check(lo, "http://[64:ff9b::127.0.0.1]/").unwrap();
        check(lo, "http://[::1]/").unwrap();
        assert!(check(lo, "http://[64:ff9b::10.0.0.1]/").is_err());
        check(
            UrlPolicy::strict().allow_private_networks(),
            "http://[2002:c0a8:101::1]/",
        )
        .unwrap();
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
