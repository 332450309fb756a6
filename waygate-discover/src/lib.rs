//! # waygate-discover
//!
//! Documentation discovery: crawl an API's documentation site, import any OpenAPI or
//! Swagger document it links to (specs first), and extract actions from the pages
//! with heuristics (no LLM needed). The result is an [`IntegrationDef`] draft in
//! API.md's format, each action carrying `metadata.confidence` (0..1) and
//! `metadata.sourceUrl`, plus progress events while it runs. This crate never talks
//! to the database: callers store what they accept.
//!
//! Modules: [`crawl`] (fetching under core's outbound URL policy), `robots`,
//! [`cache`] (the page cache port), [`text`] (HTML/Markdown → structured text),
//! [`extract`] (heuristics), [`rate`] (stated rate limits), [`llm`] (LLM providers), [`diff`] (a draft against
//! a stored definition), and the draft builder here.

pub mod cache;
pub mod crawl;
pub mod diff;
pub mod extract;
pub mod llm;
pub mod rate;
pub mod robots;
pub mod text;
pub mod wish;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;
use waygate_core::UrlPolicy;
use waygate_core::import::{self, ImportOptions, NoLoader};
use waygate_core::model::{
    ActionDef, ApiKeyLocation, AuthSpec, IntegrationDef, OAuth2Flow, ParamLocation, Parameter,
};

pub use crawl::USER_AGENT;
use extract::{Endpoint, PageFacts, Strength};

/// `auto` follows same-site links; `specific` reads only the given pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Start at the URLs and follow same-site links.
    #[default]
    Auto,
    /// Only the given pages.
    Specific,
}

/// What to crawl and the limits of the crawl.
#[derive(Clone)]
pub struct DiscoverOptions {
    /// Start URLs (http or https).
    pub urls: Vec<Url>,
    /// Crawl mode.
    pub mode: Mode,
    /// Pages fetched at most (specs not counted); default 20.
    pub max_pages: usize,
    /// Link depth below a start URL; default 3.
    pub max_depth: u32,
    /// Phrases for the actions wanted most: ranked first, and their pages fetched first.
    pub wishlist: Vec<String>,
    /// Honour robots.txt; default on.
    pub robots: bool,
    /// Look for OpenAPI/Swagger documents (links and well-known paths); default on.
    pub find_specs: bool,
    /// Requests in flight at once; default 4.
    pub concurrency: usize,
    /// Minimum time between two requests to one host; default 100 ms.
    pub per_host_delay: Duration,
    /// Largest page read, in bytes; default 4 MiB.
    pub max_page_bytes: usize,
    /// Bytes read over the whole crawl; default 64 MiB.
    pub max_total_bytes: usize,
    /// Timeout of one request; default 30 s.
    pub page_timeout: Duration,
    /// The outbound URL policy every request goes through.
    pub policy: UrlPolicy,
    /// An LLM to extract with, next to the heuristics; none by default.
    pub llm: Option<Arc<dyn llm::LlmProvider>>,
    /// Chunks sent to the LLM per discovery at most (its cost budget); default 40.
    pub llm_max_chunks: usize,
    /// Pages kept between crawls: conditional requests and change counts; none by default.
    pub cache: Option<Arc<dyn cache::PageCache>>,
    /// Pages given as content (docs behind a login), read before any fetch.
    pub pasted: Vec<Pasted>,
}

/// A page's content given by the caller instead of fetched (docs behind a login).
#[derive(Debug, Clone)]
pub struct Pasted {
    /// The URL it was copied from (links on it resolve against it).
    pub url: Url,
    /// Its content.
    pub content: String,
    /// What it is.
    pub kind: crawl::Kind,
}

impl std::fmt::Debug for DiscoverOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoverOptions")
            .field("urls", &self.urls)
            .field("mode", &self.mode)
            .field("max_pages", &self.max_pages)
            .field("llm", &self.llm.as_ref().map(|l| l.name().to_owned()))
            .finish_non_exhaustive()
    }
}

impl DiscoverOptions {
    /// The defaults for these start URLs (strict URL policy).
    pub fn new(urls: Vec<Url>) -> Self {
        Self {
            urls,
            mode: Mode::Auto,
            max_pages: 20,
            max_depth: 3,
            wishlist: Vec::new(),
            robots: true,
            find_specs: true,
            concurrency: 4,
            per_host_delay: Duration::from_millis(100),
            max_page_bytes: 4 * 1024 * 1024,
            max_total_bytes: 64 * 1024 * 1024,
            page_timeout: Duration::from_secs(30),
            policy: UrlPolicy::strict(),
            llm: None,
            llm_max_chunks: 40,
            cache: None,
            pasted: Vec::new(),
        }
    }
}

