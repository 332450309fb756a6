//! The crawler: policy-checked fetching (core's [`UrlPolicy`] client), bounded
//! concurrency, per-host pacing, robots.txt, content-type filtering, canonical URL
//! de-duplication, a per-page size cap and a total byte budget.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::cache::{CacheReport, CachedPage, PageCache, content_hash};
use crate::robots::{MAX_ROBOTS_BYTES, Robots};
use crate::{DiscoverError, DiscoverOptions, Mode, Progress};
use waygate_core::UrlPolicy;

/// The user agent sent, and matched in robots.txt.
pub const USER_AGENT: &str = concat!("waygate-discover/", env!("CARGO_PKG_VERSION"));

/// What a fetched document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTML or XHTML.
    Html,
    /// Markdown.
    Markdown,
    /// JSON (maybe an OpenAPI document).
    Json,
    /// YAML (maybe an OpenAPI document).
    Yaml,
}

/// A fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    /// Its kind, from the content type (or the extension for `text/plain`).
    pub kind: Kind,
    /// The body, as UTF-8 (lossy).
    pub body: String,
    /// How deep below a start URL it was found.
    pub depth: u32,
}

/// Why a URL yielded nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Refused by the outbound URL policy.
    #[error("refused by the outbound URL policy: {0}")]
    Refused(String),
    /// robots.txt disallows it.
    #[error("disallowed by robots.txt")]
    Robots,
    /// Network error or timeout.
    #[error("{0}")]
    Network(String),
    /// A non-success status.
    #[error("HTTP {0}")]
    Status(u16),
    /// A login page or 401/403.
    #[error("needs a login (HTTP {0}); paste the page's content instead")]
    Login(u16),
    /// Not HTML, Markdown, JSON or YAML.
    #[error("content type '{0}' is not documentation")]
    ContentType(String),
    /// Over the per-page cap.
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    /// The total byte budget is spent.
    #[error("the crawl's byte budget is spent")]
    Budget,
}

/// The policy-checked HTTP side of a crawl.
pub(crate) struct Fetcher {
    client: reqwest::Client,
    policy: UrlPolicy,
    max_page_bytes: usize,
    budget: std::sync::atomic::AtomicUsize,
    pacing: Duration,
    next_slot: Mutex<HashMap<String, Instant>>,
    robots: Mutex<HashMap<String, Arc<Robots>>>,
    obey_robots: bool,
    cache: Option<Arc<dyn PageCache>>,
    report: std::sync::Mutex<CacheReport>,
}

/// A successful GET.
struct Got {
    url: Url,
    content_type: String,
    body: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// `304`: the body is the cached one.
    not_modified: bool,
}

impl Fetcher {
    pub(crate) fn new(options: &DiscoverOptions) -> Result<Self, DiscoverError> {
        let client = options
            .policy
            .client_builder()
            .user_agent(USER_AGENT)
            .timeout(options.page_timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DiscoverError::Client(e.to_string()))?;
        Ok(Self {
            client,
            policy: options.policy,
            max_page_bytes: options.max_page_bytes,
            budget: std::sync::atomic::AtomicUsize::new(options.max_total_bytes),
            pacing: options.per_host_delay,
            next_slot: Mutex::new(HashMap::new()),
            robots: Mutex::new(HashMap::new()),
            obey_robots: options.robots,
            cache: options.cache.clone(),
            report: std::sync::Mutex::new(CacheReport::default()),
        })
    }

