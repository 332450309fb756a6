//! Heuristic extraction (no LLM): endpoint declarations, parameters, auth and base
//! URLs from a page's structured text.
//!
//! # Where declarations are found
//! - a heading, paragraph, list item or "route badge" whose whole text is
//!   `METHOD /path` (badges render as a paragraph: `GET` next to a code path);
//! - code blocks: lines `METHOD path [HTTP/1.1]`, and `curl` commands;
//! - tables with a method cell and a path cell in the same row.
//!
//! A declaration is *strong* when the page presents it as one (a badge, a heading,
//! a table row, or a code block under a heading about endpoints, paths, methods,
//! routes or syntax, or a body-less block of `METHOD path` lines with placeholders),
//! *weak* when it is a usage example (under an "example"/"sample"/"response" heading,
//! with a request body, or a `curl` command). [`merge`] keeps weak ones only where
//! the site declares nothing strongly (see decision 56).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::text::{Block, Doc};

/// HTTP methods a declaration may name.
const METHODS: &str = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS";

/// How a declaration was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// A usage example (request with a body, curl command, "example" section).
    Weak,
    /// Presented as the endpoint's declaration.
    Strong,
}

/// A documented parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDoc {
    /// Its name, normalised like placeholders.
    pub name: String,
    /// `path`, `query`, `header` or `body`.
    pub location: &'static str,
    /// Whether the docs call it required.
    pub required: bool,
    /// A JSON Schema type when the docs give a recognisable one.
    pub kind: Option<&'static str>,
    /// Its description.
    pub description: Option<String>,
}

/// One endpoint found on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Upper-case method.
    pub method: String,
    /// Path template with `{name}` placeholders, no query.
    pub path: String,
    /// Strong or weak (see the module docs).
    pub strength: Strength,
    /// 0..1.
    pub confidence: f64,
    /// The page it was found on.
    pub source_url: String,
    /// Nearest specific heading (or the page title).
    pub name: Option<String>,
    /// The paragraph that follows that heading.
    pub description: Option<String>,
    /// Parameters documented on the page (placeholders first).
    pub params: Vec<ParamDoc>,
    /// `heuristic`, `llm`, or `heuristic+llm` once merged.
    pub extracted_by: &'static str,
}

/// Auth evidence found in a page's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthHints {
    /// `Authorization: Bearer`, "bearer token".
    pub bearer: usize,
    /// `Authorization: Basic`, `curl -u`, "basic auth".
    pub basic: usize,
    /// API-key header names seen (`X-API-Key`), with counts.
    pub api_key_headers: BTreeMap<String, usize>,
    /// `Authorization: Token …`-style prefixes seen for a key.
    pub token_prefix: usize,
    /// OAuth2 authorize URLs.
    pub authorize_urls: BTreeMap<String, usize>,
    /// OAuth2 token URLs.
    pub token_urls: BTreeMap<String, usize>,
    /// Mentions of OAuth.
    pub oauth: usize,
}

/// What a page yielded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageFacts {
    /// Endpoint declarations, in page order.
    pub endpoints: Vec<Endpoint>,
    /// Auth evidence.
    pub auth: AuthHints,
    /// Origins (with any path prefix) of full request URLs in examples, with counts.
    pub base_urls: BTreeMap<String, usize>,
    /// Rate limits stated and rate-limit headers named.
    pub rate: crate::rate::RateHints,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("bad built-in pattern: {e}"))
}

/// `METHOD target [HTTP/x]` as the whole text.
static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^(?i:({METHODS}))\s+(\S+)(?:\s+HTTP/\d(?:\.\d)?)?\s*$"
    ))
});
/// `METHOD /path` inside running text (upper-case method, path starting with `/` or a URL).
static INLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?:^|[\s(`])({METHODS})\s+((?:https?://[^\s`'()]+)|/[^\s`'(),]*)"
    ))
});
static CURL_URL: LazyLock<Regex> = LazyLock::new(|| re(r#"['"]?(https?://[^\s'"\\]+)['"]?"#));
static CURL_METHOD: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?:-X|--request)\s*['\x22]?({METHODS})\b")));
static HEADER: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)(?:-H|--header)\s*['"]?([A-Za-z0-9-]+)\s*:\s*([^'"\n]*)"#));
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)authorization:\s*bearer\b|\bbearer\s+(?:token|auth)"));
static BASIC: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i)authorization:\s*basic\b|\bbasic\s+auth|\bcurl\b[^\n]*\s(?:-u|--user)\s"#)
});
static OAUTH_URL: LazyLock<Regex> = LazyLock::new(|| re(r#"https?://[^\s'"<>)`]+"#));
static DECLARATION_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(endpoints?|paths?|routes?|http\s+methods?|methods?|syntax|request\s+(?:line|url|format)|url|definition|resource\s+url)\b|^\s*(?:http\s+)?request\s*$",
    )
});
/// A heading that is only "Request" / "HTTP request": the section shows the call.
static REQUEST_HEADING: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^\s*(?:http\s+)?request\s*$"));
static EXAMPLE_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(examples?|samples?|response|responses|tutorial|try|demo|output|quick\s*start|getting\s+started|step)\b",
    )
});
static PARAM_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^([A-Za-z_][\w.\-\[\]]{0,63})\s*(?:\(([^)]{0,80})\))?\s*[:\-–—]\s+(.+)$")
});