/// Progress while a discovery runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A stage begins: `crawling`, `extracting`, `llm`, `done`.
    Stage(&'static str),
    /// A page was fetched.
    Fetched {
        /// Its URL.
        url: String,
        /// Pages fetched so far.
        pages_fetched: usize,
        /// Pages expected in all (grows as links are found).
        pages_total: usize,
    },
    /// A URL gave nothing (the reason says why).
    Skipped {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// An OpenAPI/Swagger document was found.
    SpecFound {
        /// Its URL.
        url: String,
    },
}

/// A discovery that could not run at all (single pages failing are warnings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoverError {
    /// No start URL, or one that is not http(s).
    #[error("{0}")]
    BadInput(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// Nothing could be fetched.
    #[error("no page could be fetched: {0}")]
    NothingFetched(String),
}

/// The draft and what happened on the way.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The draft definition (checked with `waygate_core::model::check`).
    pub integration: IntegrationDef,
    /// Pages read.
    pub pages: usize,
    /// URLs of the OpenAPI/Swagger documents imported.
    pub specs: Vec<String>,
    /// Pages skipped, guesses made, limits hit.
    pub warnings: Vec<String>,
    /// Pages behind a login (401, 403 or a login form): paste their content instead.
    pub login_required: Vec<String>,
    /// What the page cache saw (all zero without a cache).
    pub cache: cache::CacheReport,
    /// Rate limits the docs state and the rate-limit headers they name; the
    /// strictest statement is the draft's `defaults.rateLimit`.
    pub rate_limits: rate::RateHints,
}