    /// Waits for this host's next slot: requests to one host are at least
    /// `pacing` apart, whatever the concurrency.
    async fn pace(&self, url: &Url) {
        if self.pacing.is_zero() {
            return;
        }
        let key = origin(url);
        let wait_until = {
            let mut slots = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = slots.get(&key).copied().filter(|t| *t > now).unwrap_or(now);
            slots.insert(key, slot + self.pacing);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }

    async fn robots_for(&self, url: &Url) -> Arc<Robots> {
        let key = origin(url);
        if let Some(r) = self.robots.lock().await.get(&key) {
            return r.clone();
        }
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        // A missing or unreadable robots.txt allows everything (RFC 9309 §2.3.1.3 for 4xx).
        let rules = match self.get(&robots_url, MAX_ROBOTS_BYTES, true, None).await {
            Ok(got) => Robots::parse(&got.body, USER_AGENT),
            Err(_) => Robots::default(),
        };
        let rules = Arc::new(rules);
        self.robots.lock().await.insert(key, rules.clone());
        rules
    }

    /// Fetches a page as documentation.
    pub(crate) async fn fetch(&self, url: &Url, depth: u32) -> Result<Fetched, FetchError> {
        self.policy
            .check_url(url)
            .map_err(|e| FetchError::Refused(e.to_string()))?;
        if self.obey_robots {
            let robots = self.robots_for(url).await;
            let mut path = url.path().to_owned();
            if let Some(q) = url.query() {
                path.push('?');
                path.push_str(q);
            }
            if !robots.allowed(&path) {
                return Err(FetchError::Robots);
            }
        }
        let key = canonical(url).to_string();
        let cached = match &self.cache {
            Some(cache) => cache.get(&key).await,
            None => None,
        };
        // A resumed job's pages from its interrupted run are not asked for again.
        if let Some(page) = cached.as_ref().filter(|c| c.reusable) {
            let kind = kind_of(&page.content_type, url)
                .ok_or_else(|| FetchError::ContentType(page.content_type.clone()))?;
            self.report.lock().unwrap_or_else(|e| e.into_inner()).reused += 1;
            return Ok(Fetched {
                url: url.clone(),
                kind,
                body: page.body.clone(),
                depth,
            });
        }
        let got = self
            .get(url, self.max_page_bytes, false, cached.as_ref())
            .await?;
        let kind = kind_of(&got.content_type, &got.url)
            .ok_or_else(|| FetchError::ContentType(got.content_type.clone()))?;
        if kind == Kind::Html && looks_like_login(&got.body) {
            return Err(FetchError::Login(200));
        }
        if let Some(cache) = &self.cache {
            let hash = content_hash(&got.body);
            {
                let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
                match &cached {
                    _ if got.not_modified => report.not_modified += 1,
                    Some(before) if before.content_hash == hash => report.same_hash += 1,
                    Some(_) => report.changed += 1,
                    None => report.new += 1,
                }
            }
            cache
                .put(CachedPage {
                    url: key,
                    content_hash: hash,
                    body: got.body.clone(),
                    content_type: got.content_type.clone(),
                    etag: got.etag.clone(),
                    last_modified: got.last_modified.clone(),
                    reusable: false,
                })
                .await;
        }
        Ok(Fetched {
            url: got.url,
            kind,
            body: got.body,
            depth,
        })
    }

    /// What the page cache saw so far.
    fn cache_report(&self) -> CacheReport {
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// GET with the size cap and the budget; conditional when `cached` has
    /// validators, answered from `cached` on `304`.
    async fn get(
        &self,
        url: &Url,
        cap: usize,
        quiet: bool,
        cached: Option<&CachedPage>,
    ) -> Result<Got, FetchError> {
        use std::sync::atomic::Ordering;
        self.policy
            .check_url(url)
            .map_err(|e| FetchError::Refused(e.to_string()))?;
        if self.budget.load(Ordering::Relaxed) == 0 {
            return Err(FetchError::Budget);
        }
        self.pace(url).await;
        let mut request = self.client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            "text/html, text/markdown, application/json, application/yaml;q=0.9, */*;q=0.1",
        );
        if let Some(c) = cached {
            if let Some(etag) = &c.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &c.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
            }
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| FetchError::Network(network_error(&e)))?;
        let status = response.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        if let (304, Some(c)) = (status, cached) {
            return Ok(Got {
                url: response.url().clone(),
                content_type: c.content_type.clone(),
                body: c.body.clone(),
                etag: etag.or_else(|| c.etag.clone()),
                last_modified: last_modified.or_else(|| c.last_modified.clone()),
                not_modified: true,
            });
        }
        if status == 401 || status == 403 {
            return Err(FetchError::Login(status));
        }
        if !response.status().is_success() {
            return Err(FetchError::Status(status));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let final_url = response.url().clone();
        if !quiet && kind_of(&content_type, &final_url).is_none() {
            return Err(FetchError::ContentType(content_type));
        }
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| FetchError::Network(network_error(&e)))?
        {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            // Spend the budget as bytes arrive, so parallel fetches cannot overshoot it.
            let spent = self
                .budget
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    left.checked_sub(chunk.len())
                });
            if spent.is_err() {
                self.budget.store(0, Ordering::Relaxed);
                return Err(FetchError::Budget);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Got {
            url: final_url,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
            etag,
            last_modified,
            not_modified: false,
        })
    }
}

fn network_error(e: &reqwest::Error) -> String {
    let mut text = e.without_url_ref();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        if self.is_timeout() {
            "timed out".into()
        } else if self.is_connect() {
            "cannot connect".into()
        } else {
            "request failed".into()
        }
    }
}

/// A login form and little else: a page behind a login wall.
fn looks_like_login(body: &str) -> bool {
    let lower = body
        .get(..body.len().min(200_000))
        .unwrap_or("")
        .to_ascii_lowercase();
    lower.contains("type=\"password\"") && lower.len() < 60_000
}