/// Runs the heuristics over one page.
pub fn page(doc: &Doc, url: &Url) -> PageFacts {
    let mut facts = PageFacts::default();
    let source = url.to_string();
    // The current heading stack: (level, text).
    let mut headings: Vec<(u8, String)> = Vec::new();
    let title = doc.title.clone();
    let mut page_params: Vec<ParamDoc> = Vec::new();
    let mut first_paragraph: Option<String> = None;
    let mut section_paragraph: Option<String> = None;
    for block in &doc.blocks {
        let section = headings.last().map(|(_, t)| t.as_str()).unwrap_or("");
        let name = specific_heading(&headings).or_else(|| title.clone());
        let description = section_paragraph
            .clone()
            .or_else(|| first_paragraph.clone());
        let mut push = |facts: &mut PageFacts, method: &str, target: &str, strength, conf| {
            if let Some(path) = endpoint_path(target, &mut facts.base_urls) {
                // A path naming a concrete record (`/_doc/1`, `/customers/cus_4fQ…`)
                // is an example of an endpoint, however it is presented.
                // A target written with placeholders is a template, wherever it
                // stands (prose, a curl command, beside a body): nobody sends
                // `<role>` or `{id}` literally, so it declares the endpoint.
                let (strength, conf) = if has_value_segment(&path) {
                    (Strength::Weak, f64::min(conf, 0.4))
                } else if has_placeholder(target) {
                    (Strength::Strong, f64::max(conf, 0.6))
                } else {
                    (strength, conf)
                };
                facts.endpoints.push(Endpoint {
                    method: method.to_ascii_uppercase(),
                    path,
                    strength,
                    confidence: conf,
                    source_url: source.clone(),
                    name: name.clone(),
                    description: description.clone(),
                    params: Vec::new(),
                    extracted_by: "heuristic",
                });
            }
        };
        match block {
            Block::Heading { level, text } => {
                while headings.last().is_some_and(|(l, _)| l >= level) {
                    headings.pop();
                }
                headings.push((*level, text.clone()));
                section_paragraph = None;
                if let Some(m) = DECLARATION.captures(text)
                    && declared_in_text(&m[1], &m[2])
                {
                    push(&mut facts, &m[1], &m[2], Strength::Strong, 0.9);
                }
            }
            Block::Paragraph(text) | Block::Item(text) => {
                if let Some(m) = DECLARATION.captures(text)
                    && declared_in_text(&m[1], &m[2])
                {
                    push(&mut facts, &m[1], &m[2], Strength::Strong, 0.9);
                } else {
                    for m in INLINE.captures_iter(text) {
                        push(&mut facts, &m[1], &m[2], Strength::Weak, 0.4);
                    }
                    if matches!(block, Block::Paragraph(_)) && prose(text) {
                        let p = limit(text, 500);
                        if first_paragraph.is_none() {
                            first_paragraph = Some(p.clone());
                        }
                        if section_paragraph.is_none() {
                            section_paragraph = Some(p);
                        }
                    }
                }
                auth_hints(text, &mut facts.auth);
                crate::rate::scan(text, &source, &mut facts.rate);
                if let Block::Item(item) = block
                    && let Some(location) = param_section(&headings)
                    && let Some(p) = param_item(item, location)
                {
                    page_params.push(p);
                }
            }
            Block::Code(code) => {
                code_block(code, section, &mut facts, &mut push);
                auth_hints(code, &mut facts.auth);
                crate::rate::scan(code, &source, &mut facts.rate);
            }
            Block::Table(rows) => {
                table_rows(rows, &mut facts, &mut push);
                for row in rows {
                    crate::rate::scan(&row.join(" "), &source, &mut facts.rate);
                }
                if let Some(location) = param_section(&headings) {
                    page_params.extend(param_table(rows, location));
                } else if let Some(location) = param_table_kind(rows) {
                    page_params.extend(param_table(rows, location));
                }
            }
        }
    }
    attach_params(&mut facts.endpoints, &page_params);
    facts
}