/// Crawls and extracts.
///
/// # Errors
/// [`DiscoverError`] when there is nothing to start from or nothing could be fetched;
/// problems with single pages are warnings in the result.
pub async fn discover(
    options: &DiscoverOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Discovery, DiscoverError> {
    if options.urls.is_empty() && options.pasted.is_empty() {
        return Err(DiscoverError::BadInput(
            "give at least one URL or pasted page".into(),
        ));
    }
    for u in options
        .urls
        .iter()
        .chain(options.pasted.iter().map(|p| &p.url))
    {
        if !matches!(u.scheme(), "http" | "https") {
            return Err(DiscoverError::BadInput(format!(
                "'{u}' is not an http(s) URL"
            )));
        }
    }
    progress(Progress::Stage("crawling"));
    let mut facts: Vec<PageFacts> = Vec::new();
    let mut title: Option<String> = None;
    let mut truncated = Vec::new();
    let mut for_llm: Vec<(Url, text::Doc)> = Vec::new();
    let crawl = crawl::crawl(options, progress, |page| {
        let doc = match page.kind {
            crawl::Kind::Markdown => text::from_markdown(&page.body),
            _ => text::from_html(&page.body),
        };
        if doc.truncated {
            truncated.push(page.url.to_string());
        }
        if title.is_none() {
            title.clone_from(&doc.title);
        }
        facts.push(extract::page(&doc, &page.url));
        if options.llm.is_some() {
            for_llm.push((page.url.clone(), doc.clone()));
        }
        let resolve = |href: &str| page.url.join(href).ok();
        let links = doc
            .links
            .iter()
            .filter_map(|l| resolve(&l.href).map(|u| (u, l.text.clone())))
            .collect();
        let specs = doc.spec_links.iter().filter_map(|h| resolve(h)).collect();
        (links, specs)
    })
    .await?;
    progress(Progress::Stage("extracting"));
    let mut warnings = crawl.warnings;
    for url in truncated {
        warnings.push(format!("{url}: page cut at the parsing limits"));
    }
    if crawl.pages.is_empty() && crawl.specs.is_empty() {
        let why = warnings
            .first()
            .cloned()
            .unwrap_or_else(|| "no reachable page".into());
        return Err(DiscoverError::NothingFetched(why));
    }
    // Chunks the LLM may still be asked about; the wishlist's question is one.
    let mut llm_budget = options.llm_max_chunks;
    if let Some(model) = &options.llm {
        progress(Progress::Stage("llm"));
        let found = with_llm(
            model.as_ref(),
            &for_llm,
            &mut llm_budget,
            options.llm_max_chunks,
            &mut warnings,
        )
        .await;
        facts.extend(found);
    }

    // Specs first: an imported spec's actions are the draft's backbone.
    let import_options = ImportOptions {
        wishlist: Vec::new(),
        ..Default::default()
    };
    let mut spec_def: Option<IntegrationDef> = None;
    let mut specs = Vec::new();
    for doc in &crawl.specs {
        match import::from_source(&doc.body, &doc.url, &NoLoader, &import_options) {
            Ok(result) => {
                specs.push(doc.url.to_string());
                let mut def = result.integration;
                for a in &mut def.actions {
                    a.metadata.insert("confidence".into(), json!(1.0));
                    a.metadata
                        .insert("sourceUrl".into(), json!(doc.url.to_string()));
                }
                for w in result.warnings {
                    warnings.push(format!("{}: {w}", doc.url));
                }
                match &mut spec_def {
                    None => spec_def = Some(def),
                    Some(existing) => existing.actions.extend(def.actions),
                }
            }
            Err(e) => warnings.push(format!("{}: not imported: {e}", doc.url)),
        }
    }

    let host = options
        .urls
        .iter()
        .chain(options.pasted.iter().map(|p| &p.url))
        .next()
        .and_then(Url::host_str)
        .unwrap_or("api")
        .to_owned();
    let mut def = draft(
        &facts,
        title.as_deref().unwrap_or(&host),
        &host,
        &mut warnings,
    );
    if let Some(spec) = spec_def {
        let known: std::collections::HashSet<(String, String)> = spec
            .actions
            .iter()
            .map(|a| (a.method.clone(), shape(&a.path)))
            .collect();
        let extra: Vec<ActionDef> = def
            .actions
            .into_iter()
            .filter(|a| !known.contains(&(a.method.clone(), shape(&a.path))))
            .collect();
        let mut merged = spec;
        let mut slugs: std::collections::HashSet<String> =
            merged.actions.iter().map(|a| a.slug.clone()).collect();
        for mut a in extra {
            a.slug = unique(&a.slug, &mut slugs);
            merged.actions.push(a);
        }
        def = merged;
    }
    let mut rate_limits = rate::RateHints::default();
    for f in &facts {
        rate_limits
            .statements
            .extend(f.rate.statements.iter().cloned());
        rate_limits.headers.extend(f.rate.headers.iter().cloned());
    }
    if def.defaults.rate_limit.is_none()
        && let Some((config, from)) = rate::strictest(&rate_limits.statements)
    {
        warnings.push(format!(
            "defaults.rateLimit set from the docs: {} requests per {} s ({})",
            from.requests, from.window_secs, from.source_url
        ));
        def.defaults.rate_limit = Some(config);
    }
    let wish_model = match &options.llm {
        Some(model) if llm_budget > 0 => Some(model.as_ref()),
        Some(_) if !options.wishlist.is_empty() => {
            warnings.push(format!(
                "the LLM's budget of {} chunks is spent: the wishlist was matched by words only",
                options.llm_max_chunks
            ));
            None
        }
        _ => None,
    };
    wish::rank(
        &options.wishlist,
        &mut def.actions,
        wish_model,
        &mut warnings,
    )
    .await;
    if let Err(e) = waygate_core::model::check(&def) {
        // The builder only emits what check accepts; should a page defeat it, the
        // offending actions are dropped rather than the whole draft.
        let bad: std::collections::HashSet<usize> = e
            .problems
            .iter()
            .filter_map(|p| {
                p.field
                    .strip_prefix("actions[")?
                    .split(']')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        warnings.push(format!(
            "dropped {} actions that did not check: {e}",
            bad.len()
        ));
        let mut i = 0;
        def.actions.retain(|_| {
            i += 1;
            !bad.contains(&(i - 1))
        });
    }
    progress(Progress::Stage("done"));
    Ok(Discovery {
        integration: def,
        pages: crawl.pages.len(),
        specs,
        warnings,
        login_required: crawl.login,
        cache: crawl.cache,
        rate_limits,
    })
}

/// Runs the LLM over the pages' chunks (within the chunk budget). Its findings are
/// one more source for the draft builder: where it agrees with the heuristics the
/// action's confidence rises; a failing chunk is a warning, never a failed discovery.
async fn with_llm(
    model: &dyn llm::LlmProvider,
    pages: &[(Url, text::Doc)],
    budget: &mut usize,
    max_chunks: usize,
    warnings: &mut Vec<String>,
) -> Vec<PageFacts> {
    let mut out = Vec::new();
    let mut failures = 0usize;
    for (url, doc) in pages {
        if *budget == 0 {
            warnings.push(format!(
                "the LLM's budget of {max_chunks} chunks is spent: later pages used heuristics only"
            ));
            break;
        }
        let parts = llm::chunks(doc, *budget);
        *budget -= parts.len();
        let mut facts = PageFacts::default();
        for part in parts {
            match model.extract(url.as_str(), &part).await {
                Ok(actions) => {
                    for a in actions {
                        let mut base = BTreeMap::new();
                        let Some(path) = extract::endpoint_path(&a.path, &mut base) else {
                            continue;
                        };
                        // Small models echo the page's own URL or invent paths:
                        // keep only paths whose literal segments the chunk contains.
                        if !grounded(&path, &part) || path == url.path() {
                            continue;
                        }
                        let method = a.method.to_ascii_uppercase();
                        if !matches!(
                            method.as_str(),
                            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
                        ) {
                            continue;
                        }
                        let params = a
                            .parameters
                            .iter()
                            .filter_map(|p| {
                                let location = match p.location.as_str() {
                                    "path" => "path",
                                    "query" => "query",
                                    "header" => "header",
                                    "body" => "body",
                                    _ => return None,
                                };
                                let name = extract::placeholder_name(&p.name);
                                (!name.is_empty()).then_some(extract::ParamDoc {
                                    name,
                                    location,
                                    required: p.required,
                                    kind: None,
                                    description: None,
                                })
                            })
                            .filter(|p| {
                                p.location != "path" || path.contains(&format!("{{{}}}", p.name))
                            })
                            .collect();
                        facts.endpoints.push(Endpoint {
                            method,
                            path,
                            strength: Strength::Strong,
                            confidence: 0.6,
                            source_url: url.to_string(),
                            name: (!a.summary.is_empty()).then(|| a.summary.clone()),
                            description: None,
                            params,
                            extracted_by: "llm",
                        });
                    }
                }
                Err(e) => {
                    failures += 1;
                    if failures <= 3 {
                        warnings.push(format!("{url}: {e}; heuristics used for this part"));
                    }
                }
            }
        }
        out.push(facts);
    }
    if failures > 3 {
        warnings.push(format!("{failures} LLM requests failed in all"));
    }
    out
}

/// Whether every literal segment of `path` occurs in `text`.
fn grounded(path: &str, text: &str) -> bool {
    let literals: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && !s.contains('{'))
        .collect();
    (!literals.is_empty() || path.contains('{')) && literals.iter().all(|l| text.contains(l))
}

/// A path with every placeholder made anonymous, for comparing endpoints.
pub(crate) fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

fn unique(slug: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let mut candidate = slug.to_owned();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{slug}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Endpoints from every page → one draft. Strong declarations win; weak ones (usage
/// examples) only count where the site declares nothing strongly, or where they
/// confirm a strong one (raising its confidence).
fn draft(
    facts: &[PageFacts],
    title: &str,
    host: &str,
    warnings: &mut Vec<String>,
) -> IntegrationDef {
    let all: Vec<&Endpoint> = facts.iter().flat_map(|f| &f.endpoints).collect();
    let any_strong = all.iter().any(|e| e.strength == Strength::Strong);
    let mut promoted: BTreeMap<(String, String), (Endpoint, usize)> = BTreeMap::new();
    // Key: (method, shape) → the best endpoint and how many times it was seen.
    let mut merged: BTreeMap<(String, String), (Endpoint, usize)> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for e in all
        .iter()
        .filter(|e| e.strength == Strength::Strong || !any_strong)
    {
        let key = (e.method.clone(), shape(&e.path));
        match merged.get_mut(&key) {
            Some((best, seen)) => {
                *seen += 1;
                let mut extra = if e.confidence > best.confidence
                    || e.params.len() > best.params.len() && e.confidence >= best.confidence
                {
                    std::mem::replace(best, (*e).clone()).params
                } else {
                    e.params.clone()
                };
                // Sources complete each other: parameters one names and the other
                // does not are kept (path ones only where the template has them).
                extra.retain(|p| {
                    !best.params.iter().any(|b| b.name == p.name)
                        && (p.location != "path" || best.path.contains(&format!("{{{}}}", p.name)))
                });
                best.params.extend(extra);
                if best.extracted_by != e.extracted_by {
                    best.extracted_by = "heuristic+llm";
                }
                if best.description.is_none() {
                    best.description.clone_from(&e.description);
                }
            }
            None => {
                order.push(key.clone());
                merged.insert(key, ((*e).clone(), 1));
            }
        }
    }
    // An LLM-only finding that fills in a declared template (the model took an
    // example request for an endpoint) confirms that template instead.
    let llm_only: Vec<(String, String)> = merged
        .iter()
        .filter(|(_, (e, _))| e.extracted_by == "llm")
        .map(|(k, _)| k.clone())
        .collect();
    for key in llm_only {
        let Some((path, method)) = merged
            .get(&key)
            .map(|(e, _)| (e.path.clone(), e.method.clone()))
        else {
            continue;
        };
        let template = merged.iter_mut().find(|(k, (e, _))| {
            **k != key
                && e.method == method
                && e.extracted_by != "llm"
                && instantiates(&e.path, &path)
        });
        if let Some((_, (declared, _))) = template {
            declared.confidence = (declared.confidence + 0.05).min(0.95);
            declared.extracted_by = "heuristic+llm";
            merged.remove(&key);
            order.retain(|k| *k != key);
        }
    }
    if any_strong {
        let vocabulary = vocabulary(merged.values().map(|(e, _)| e.path.as_str()));
        let mut dropped = 0usize;
        for e in all.iter().filter(|e| e.strength == Strength::Weak) {
            // Examples that instantiate a declared template confirm it.
            let mut confirms = false;
            for ((method, _), (best, _)) in &mut merged {
                if *method == e.method && fills_in(&best.path, &e.path, &vocabulary) {
                    best.confidence = (best.confidence + 0.05).min(0.95);
                    confirms = true;
                }
            }
            if confirms {
                dropped += 1;
                continue;
            }
            // An example made only of the site's API words (`GET _cat/indices`
            // where `/_cat/indices/{index}` is declared) is an endpoint shown by
            // example; one naming the reader's own things (`/books/_search`) is not.
            let key = (e.method.clone(), shape(&e.path));
            if let Some((_, seen)) = promoted.get_mut(&key) {
                *seen += 1;
            } else if api_words_only(&e.path, &vocabulary) {
                let mut found = (*e).clone();
                found.confidence = 0.5;
                promoted.insert(key, (found, 1));
            } else {
                dropped += 1;
            }
        }
        for (key, found) in promoted {
            order.push(key.clone());
            merged.insert(key, found);
        }
        if dropped > 0 {
            warnings.push(format!(
                "{dropped} example requests were not taken as endpoints: the site declares its endpoints, and they fill in a declared template or name things of their own"
            ));
        }
    }
    let mut base: BTreeMap<&str, usize> = BTreeMap::new();
    for f in facts {
        for (u, n) in &f.base_urls {
            *base.entry(u.as_str()).or_default() += n;
        }
    }
    let base_url = base
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(u, _)| (*u).to_owned());
    let mut def = IntegrationDef::new(integration_slug(host), title.to_owned());
    def.base_url = base_url;
    if def.base_url.is_none() {
        warnings.push("no base URL found in the examples: set baseUrl before use".into());
    }
    def.auth = auth(facts);
    let mut slugs = std::collections::HashSet::new();
    for key in order {
        let Some((e, seen)) = merged.remove(&key) else {
            continue;
        };
        let slug = unique(&action_slug(&e.method, &e.path), &mut slugs);
        let mut a = ActionDef::new(slug, e.method.clone(), e.path.clone());
        a.name = e.name.clone();
        a.description = e.description.clone();
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for p in &e.params {
            let location = match p.location {
                "path" => Some(ParamLocation::Path),
                "query" => Some(ParamLocation::Query),
                "header" => Some(ParamLocation::Header),
                _ => None,
            };
            if let Some(location) = location {
                if location == ParamLocation::Header
                    && reqwest::header::HeaderName::from_bytes(p.name.as_bytes()).is_err()
                {
                    continue;
                }
                let mut param = Parameter::new(p.name.clone(), location);
                param.required = p.required || location == ParamLocation::Path;
                a.parameters.push(param);
            }
            let mut schema = serde_json::Map::new();
            // Untyped parameters travel as text; an untyped body field may be anything.
            match (p.kind, p.location) {
                (Some(kind), _) => {
                    schema.insert("type".into(), json!(kind));
                }
                (None, "body") => {}
                (None, _) => {
                    schema.insert("type".into(), json!("string"));
                }
            }
            if let Some(d) = &p.description {
                schema.insert("description".into(), json!(d));
            }
            properties.insert(p.name.clone(), Value::Object(schema));
            if p.required || p.location == "path" {
                required.push(json!(p.name));
            }
        }
        let mut input = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            input["required"] = Value::Array(required);
        }
        a.input_schema = input;
        let confidence = (e.confidence + if seen > 1 { 0.05 } else { 0.0 }).min(0.95);
        a.metadata.insert(
            "confidence".into(),
            json!((confidence * 100.0).round() / 100.0),
        );
        a.metadata.insert("sourceUrl".into(), json!(e.source_url));
        a.metadata
            .insert("extractedBy".into(), json!(e.extracted_by));
        def.actions.push(a);
    }
    def
}

/// The literal segments of declared templates (paths with a placeholder): the
/// API's own words. Concrete declarations are left out, so that an example
/// a page presents as a declaration does not make its names API words.
fn vocabulary<'a>(paths: impl Iterator<Item = &'a str>) -> std::collections::HashSet<String> {
    paths
        .filter(|p| p.contains('{'))
        .flat_map(|p| p.split('/'))
        .filter(|s| !s.is_empty() && !s.contains('{'))
        .map(str::to_owned)
        .collect()
}

/// Whether `path` has literal segments and every one is in `vocabulary`.
fn api_words_only(path: &str, vocabulary: &std::collections::HashSet<String>) -> bool {
    let mut literals = path
        .split('/')
        .filter(|s| !s.is_empty() && !s.contains('{'))
        .peekable();
    literals.peek().is_some() && literals.all(|s| vocabulary.contains(s))
}

/// Whether the example `path` fills in the `template`'s placeholders with values
/// rather than with the API's own words (`PUT _bulk` does not fill in `PUT /{index}`).
fn fills_in(template: &str, path: &str, vocabulary: &std::collections::HashSet<String>) -> bool {
    instantiates(template, path)
        && template
            .split('/')
            .zip(path.split('/'))
            .all(|(t, p)| !t.starts_with('{') || t == p || !vocabulary.contains(p))
}

/// Whether the concrete `path` fills in the `template`'s placeholders.
fn instantiates(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}') && !b.is_empty()))
}