/// The document kind for a content type; `text/plain` by the URL's extension.
pub fn kind_of(content_type: &str, url: &Url) -> Option<Kind> {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let path = url.path().to_ascii_lowercase();
    match mime {
        "text/html" | "application/xhtml+xml" => Some(Kind::Html),
        "text/markdown" | "text/x-markdown" => Some(Kind::Markdown),
        "application/json" | "application/vnd.oai.openapi+json" => Some(Kind::Json),
        m if m.ends_with("+json") => Some(Kind::Json),
        "application/yaml"
        | "application/x-yaml"
        | "text/yaml"
        | "text/x-yaml"
        | "application/vnd.oai.openapi" => Some(Kind::Yaml),
        "text/plain" | "application/octet-stream" | "" => {
            if path.ends_with(".md") || path.ends_with(".markdown") || path.ends_with(".mdx") {
                Some(Kind::Markdown)
            } else if path.ends_with(".json") {
                Some(Kind::Json)
            } else if path.ends_with(".yaml") || path.ends_with(".yml") {
                Some(Kind::Yaml)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `scheme://host:port`.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The URL a page is known by: no fragment, no tracking parameters, host
/// lower-cased and default port dropped (the `url` crate does both). `dir/` and
/// `dir/index.html` stay apart: not every server serves one as the other.
pub fn canonical(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_") && k != "ref" && k != "fbclid")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u
}

/// Same site: same host, ignoring a leading `www.`.
pub fn same_site(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_owned())
    };
    host(a).is_some()
        && host(a) == host(b)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether a link points at an OpenAPI/Swagger document.
pub fn spec_link(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    let file = path.rsplit('/').next().unwrap_or("");
    let data = file.ends_with(".json") || file.ends_with(".yaml") || file.ends_with(".yml");
    (data && (file.contains("openapi") || file.contains("swagger")))
        || path.ends_with("/api-docs")
        || path.ends_with("/v3/api-docs")
}

/// Well-known places of a site's spec, tried on every start URL's origin.
pub const WELL_KNOWN_SPECS: [&str; 6] = [
    "/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/v3/api-docs",
    "/v2/api-docs",
    "/.well-known/openapi.json",
];

/// A URL waiting to be fetched.
#[derive(Debug, Clone)]
struct Pending {
    url: Url,
    depth: u32,
    score: i64,
}

/// The result of a crawl.
#[derive(Debug, Default)]
pub(crate) struct Crawl {
    pub(crate) pages: Vec<Fetched>,
    pub(crate) specs: Vec<Fetched>,
    pub(crate) warnings: Vec<String>,
    /// Pages behind a login (401, 403 or a login form).
    pub(crate) login: Vec<String>,
    pub(crate) cache: CacheReport,
}

/// Crawls from the start URLs; `handle` parses each page and returns its links
/// (absolute, already resolved) and spec links.
pub(crate) async fn crawl(
    options: &DiscoverOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
    mut handle: impl FnMut(&Fetched) -> (Vec<(Url, String)>, Vec<Url>),
) -> Result<Crawl, DiscoverError> {
    let fetcher = Fetcher::new(options)?;
    let mut out = Crawl::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut frontier: Vec<Pending> = Vec::new();
    let mut spec_queue: Vec<Url> = Vec::new();
    let starts: Vec<Url> = options.urls.clone();
    // Pasted pages (docs behind a login) are read as if fetched, before anything else.
    let mut ready: Vec<Fetched> = Vec::new();
    for p in options.pasted.iter().rev() {
        if seen.insert(canonical(&p.url).to_string()) {
            ready.push(Fetched {
                url: p.url.clone(),
                kind: p.kind,
                body: p.content.clone(),
                depth: 0,
            });
        }
    }
    for url in &starts {
        let url = canonical(url);
        if seen.insert(url.to_string()) {
            frontier.push(Pending {
                url,
                depth: 0,
                score: 1_000,
            });
        }
    }
    if options.find_specs {
        let mut origins = HashSet::new();
        for url in &starts {
            if origins.insert(origin(url)) {
                for path in WELL_KNOWN_SPECS {
                    if let Ok(u) = url.join(path) {
                        spec_queue.push(u);
                    }
                }
            }
        }
    }
    let wish_words: Vec<String> = options
        .wishlist
        .iter()
        .flat_map(|w| {
            w.split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .filter(|w| w.len() > 2)
        .collect();
    let mut spec_seen: HashSet<String> = HashSet::new();
    let fetcher = &fetcher;
    // One closure makes every job the same future type.
    let job = |url: Url, is_spec: bool, depth: u32| async move {
        let r = fetcher.fetch(&url, depth).await;
        (url, is_spec, depth, r)
    };
    let mut in_flight = FuturesUnordered::new();
    let mut fetched = 0usize;
    let concurrency = options.concurrency.max(1);
    loop {
        // Specs first: they are fetched before any further page.
        while in_flight.len() < concurrency {
            if let Some(url) = spec_queue.pop() {
                if spec_seen.insert(canonical(&url).to_string()) {
                    in_flight.push(job(url, true, 0));
                }
                continue;
            }
            if fetched + in_flight.len() + ready.len() >= options.max_pages {
                break;
            }
            let Some(best) = frontier
                .iter()
                .enumerate()
                .max_by_key(|(i, p)| (p.score, -i64::try_from(*i).unwrap_or(0)))
                .map(|(i, _)| i)
            else {
                break;
            };
            let next = frontier.remove(best);
            in_flight.push(job(next.url, false, next.depth));
        }
        let next = match ready.pop() {
            Some(doc) => Some((doc.url.clone(), false, 0, Ok(doc))),
            None => in_flight.next().await,
        };
        let Some((url, is_spec, depth, result)) = next else {
            break;
        };
        match result {
            Ok(doc) if is_spec => {
                if matches!(doc.kind, Kind::Json | Kind::Yaml) {
                    progress(Progress::SpecFound {
                        url: doc.url.to_string(),
                    });
                    out.specs.push(doc);
                }
            }
            Err(_) if is_spec => {}
            Ok(doc) => {
                fetched += 1;
                let canonical_url = canonical(&doc.url);
                seen.insert(canonical_url.to_string());
                if matches!(doc.kind, Kind::Json | Kind::Yaml) {
                    out.specs.push(doc);
                    continue;
                }
                let (links, specs) = handle(&doc);
                for s in specs {
                    if options.find_specs {
                        spec_queue.push(s);
                    }
                }
                if options.mode == Mode::Auto && depth < options.max_depth {
                    for (link, text) in links {
                        if options.find_specs && spec_link(&link) {
                            spec_queue.push(link);
                            continue;
                        }
                        if !same_site(&link, &doc.url) || !matches!(link.scheme(), "http" | "https")
                        {
                            continue;
                        }
                        let link = canonical(&link);
                        if !seen.insert(link.to_string()) {
                            continue;
                        }
                        let haystack = format!("{} {}", link.path(), text).to_ascii_lowercase();
                        let wished = wish_words
                            .iter()
                            .filter(|w| haystack.contains(w.as_str()))
                            .count();
                        let apiish = ["api", "reference", "endpoint", "rest"]
                            .iter()
                            .filter(|w| haystack.contains(*w))
                            .count();
                        let score = i64::try_from(wished * 100 + apiish * 10).unwrap_or(0)
                            - i64::from(depth + 1);
                        frontier.push(Pending {
                            url: link,
                            depth: depth + 1,
                            score,
                        });
                    }
                }
                progress(Progress::Fetched {
                    url: doc.url.to_string(),
                    pages_fetched: fetched,
                    pages_total: (fetched + frontier.len() + in_flight.len())
                        .min(options.max_pages),
                });
                out.pages.push(doc);
            }
            Err(e) => {
                if matches!(e, FetchError::Budget) {
                    frontier.clear();
                }
                if matches!(e, FetchError::Login(_)) {
                    out.login.push(url.to_string());
                }
                progress(Progress::Skipped {
                    url: url.to_string(),
                    reason: e.to_string(),
                });
                out.warnings.push(format!("{url}: {e}"));
            }
        }
    }
    if !frontier.is_empty() && options.mode == Mode::Auto {
        out.warnings.push(format!(
            "stopped at {} pages; {} more links were not followed (raise maxPages)",
            options.max_pages,
            frontier.len()
        ));
    }
    out.cache = fetcher.cache_report();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls() {
        let u = |s| Url::parse(s).unwrap();
        assert_eq!(
            canonical(&u(
                "HTTP://Docs.Example.com:80/a/index.html?utm_source=x&page=2#top"
            ))
            .as_str(),
            "http://docs.example.com/a/index.html?page=2"
        );
        assert_eq!(
            canonical(&u("http://x.io/a/close-index.html")).as_str(),
            "http://x.io/a/close-index.html"
        );
        assert!(same_site(
            &u("https://www.example.com/a"),
            &u("https://example.com/b")
        ));
        assert!(!same_site(
            &u("https://example.com/a"),
            &u("https://evil.com/a")
        ));
        assert!(spec_link(&u("https://x.io/static/openapi.yaml")));
        assert!(spec_link(&u("https://x.io/v3/api-docs")));
        assert!(!spec_link(&u("https://x.io/docs/openapi-guide.html")));
        assert_eq!(
            kind_of("text/plain", &u("http://x/a.md")),
            Some(Kind::Markdown)
        );
        assert_eq!(kind_of("image/png", &u("http://x/a.png")), None);
    }
}