/// Whether a paragraph reads as a sentence (not a label, badge or fragment).
fn prose(text: &str) -> bool {
    text.split_whitespace().count() >= 5
        && !text.contains("{:")
        && (text.ends_with('.') || text.ends_with(':') || text.contains(". "))
}

/// The innermost heading that names something (not "Endpoints", "Example", …).
fn specific_heading(headings: &[(u8, String)]) -> Option<String> {
    headings
        .iter()
        .rev()
        .map(|(_, t)| t)
        .find(|t| {
            !DECLARATION_HEADING.is_match(t)
                && !EXAMPLE_HEADING.is_match(t)
                && !t.to_ascii_lowercase().contains("parameter")
                && DECLARATION.captures(t).is_none()
        })
        .cloned()
}

fn code_block(
    code: &str,
    section: &str,
    facts: &mut PageFacts,
    push: &mut impl FnMut(&mut PageFacts, &str, &str, Strength, f64),
) {
    let lines: Vec<&str> = code
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .collect();
    let declared: Vec<(String, String)> = lines
        .iter()
        .filter_map(|l| DECLARATION.captures(l))
        .filter(|m| looks_like_path(&m[2]))
        .map(|m| (m[1].to_owned(), m[2].to_owned()))
        .collect();
    if !declared.is_empty() {
        let only_declarations = declared.len() == lines.len();
        let heading = DECLARATION_HEADING.is_match(section);
        // Under a heading that is only "Request" the request line may be followed
        // by its body's format; elsewhere a body makes the block an example.
        let block = if EXAMPLE_HEADING.is_match(section) && !heading {
            Strength::Weak
        } else if REQUEST_HEADING.is_match(section)
            || only_declarations && (heading || declared.iter().any(|(_, p)| has_placeholder(p)))
        {
            Strength::Strong
        } else {
            Strength::Weak
        };
        let confidence = match block {
            Strength::Strong if heading => 0.9,
            Strength::Strong => 0.7,
            Strength::Weak => 0.4,
        };
        for (method, target) in declared {
            push(facts, &method, &target, block, confidence);
        }
        return;
    }
    // curl commands, continuation lines joined.
    let joined = code.replace("\\\n", " ");
    for line in joined.lines() {
        let line = line.trim();
        if !line.starts_with("curl ") && !line.contains(" curl ") {
            continue;
        }
        let Some(url) = CURL_URL.captures(line) else {
            continue;
        };
        let method = CURL_METHOD.captures(line).map_or_else(
            || {
                if line.contains(" -d ") || line.contains(" --data") || line.contains(" -F ") {
                    "POST".to_owned()
                } else {
                    "GET".to_owned()
                }
            },
            |m| m[1].to_owned(),
        );
        push(facts, &method, &url[1], Strength::Weak, 0.5);
    }
}

fn table_rows(
    rows: &[Vec<String>],
    facts: &mut PageFacts,
    push: &mut impl FnMut(&mut PageFacts, &str, &str, Strength, f64),
) {
    static METHOD_CELL: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"^(?i:({METHODS}))$")));
    for row in rows {
        if let Some(m) = row.iter().find_map(|c| DECLARATION.captures(c)) {
            if looks_like_path(&m[2]) {
                push(facts, &m[1], &m[2], Strength::Strong, 0.8);
            }
            continue;
        }
        let method = row.iter().find_map(|c| METHOD_CELL.captures(c.trim()));
        let path = row
            .iter()
            .map(|c| c.trim())
            .find(|c| (c.starts_with('/') || c.starts_with("http")) && !c.contains(' '));
        if let (Some(m), Some(p)) = (method, path) {
            push(facts, &m[1], p, Strength::Strong, 0.8);
        }
    }
}

/// A heading or paragraph that is only `Method target`: "Delete user" is a title,
/// `DELETE /users/{id}` or `get /users` a declaration.
fn declared_in_text(method: &str, target: &str) -> bool {
    let t = target.trim_matches(|c| c == '"' || c == '\'' || c == '`');
    let upper = method.bytes().all(|b| b.is_ascii_uppercase());
    let lower = method.bytes().all(|b| b.is_ascii_lowercase());
    let slashed = t.starts_with('/') || t.starts_with("http://") || t.starts_with("https://");
    looks_like_path(t) && (slashed || (upper && t.contains('/'))) && (upper || lower)
}