fn auth(facts: &[PageFacts]) -> AuthSpec {
    let mut hints = extract::AuthHints::default();
    for f in facts {
        let h = &f.auth;
        hints.bearer += h.bearer;
        hints.basic += h.basic;
        hints.oauth += h.oauth;
        hints.token_prefix += h.token_prefix;
        for (k, v) in &h.api_key_headers {
            *hints.api_key_headers.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &h.authorize_urls {
            *hints.authorize_urls.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &h.token_urls {
            *hints.token_urls.entry(k.clone()).or_default() += v;
        }
    }
    let most =
        |m: &BTreeMap<String, usize>| m.iter().max_by_key(|(_, n)| **n).map(|(k, _)| k.clone());
    if hints.oauth > 0 && (!hints.authorize_urls.is_empty() || !hints.token_urls.is_empty()) {
        let authorization_url = most(&hints.authorize_urls);
        let token_url = most(&hints.token_urls);
        let mut flows = Vec::new();
        if authorization_url.is_some() {
            flows.push(OAuth2Flow::AuthorizationCode);
        }
        if flows.is_empty() {
            flows.push(OAuth2Flow::ClientCredentials);
        }
        return AuthSpec::Oauth2 {
            flows,
            authorization_url,
            token_url,
            refresh_url: None,
            scopes: Vec::new(),
            pkce: true,
        };
    }
    let key_count: usize = hints.api_key_headers.values().sum();
    let best = [
        (hints.bearer, 3),
        (key_count, 2),
        (hints.token_prefix, 1),
        (hints.basic, 0),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .max();
    match best.map(|(_, kind)| kind) {
        Some(3) => AuthSpec::Bearer,
        Some(2) => AuthSpec::ApiKey {
            location: ApiKeyLocation::Header,
            name: most(&hints.api_key_headers).unwrap_or_else(|| "X-API-Key".into()),
            prefix: None,
        },
        Some(1) => AuthSpec::ApiKey {
            location: ApiKeyLocation::Header,
            name: "Authorization".into(),
            prefix: Some("Token ".into()),
        },
        Some(_) => AuthSpec::Basic,
        None => AuthSpec::None,
    }
}

/// `[a-z0-9-]`, at most 64 characters.
fn integration_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim_start_matches("www.").chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(64).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() { "api".into() } else { slug }
}

/// `GET /users/{id}` → `get_users_id`.
fn action_slug(method: &str, path: &str) -> String {
    let mut slug = method.to_ascii_lowercase();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_end_matches('_').chars().take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider answering from a table, or failing, without a network.
    struct Canned(Result<Vec<llm::LlmAction>, llm::LlmError>);

    #[async_trait::async_trait]
    impl llm::LlmProvider for Canned {
        fn name(&self) -> &str {
            "canned"
        }
        async fn ask(&self, _: &llm::Task) -> Result<Value, llm::LlmError> {
            Err(llm::LlmError {
                provider: "canned".into(),
                message: "only extraction is canned".into(),
            })
        }
        async fn extract(&self, _: &str, _: &str) -> Result<Vec<llm::LlmAction>, llm::LlmError> {
            self.0.clone()
        }
    }

    async fn site() -> Url {
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(|| async {
                axum::response::Html("<h1>Users</h1><p>GET /users/{id}</p><pre>GET /users/42\n{}</pre><h2>Create</h2><p>Creates a user in the account.</p>")
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Url::parse(&format!("http://{addr}/")).unwrap()
    }

    #[tokio::test]
    async fn llm_findings_merge_and_failures_degrade_to_heuristics() {
        let url = site().await;
        let mut options = DiscoverOptions::new(vec![url]);
        options.policy = UrlPolicy::strict().allow_loopback();
        options.find_specs = false;
        options.llm = Some(Arc::new(Canned(Ok(vec![
            llm::LlmAction {
                method: "get".into(),
                path: "/users/:id".into(),
                summary: "Get a user".into(),
                parameters: vec![llm::LlmParameter {
                    name: "fields".into(),
                    location: "query".into(),
                    required: false,
                }],
            },
            llm::LlmAction {
                method: "GET".into(),
                path: "/users/42".into(),
                summary: "An example request".into(),
                parameters: vec![],
            },
            llm::LlmAction {
                method: "DELETE".into(),
                path: "/invented/things".into(),
                summary: "Not on the page".into(),
                parameters: vec![],
            },
            llm::LlmAction {
                method: "POST".into(),
                path: "/users".into(),
                summary: "Create a user".into(),
                parameters: vec![],
            },
        ]))));
        let found = discover(&options, &|_| {}).await.unwrap();
        let get = found
            .integration
            .actions
            .iter()
            .find(|a| a.method == "GET")
            .unwrap();
        assert_eq!(get.path, "/users/{id}");
        // Agreement raised the heuristic's 0.9; the LLM added a query parameter.
        assert_eq!(get.metadata["confidence"], json!(0.95));
        assert!(get.parameters.iter().any(|p| p.name == "fields"));
        let post = found
            .integration
            .actions
            .iter()
            .find(|a| a.method == "POST")
            .unwrap();
        assert_eq!(post.metadata["confidence"], json!(0.6));
        assert_eq!(post.metadata["extractedBy"], json!("llm"));
        assert_eq!(get.metadata["extractedBy"], json!("heuristic+llm"));
        // A path the page does not contain is the model's invention.
        assert!(
            !found
                .integration
                .actions
                .iter()
                .any(|a| a.method == "DELETE")
        );

        options.llm = Some(Arc::new(Canned(Err(llm::LlmError {
            provider: "canned".into(),
            message: "HTTP 503".into(),
        }))));
        let found = discover(&options, &|_| {}).await.unwrap();
        assert_eq!(found.integration.actions.len(), 1);
        assert!(
            found
                .warnings
                .iter()
                .any(|w| w.contains("HTTP 503; heuristics used")),
            "{:?}",
            found.warnings
        );
    }

    /// A page cache in memory.
    #[derive(Default)]
    struct MemoryCache(std::sync::Mutex<BTreeMap<String, cache::CachedPage>>);

    #[async_trait::async_trait]
    impl cache::PageCache for MemoryCache {
        async fn get(&self, url: &str) -> Option<cache::CachedPage> {
            self.0.lock().unwrap().get(url).cloned()
        }
        async fn put(&self, page: cache::CachedPage) {
            self.0.lock().unwrap().insert(page.url.clone(), page);
        }
    }

    /// `/` links three pages: `/etag` honours `If-None-Match`, `/plain` has no
    /// validators, `/moving` changes on every fetch; `/private` answers 401.
    async fn cached_site() -> (Url, Arc<std::sync::atomic::AtomicUsize>) {
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::{Html, IntoResponse};
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = served.clone();
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async {
                Html(r#"<a href="/etag">a</a> <a href="/plain">b</a> <a href="/moving">c</a> <a href="/private">d</a>"#)
            }))
            .route("/etag", axum::routing::get(move |h: HeaderMap| {
                let count = count.clone();
                async move {
                    if h.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                        return StatusCode::NOT_MODIFIED.into_response();
                    }
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    ([(header::ETAG, "\"v1\"")], Html("<h2>List users</h2><p>GET /users</p>")).into_response()
                }
            }))
            .route("/plain", axum::routing::get(|| async { Html("<h2>Get team</h2><p>GET /teams/{id}</p>") }))
            .route("/moving", axum::routing::get(|| async {
                Html(format!("<p>{:?}</p>", std::time::SystemTime::now()))
            }))
            .route("/private", axum::routing::get(|| async { StatusCode::UNAUTHORIZED }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (Url::parse(&format!("http://{addr}/")).unwrap(), served)
    }

    #[tokio::test]
    async fn a_recrawl_asks_conditionally_and_counts_what_changed() {
        let (url, served) = cached_site().await;
        let mut options = DiscoverOptions::new(vec![url.clone()]);
        options.policy = UrlPolicy::strict().allow_loopback();
        options.find_specs = false;
        options.per_host_delay = Duration::ZERO;
        options.cache = Some(Arc::new(MemoryCache::default()));
        let first = discover(&options, &|_| {}).await.unwrap();
        assert_eq!(first.cache.new, 4, "{:?}", first.cache);
        assert_eq!(
            first.login_required,
            [url.join("/private").unwrap().to_string()]
        );
        let second = discover(&options, &|_| {}).await.unwrap();
        assert_eq!(
            second.cache,
            cache::CacheReport {
                new: 0,
                changed: 1,
                not_modified: 1,
                same_hash: 2,
                reused: 0,
            }
        );
        // The 304 page's endpoint is still in the draft, from the cached content.
        assert!(
            second
                .integration
                .actions
                .iter()
                .any(|a| a.path == "/users")
        );
        assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1);

        // Pasted content stands in for the page behind the login.
        options.cache = None;
        options.pasted = vec![Pasted {
            url: url.join("/private").unwrap(),
            content: "<h2>Delete a user</h2><p>DELETE /users/{id}</p>".into(),
            kind: crawl::Kind::Html,
        }];
        let pasted = discover(&options, &|_| {}).await.unwrap();
        assert!(
            pasted.login_required.is_empty(),
            "{:?}",
            pasted.login_required
        );
        assert!(
            pasted
                .integration
                .actions
                .iter()
                .any(|a| a.method == "DELETE")
        );
    }

    #[test]
    fn examples_in_the_apis_own_words_become_endpoints() {
        // The site declares templates; its examples name either the API's own
        // words (`GET /spaces` where `/spaces/{space}` is declared, `POST /search`
        // beside `POST /{space}/search`) or the reader's things.
        let page = text::from_markdown(
            "# Spaces\n\n## Endpoints\n\n```\nGET /spaces/{space}\nPUT /{space}\nPOST /{space}/search\n```\n\n## Examples\n\n```\nGET /spaces\n```\n\n```\nPUT /search\n{}\n```\n\n```\nPUT /gardening\n{}\n```\n\n```\nGET /spaces/my-notes\n```\n\n```\nPOST /gardening/search\n{\"q\": \"tomatoes\"}\n```\n\n```\nGET /gardening/tomatoes\n```\n",
        );
        let facts = vec![extract::page(
            &page,
            &Url::parse("http://docs.test/").unwrap(),
        )];
        let mut warnings = Vec::new();
        let def = draft(&facts, "Spaces", "docs.test", &mut warnings);
        let found: Vec<(String, String, f64)> = def
            .actions
            .iter()
            .map(|a| {
                (
                    a.method.clone(),
                    a.path.clone(),
                    a.metadata["confidence"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("GET".into(), "/spaces/{space}".into(), 0.95),
                ("PUT".into(), "/{space}".into(), 0.95),
                ("POST".into(), "/{space}/search".into(), 0.95),
                ("GET".into(), "/spaces".into(), 0.5),
                ("PUT".into(), "/search".into(), 0.5),
            ]
        );
        assert!(
            warnings.iter().any(|w| w.starts_with("4 example requests")),
            "{warnings:?}"
        );
    }

    #[test]
    fn slugs_and_shapes() {
        assert_eq!(action_slug("GET", "/users/{id}"), "get_users_id");
        assert_eq!(integration_slug("www.Docs.Example.com"), "docs-example-com");
        assert_eq!(shape("/a/{x}/b/{y}"), "/a/{}/b/{}");
        assert!(instantiates("/users/{id}", "/users/42"));
        assert!(!instantiates("/users/{id}", "/users/42/posts"));
    }
}