fn looks_like_path(target: &str) -> bool {
    let t = target.trim_matches(|c| c == '"' || c == '\'' || c == '`');
    if t.starts_with("http://") || t.starts_with("https://") || t.starts_with('/') {
        return true;
    }
    // Relative forms (`users/{id}`, `_cat/indices`): path characters only, and a
    // slash or placeholder or underscore-led segment, so prose words do not count.
    t.len() > 1
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./{}<>:,*~$%=&?+".contains(c))
        && (t.contains('/') || t.starts_with('_') || has_placeholder(t))
}

/// Whether a literal segment of `path` is a value rather than a name: all digits
/// (`/orders/1042`), a UUID, or an opaque identifier (16 characters or more with
/// digits, and either both letter cases or only hexadecimal: `IJAXz4QBrmVplM4J`,
/// `cus_Nf8rFeUfNV2Hib`, `5f2b9c1e7a4d3b60`). API words are not like that.
fn has_value_segment(path: &str) -> bool {
    path.split(['/', ','])
        .filter(|s| !s.is_empty() && !s.contains('{'))
        .any(|s| {
            let digits = s.bytes().any(|b| b.is_ascii_digit());
            let upper = s.bytes().any(|b| b.is_ascii_uppercase());
            let lower = s.bytes().any(|b| b.is_ascii_lowercase());
            let hex = s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            s.bytes().all(|b| b.is_ascii_digit())
                || (s.len() >= 16
                    && digits
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                    && ((upper && lower) || (hex && (upper || lower))))
        })
}

fn has_placeholder(path: &str) -> bool {
    path.contains('{') || path.contains('<') || path.split('/').any(|s| s.starts_with(':'))
}

/// A declaration's target → a path template (`{name}` placeholders, no query), noting
/// the origin of full URLs as base URL evidence.
pub fn endpoint_path(target: &str, base_urls: &mut BTreeMap<String, usize>) -> Option<String> {
    let target = target.trim_matches(|c| c == '"' || c == '\'' || c == '`');
    let path = if target.starts_with("http://") || target.starts_with("https://") {
        // Placeholders in hosts/paths do not parse as URLs; split by hand.
        let rest = target.split_once("://")?.1;
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        if host.is_empty() || host.contains(['{', '<', '$']) {
            return None;
        }
        let scheme = target.split_once("://")?.0;
        *base_urls.entry(format!("{scheme}://{host}")).or_default() += 1;
        format!("/{path}")
    } else if target.starts_with('/') {
        target.to_owned()
    } else {
        format!("/{target}")
    };
    // `localhost:9200/_search`, `<host>:8080/v1/items`: a host and port written
    // without a scheme, not a path segment.
    let path = match path[1..].split_once('/') {
        Some((first, rest)) if host_and_port(first) => format!("/{rest}"),
        _ => path,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    normalise_path(path)
}

/// `name:port` (the name may be a placeholder).
fn host_and_port(segment: &str) -> bool {
    segment.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Placeholders in every common style → `{name}`: `{id}`, `:id`, `<id>`, `{channel.id}`,
/// `$ID`, `[id]`. Names keep letters, digits, `_` and `-`; other characters become `_`.
pub fn normalise_path(path: &str) -> Option<String> {
    if path.is_empty() || path.len() > 2048 {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    let mut names: Vec<String> = Vec::new();
    let mut chars = path.chars().peekable();
    let mut segment_start = true;
    while let Some(c) = chars.next() {
        let close = match c {
            '{' => Some('}'),
            '<' => Some('>'),
            '[' if segment_start => Some(']'),
            ':' if segment_start => None,
            '$' if segment_start => None,
            _ => {
                if c.is_whitespace() || c == '"' || c == '\'' || c == '`' {
                    return None;
                }
                out.push(c);
                segment_start = c == '/' || c == ',';
                continue;
            }
        };
        let mut raw = String::new();
        match close {
            Some(end) => {
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == end {
                        closed = true;
                        break;
                    }
                    raw.push(n);
                }
                if !closed {
                    return None;
                }
            }
            None => {
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' || n == '-' || n == '.' {
                        raw.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if raw.is_empty() {
                    out.push(c);
                    segment_start = false;
                    continue;
                }
            }
        }
        let mut name = placeholder_name(&raw);
        if name.is_empty() {
            name = "param".into();
        }
        let base = name.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name.clone());
        out.push('{');
        out.push_str(&name);
        out.push('}');
        segment_start = false;
    }
    // `/users/` and `/users` are one endpoint.
    while out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    Some(list_placeholders(&out))
}

/// A segment that is only placeholders joined by commas (`{index1},{index2}`,
/// `{id},{id_2},...`) takes a list of values: it is one placeholder, the first.
fn list_placeholders(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let parts: Vec<&str> = segment.split(',').collect();
            let list = parts.len() > 1
                && parts[0].starts_with('{')
                && parts.iter().all(|p| {
                    (p.starts_with('{') && p.ends_with('}') && p.matches('{').count() == 1)
                        || p.chars().all(|c| c == '.' || c == '…')
                });
            if list { parts[0] } else { segment }
        })
        .collect();
    segments.join("/")
}

/// A placeholder's or parameter's name in the one form both are compared in.
pub fn placeholder_name(raw: &str) -> String {
    let raw = raw
        .trim()
        .trim_matches(|c| matches!(c, '{' | '}' | '<' | '>' | ':' | '$' | '*'));
    let mut name = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    name.trim_matches('_').chars().take(64).collect()
}

fn limit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Which parameter location the current section is about, by its heading.
fn param_section(headings: &[(u8, String)]) -> Option<&'static str> {
    let (_, h) = headings.last()?;
    let h = h.to_ascii_lowercase();
    if !(h.contains("parameter")
        || h.contains("field")
        || h.contains("argument")
        || h.contains("header")
        || h.contains("body"))
    {
        return None;
    }
    Some(if h.contains("path") || h.contains("url param") {
        "path"
    } else if h.contains("query") {
        "query"
    } else if h.contains("header") {
        "header"
    } else if h.contains("body") || h.contains("field") || h.contains("request") {
        "body"
    } else {
        "query"
    })
}

/// A table that lists parameters without a telling heading: its header row says so.
fn param_table_kind(rows: &[Vec<String>]) -> Option<&'static str> {
    let header = rows.first()?;
    let first = header.first()?.to_ascii_lowercase();
    if !matches!(
        first.as_str(),
        "parameter" | "name" | "field" | "param" | "argument" | "property"
    ) {
        return None;
    }
    let location = header
        .iter()
        .any(|c| c.eq_ignore_ascii_case("in") || c.eq_ignore_ascii_case("location"));
    if location {
        Some("auto")
    } else {
        Some("query")
    }
}

fn param_table(rows: &[Vec<String>], location: &'static str) -> Vec<ParamDoc> {
    let Some(header) = rows.first() else {
        return Vec::new();
    };
    let lower: Vec<String> = header.iter().map(|c| c.to_ascii_lowercase()).collect();
    let col = |words: &[&str]| {
        lower
            .iter()
            .position(|h| words.iter().any(|w| h.contains(w)))
    };
    let (Some(name_col), true) = (
        col(&[
            "parameter",
            "name",
            "field",
            "param",
            "argument",
            "property",
        ])
        .or(Some(0)),
        rows.len() > 1,
    ) else {
        return Vec::new();
    };
    let type_col = col(&["type", "data type"]);
    let desc_col = col(&["description", "details", "meaning"]);
    let req_col = col(&["required", "optional"]);
    let in_col = lower.iter().position(|h| h == "in" || h == "location");
    rows[1..]
        .iter()
        .filter_map(|row| {
            let raw = row.get(name_col)?;
            let required_mark = raw.to_ascii_lowercase().contains("required");
            let raw = raw.split_whitespace().next()?;
            let name = placeholder_name(raw);
            if name.is_empty() || name.len() > 64 {
                return None;
            }
            let location = match (location, in_col.and_then(|c| row.get(c))) {
                ("auto", Some(l)) => match l.to_ascii_lowercase().as_str() {
                    "path" => "path",
                    "header" => "header",
                    "body" => "body",
                    _ => "query",
                },
                ("auto", None) => "query",
                (l, _) => l,
            };
            let kind = type_col.and_then(|c| row.get(c)).and_then(|t| json_type(t));
            let required = required_mark
                || req_col.and_then(|c| row.get(c)).is_some_and(|r| {
                    let r = r.to_ascii_lowercase();
                    r.starts_with("yes") || r.starts_with("true") || r.starts_with("required")
                })
                || desc_col
                    .and_then(|c| row.get(c))
                    .is_some_and(|d| d.starts_with("Required") || d.starts_with("(Required)"));
            let description = desc_col
                .and_then(|c| row.get(c))
                .filter(|d| !d.is_empty())
                .map(|d| limit(d, 500));
            Some(ParamDoc {
                name,
                location,
                required,
                kind,
                description,
            })
        })
        .collect()
}

fn param_item(item: &str, location: &'static str) -> Option<ParamDoc> {
    let m = PARAM_ITEM.captures(item)?;
    let name = placeholder_name(&m[1]);
    if name.is_empty() {
        return None;
    }
    let notes = m.get(2).map_or("", |n| n.as_str()).to_ascii_lowercase();
    Some(ParamDoc {
        name,
        location,
        required: notes.contains("required") && !notes.contains("optional"),
        kind: json_type(&notes),
        description: Some(limit(&m[3], 500)),
    })
}

fn json_type(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    let word = |w: &str| {
        t.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|x| x == w)
    };
    if word("integer") || word("int") || word("long") || word("int32") || word("int64") {
        Some("integer")
    } else if word("float") || word("double") || word("number") || word("decimal") {
        Some("number")
    } else if word("boolean") || word("bool") {
        Some("boolean")
    } else if word("array") || word("list") || t.ends_with("[]") {
        Some("array")
    } else if word("object") || word("map") {
        Some("object")
    } else if word("string") || word("str") || word("text") || word("time") || word("date") {
        Some("string")
    } else {
        None
    }
}

/// Gives every endpoint the page's parameters that fit it: path parameters only
/// where the endpoint has that placeholder, body fields only for methods with bodies.
fn attach_params(endpoints: &mut [Endpoint], params: &[ParamDoc]) {
    for e in endpoints.iter_mut() {
        let placeholders: Vec<String> = e
            .path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
            .collect();
        let mut own: Vec<ParamDoc> = Vec::new();
        for name in &placeholders {
            let documented = params
                .iter()
                .find(|p| p.location == "path" && p.name == *name)
                .cloned();
            own.push(documented.unwrap_or(ParamDoc {
                name: name.clone(),
                location: "path",
                required: true,
                kind: None,
                description: None,
            }));
        }
        let body = matches!(e.method.as_str(), "POST" | "PUT" | "PATCH");
        for p in params {
            let fits = match p.location {
                "path" => false,
                "body" => body,
                _ => true,
            };
            if fits && !own.iter().any(|o| o.name == p.name) && own.len() < 200 {
                own.push(p.clone());
            }
        }
        for p in &mut own {
            if p.location == "path" {
                p.required = true;
            }
        }
        e.params = own;
    }
}

fn auth_hints(text: &str, hints: &mut AuthHints) {
    hints.bearer += BEARER.find_iter(text).count();
    hints.basic += BASIC.find_iter(text).count();
    let lower = text.to_ascii_lowercase();
    hints.oauth += lower.matches("oauth").count();
    for m in HEADER.captures_iter(text) {
        let name = m[1].to_owned();
        let value = m[2].trim();
        let lname = name.to_ascii_lowercase();
        if lname.contains("api-key")
            || lname.contains("apikey")
            || lname.contains("api_key")
            || lname.ends_with("-token") && lname != "x-csrf-token"
        {
            *hints.api_key_headers.entry(name).or_default() += 1;
        } else if lname == "authorization" {
            let scheme = value
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if scheme == "token" || scheme == "apikey" || scheme == "key" {
                hints.token_prefix += 1;
            }
        }
    }
    if hints.oauth > 0 || lower.contains("oauth") {
        for m in OAUTH_URL.find_iter(text) {
            let u = m.as_str().trim_end_matches(['.', ',', ';']);
            let l = u.to_ascii_lowercase();
            let path = l.split_once("://").map_or("", |(_, r)| r);
            let path = path.split_once('/').map_or("", |(_, p)| p);
            if path.contains("authorize")
                || path.ends_with("oauth/auth")
                || path.ends_with("oauth2/auth")
            {
                *hints.authorize_urls.entry(u.to_owned()).or_default() += 1;
            } else if path.ends_with("token")
                && (path.contains("oauth") || path.ends_with("/token"))
            {
                *hints.token_urls.entry(u.to_owned()).or_default() += 1;
            }
        }
    }
}

/// A page text's overall character count, for statistics.
pub fn text_len(doc: &Doc) -> usize {
    doc.blocks
        .iter()
        .map(|b| match b {
            Block::Heading { text, .. }
            | Block::Paragraph(text)
            | Block::Item(text)
            | Block::Code(text) => text.len(),
            Block::Table(rows) => rows.iter().flatten().map(String::len).sum(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{from_html, from_markdown};

    fn url() -> Url {
        Url::parse("http://docs.example.com/page").unwrap()
    }

    #[test]
    fn normalises_placeholder_styles() {
        let n = |p| normalise_path(p).unwrap();
        assert_eq!(n("/users/{id}"), "/users/{id}");
        assert_eq!(n("/users/:id/posts"), "/users/{id}/posts");
        assert_eq!(n("/users/<user-id>/"), "/users/{user-id}");
        assert_eq!(
            n("/channels/{channel.id}/messages"),
            "/channels/{channel_id}/messages"
        );
        assert_eq!(n("/a/{id}/b/{id}"), "/a/{id}/b/{id_2}");
        assert_eq!(n("/<a>,<b>/_mapping"), "/{a}/_mapping");
        assert_eq!(n("/tags/{a},{b},.../items"), "/tags/{a}/items");
        assert_eq!(n("/x/{a},b"), "/x/{a},b");
        assert_eq!(
            n("/v1/accounts/$ACCOUNT_SID/calls.json"),
            "/v1/accounts/{ACCOUNT_SID}/calls.json"
        );
        assert!(normalise_path("/a/{unclosed").is_none());
    }

    #[test]
    fn declarations_examples_and_params() {
        let doc = from_markdown(
            "# Update alias\n\nAdds an alias to one or more indexes.\n\n## Endpoints\n\n```json\nPOST /<target>/_alias/<alias-name>\nPUT _alias/<alias-name>\n```\n\n## Path parameters\n\n| Parameter | Type | Description |\n|---|---|---|\n| `target` | String | Required. The index. |\n\n## Query parameters\n\n- `timeout` (time, optional): How long to wait.\n\n## Example request\n\n```json\nPOST sample-index/_alias/sample-alias\n{\"routing\": \"test\"}\n```\n\n```bash\ncurl -X DELETE https://api.example.com/v2/things/42 -H 'Authorization: Bearer T'\n```\n",
        );
        let facts = page(&doc, &url());
        let strong: Vec<_> = facts
            .endpoints
            .iter()
            .filter(|e| e.strength == Strength::Strong)
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        assert_eq!(
            strong,
            [
                "POST /{target}/_alias/{alias-name}",
                "PUT /_alias/{alias-name}"
            ]
        );
        let weak: Vec<_> = facts
            .endpoints
            .iter()
            .filter(|e| e.strength == Strength::Weak)
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        assert_eq!(
            weak,
            [
                "POST /sample-index/_alias/sample-alias",
                "DELETE /v2/things/42"
            ]
        );
        let first = &facts.endpoints[0];
        assert_eq!(first.name.as_deref(), Some("Update alias"));
        assert_eq!(
            first.description.as_deref(),
            Some("Adds an alias to one or more indexes.")
        );
        assert_eq!(first.source_url, "http://docs.example.com/page");
        let target = first.params.iter().find(|p| p.name == "target").unwrap();
        assert_eq!(
            (target.location, target.required, target.kind),
            ("path", true, Some("string"))
        );
        let timeout = first.params.iter().find(|p| p.name == "timeout").unwrap();
        assert_eq!((timeout.location, timeout.required), ("query", false));
        assert_eq!(facts.base_urls.get("https://api.example.com"), Some(&1));
        assert_eq!(facts.auth.bearer, 1);
    }

    #[test]
    fn badges_headings_and_tables() {
        let doc = from_html(
            r#"<h2>Delete a message</h2><p>Removes it.</p>
            <div><span class="badge">DELETE</span> <code>/channels/{channel.id}/messages/{message.id}</code></div>
            <h3>GET /users/:id</h3>
            <table><tr><th>Method</th><th>Endpoint</th></tr><tr><td>PATCH</td><td>/users/:id</td></tr></table>
            <p>Send your key in the <code>X-API-Key</code> header: <code>curl -H "X-API-Key: abc" https://x.io/v1/me</code></p>"#,
        );
        let facts = page(&doc, &url());
        let all: Vec<_> = facts
            .endpoints
            .iter()
            .map(|e| (e.method.as_str(), e.path.as_str(), e.strength))
            .collect();
        assert_eq!(
            all,
            [
                (
                    "DELETE",
                    "/channels/{channel_id}/messages/{message_id}",
                    Strength::Strong
                ),
                ("GET", "/users/{id}", Strength::Strong),
                ("PATCH", "/users/{id}", Strength::Strong),
            ]
        );
        assert_eq!(facts.endpoints[0].name.as_deref(), Some("Delete a message"));
        assert_eq!(facts.auth.api_key_headers.get("X-API-Key"), Some(&1));
    }

    fn pairs(facts: &PageFacts) -> Vec<(String, Strength)> {
        facts
            .endpoints
            .iter()
            .map(|e| (format!("{} {}", e.method, e.path), e.strength))
            .collect()
    }

    #[test]
    fn templates_declare_wherever_they_stand() {
        // Colon parameters in a curl sample beside a body, braces in prose, and a
        // template under an "Example request" heading: none is sent literally.
        let doc = from_markdown(
            "# Invoices\n\n## Example request\n\n```sh\ncurl -X POST https://api.billfold.test/v3/invoices/:invoice/finalize \\\n  -d auto_advance=true\n```\n\nTo read one repository send `GET /orgs/{org}/repos/{repo}` with your token.\n\n```http\nPATCH /v3/invoices/<invoice>\n{\"memo\": \"thanks\"}\n```\n",
        );
        assert_eq!(
            pairs(&page(&doc, &url())),
            [
                (
                    "POST /v3/invoices/{invoice}/finalize".to_owned(),
                    Strength::Strong
                ),
                ("GET /orgs/{org}/repos/{repo}".to_owned(), Strength::Strong),
                ("PATCH /v3/invoices/{invoice}".to_owned(), Strength::Strong),
            ]
        );
    }

    #[test]
    fn concrete_records_are_examples_even_when_presented_as_declarations() {
        let doc = from_html(
            "<h3>GET /v1/parcels/prc_9Hq2LmXw4TzR8vKd</h3>\
             <table><tr><th>Verb</th><th>Route</th></tr>\
             <tr><td>delete</td><td>/v1/parcels/1042</td></tr>\
             <tr><td>GET</td><td>/v1/parcels/{parcel_id}/events</td></tr></table>\
             <h3>Endpoint</h3><pre><code>PUT /fleet/7c9e6679-7425-40de-944b-e07fc1f90ae7</code></pre>",
        );
        assert_eq!(
            pairs(&page(&doc, &url())),
            [
                (
                    "GET /v1/parcels/prc_9Hq2LmXw4TzR8vKd".to_owned(),
                    Strength::Weak
                ),
                ("DELETE /v1/parcels/1042".to_owned(), Strength::Weak),
                (
                    "GET /v1/parcels/{parcel_id}/events".to_owned(),
                    Strength::Strong
                ),
                (
                    "PUT /fleet/7c9e6679-7425-40de-944b-e07fc1f90ae7".to_owned(),
                    Strength::Weak
                ),
            ]
        );
        assert!(!has_value_segment("/v2/2019-08-15/batch_jobs/_export"));
    }

    #[test]
    fn hosts_without_a_scheme_and_value_lists() {
        let doc = from_markdown(
            "## Routes\n\n```\nGET localhost:8080/admin/queues\nGET <broker>:15672/api/overview\nDELETE /api/queues/{vhost},{vhost2},.../purge\n```\n",
        );
        let found: Vec<String> = pairs(&page(&doc, &url()))
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            found,
            [
                "GET /admin/queues",
                "GET /api/overview",
                "DELETE /api/queues/{vhost}/purge"
            ]
        );
    }

    #[test]
    fn a_request_section_declares_its_call_and_body() {
        let doc = from_markdown(
            "### Rename a board\n\n#### Request\n\n```json\nPATCH /boards/current/title\n{\"title\": \"Q3 roadmap\"}\n```\n\n#### Sample request\n\n```json\nPOST /boards/current/cards\n{\"text\": \"x\"}\n```\n",
        );
        assert_eq!(
            pairs(&page(&doc, &url())),
            [
                ("PATCH /boards/current/title".to_owned(), Strength::Strong),
                ("POST /boards/current/cards".to_owned(), Strength::Weak),
            ]
        );
    }

    #[test]
    fn prose_is_not_a_declaration() {
        let doc = from_markdown(
            "# Guide\n\nUse GET requests to read and POST requests to write.\n\n```\nget the value\n```\n",
        );
        assert!(page(&doc, &url()).endpoints.is_empty());
    }
}
