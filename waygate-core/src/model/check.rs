//! Whether a definition can run: every problem, each naming its field.

use std::collections::HashSet;
use std::fmt;

use super::{
    ActionDef, AuthSpec, CacheSpec, Defaults, FieldMapping, IntegrationDef, Mappings, OAuth2Flow,
    PaginationSpec, PaginationStrategy, ParamLocation, PathTemplate, Transform,
};

/// The longest a response may be cached: a week.
const MAX_CACHE_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// Most mappings per direction of one action: each runs on every call.
const MAX_MAPPINGS: usize = 100;

/// One thing wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field, as a path into the definition: `actions[3].path`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A definition that cannot run, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    /// The problems, in document order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid integration definition: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

/// Checks a definition: slugs, URLs, auth, defaults, and for each action its path
/// template against its parameters, its schemas, its pagination and its cache.
///
/// # Errors
/// A [`DefinitionError`] listing every problem, each with the field it concerns.
pub fn check(def: &IntegrationDef) -> Result<(), DefinitionError> {
    let mut c = Checker::default();
    if def.slug.is_empty()
        || def.slug.len() > 64
        || !def
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        c.problem("slug", "must be 1 to 64 characters of a-z, 0-9 and '-'");
    }
    if def.name.trim().is_empty() {
        c.problem("name", "must not be empty");
    }
    if let Some(url) = &def.base_url {
        c.http_url("baseUrl", url);
    }
    if def.tags.len() > MAX_TAGS {
        c.problem("tags", format!("at most {MAX_TAGS} tags"));
    }
    for (i, tag) in def.tags.iter().enumerate().take(MAX_TAGS) {
        if let Some(problem) = tag_problem(tag) {
            c.problem(format!("tags[{i}]"), problem);
        }
    }
    c.auth("auth", &def.auth);
    for (name, scheme) in &def.auth_schemes {
        let field = format!("authSchemes.{name}");
        if let Some(problem) = scheme_name_problem(name) {
            c.problem(&field, problem);
        }
        c.auth(&field, scheme);
    }
    c.defaults(&def.defaults);
    let mut slugs = HashSet::new();
    for (i, action) in def.actions.iter().enumerate() {
        let at = format!("actions[{i}]");
        if !slugs.insert(action.slug.as_str()) {
            c.problem(
                format!("{at}.slug"),
                format!("duplicate action slug '{}'", action.slug),
            );
        }
        c.action(&at, action);
        for (j, name) in action.auth_schemes.iter().enumerate() {
            if def.auth_scheme(name).is_none() {
                c.problem(
                    format!("{at}.authSchemes[{j}]"),
                    format!(
                        "'{name}' is neither 'default' nor one of the integration's authSchemes"
                    ),
                );
            }
        }
    }
    if c.problems.is_empty() {
        Ok(())
    } else {
        Err(DefinitionError {
            problems: c.problems,
        })
    }
}

/// What is wrong with `name` as the name of one of an integration's
/// `authSchemes`, if anything: 1 to 64 characters of `[A-Za-z0-9._-]`, and not
/// `default`, which names the integration's own `auth`.
pub fn scheme_name_problem(name: &str) -> Option<&'static str> {
    if name == super::DEFAULT_AUTH_SCHEME {
        Some("'default' names the integration's own auth; give this scheme another name")
    } else if !(1..=64).contains(&name.len())
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        Some("a scheme name is 1 to 64 characters of letters, digits, '_', '-' and '.'")
    } else {
        None
    }
}

/// Most tags on one integration.
pub const MAX_TAGS: usize = 100;

/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;

/// What is wrong with `tag` as an integration's tag, if anything: a tag is 1
/// to [`MAX_TAG_CHARS`] characters, without control characters or surrounding
/// whitespace (so that two tags that look the same are the same).
pub fn tag_problem(tag: &str) -> Option<&'static str> {
    if tag.trim().is_empty() {
        Some("must not be empty")
    } else if tag.chars().count() > MAX_TAG_CHARS {
        Some("must be at most 64 characters")
    } else if tag.trim() != tag {
        Some("must not start or end with whitespace")
    } else if tag.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    }
}

/// Checks a connection's own mappings of one action, as a definition's are.
///
/// # Errors
/// A [`DefinitionError`] naming each field (`input[0].to`).
pub fn check_mappings(m: &Mappings) -> Result<(), DefinitionError> {
    let mut c = Checker::default();
    c.mappings("", m);
    for p in &mut c.problems {
        p.field = p.field.trim_start_matches('.').to_owned();
    }
    if c.problems.is_empty() {
        Ok(())
    } else {
        Err(DefinitionError {
            problems: c.problems,
        })
    }
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    fn http_url(&mut self, field: &str, value: &str) {
        match url::Url::parse(value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            Ok(u) => self.problem(
                field,
                format!("'{}' is not an http(s) URL with a host", u.scheme()),
            ),
            Err(e) => self.problem(field, format!("not a URL: {e}")),
        }
    }

    fn auth(&mut self, at: &str, auth: &AuthSpec) {
        match auth {
            AuthSpec::ApiKey { name, .. } if name.trim().is_empty() => {
                self.problem(
                    format!("{at}.name"),
                    "an api_key scheme needs the header, parameter or field name",
                );
            }
            AuthSpec::Oauth2 {
                flows,
                authorization_url,
                token_url,
                refresh_url,
                ..
            } => {
                for (field, url) in [
                    ("authorizationUrl", authorization_url),
                    ("tokenUrl", token_url),
                    ("refreshUrl", refresh_url),
                ] {
                    if let Some(url) = url {
                        self.http_url(&format!("{at}.{field}"), url);
                    }
                }
                if flows.contains(&OAuth2Flow::AuthorizationCode) && authorization_url.is_none() {
                    self.problem(
                        format!("{at}.authorizationUrl"),
                        "the authorization_code flow needs it",
                    );
                }
                if token_url.is_none() && !flows.iter().all(|f| *f == OAuth2Flow::Implicit) {
                    self.problem(
                        format!("{at}.tokenUrl"),
                        "needed by every flow but implicit",
                    );
                }
            }
            _ => {}
        }
    }

    fn defaults(&mut self, d: &Defaults) {
        if d.timeout_ms == Some(0) {
            self.problem("defaults.timeoutMs", "must be above 0");
        }
        if let Some(r) = &d.retry {
            self.retry("defaults.retry", r);
        }
        if let Some(b) = &d.circuit_breaker {
            for (field, v) in [
                ("failureThreshold", b.failure_threshold.map(u64::from)),
                ("windowMs", b.window_ms),
                ("openMs", b.open_ms),
            ] {
                if v == Some(0) {
                    self.problem(
                        format!("defaults.circuitBreaker.{field}"),
                        "must be above 0",
                    );
                }
            }
            if b.minimum_calls == Some(0) {
                self.problem("defaults.circuitBreaker.minimumCalls", "must be above 0");
            }
            if let Some(r) = b.failure_rate
                && !(r.is_finite() && r > 0.0 && r <= 1.0)
            {
                self.problem(
                    "defaults.circuitBreaker.failureRate",
                    "must be a number above 0 and at most 1 (0.5 = half the calls)",
                );
            }
        }
        if let Some(l) = &d.rate_limit {
            if !(l.requests_per_second.is_finite() && l.requests_per_second > 0.0) {
                self.problem(
                    "defaults.rateLimit.requestsPerSecond",
                    "must be a number above 0",
                );
            }
            if l.burst == Some(0) {
                self.problem("defaults.rateLimit.burst", "must be above 0");
            }
        }
        if let Some(h) = &d.idempotency_header
            && reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err()
        {
            self.problem(
                "defaults.idempotencyHeader",
                format!("'{h}' is not a valid header name"),
            );
        }
    }

    fn retry(&mut self, at: &str, r: &super::RetryConfig) {
        if let Some((field, message)) = r.problem() {
            self.problem(format!("{at}.{field}"), message);
        }
    }

    fn action(&mut self, at: &str, a: &ActionDef) {
        if a.slug.is_empty()
            || a.slug.len() > 128
            || !a
                .slug
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            self.problem(
                format!("{at}.slug"),
                "must be 1 to 128 characters of letters, digits, '_', '-' and '.'",
            );
        }
        if !METHODS.contains(&a.method.as_str()) {
            self.problem(
                format!("{at}.method"),
                format!("'{}' is not one of {}", a.method, METHODS.join(", ")),
            );
        }
        let placeholders: Vec<String> = match PathTemplate::parse(&a.path) {
            Ok(t) => t.placeholders().map(str::to_owned).collect(),
            Err(e) => {
                self.problem(format!("{at}.path"), e);
                Vec::new()
            }
        };
        if !a.path.starts_with('/') {
            self.problem(format!("{at}.path"), "must start with '/'");
        }
        if let Some(url) = &a.base_url {
            self.http_url(&format!("{at}.baseUrl"), url);
        }
        let mut seen = HashSet::new();
        let mut on_wire = HashSet::new();
        for (j, p) in a.parameters.iter().enumerate() {
            let field = format!("{at}.parameters[{j}]");
            if p.name.is_empty() {
                self.problem(format!("{field}.name"), "must not be empty");
            }
            if !seen.insert(p.name.as_str()) {
                self.problem(
                    format!("{field}.name"),
                    format!("input field '{}' is bound twice", p.name),
                );
            }
            let wire = p.wire_name();
            let wire_key = if p.location == ParamLocation::Header {
                wire.to_ascii_lowercase()
            } else {
                wire.to_owned()
            };
            if !on_wire.insert((p.location, wire_key)) {
                self.problem(
                    format!("{field}.name"),
                    format!("two parameters send '{wire}'"),
                );
            }
            if p.location == ParamLocation::Header
                && reqwest::header::HeaderName::from_bytes(wire.as_bytes()).is_err()
            {
                self.problem(
                    format!("{field}.name"),
                    format!("'{wire}' is not a valid header name"),
                );
            }
            if p.credential && p.location == ParamLocation::Path {
                self.problem(
                    format!("{field}.in"),
                    "a credential parameter goes in the query, a header or a cookie",
                );
            }
            if p.location == ParamLocation::Path
                && !placeholders.iter().any(|n| n == p.name.as_str())
            {
                self.problem(
                    format!("{field}.name"),
                    format!(
                        "path parameter '{}' does not appear in path '{}'",
                        p.name, a.path
                    ),
                );
            }
        }
        for name in &placeholders {
            let bound = a
                .parameters
                .iter()
                .any(|p| p.location == ParamLocation::Path && p.name == *name);
            if !bound {
                self.problem(
                    format!("{at}.path"),
                    format!("placeholder {{{name}}} has no path parameter named '{name}'"),
                );
            }
        }
        if let Some(field) = a.body.as_ref().and_then(|b| b.field.as_deref())
            && seen.contains(field)
        {
            self.problem(
                format!("{at}.body.field"),
                format!("'{field}' is already bound as a parameter"),
            );
        }
        self.schema(&format!("{at}.inputSchema"), &a.input_schema);
        if let Some(s) = &a.output_schema {
            self.schema(&format!("{at}.outputSchema"), s);
        }
        if let Some(r) = &a.retry {
            self.retry(&format!("{at}.retry"), r);
        }
        if a.timeout_ms == Some(0) {
            self.problem(format!("{at}.timeoutMs"), "must be above 0");
        }
        if let Some(p) = &a.pagination {
            self.pagination(&format!("{at}.pagination"), a, p);
        }
        if let Some(c) = &a.cache {
            self.cache(&format!("{at}.cache"), a, c);
        }
    }

    /// A cached answer is only right for a call that changes nothing: reads,
    /// and writes-that-read (search by POST) the definition marks idempotent.
    fn cache(&mut self, at: &str, a: &ActionDef, c: &CacheSpec) {
        if !(1..=MAX_CACHE_TTL_SECONDS).contains(&c.ttl_seconds) {
            self.problem(
                format!("{at}.ttlSeconds"),
                format!("must be between 1 and {MAX_CACHE_TTL_SECONDS} (7 days)"),
            );
        }
        let reads = matches!(a.method.as_str(), "GET" | "HEAD");
        let marked = a.method == "POST" && a.idempotent == Some(true);
        if !(reads || marked) {
            self.problem(
                at,
                format!(
                    "{} responses are not cached: only GET and HEAD, or a POST that changes nothing and says so with `idempotent: true`",
                    a.method
                ),
            );
        }
        self.mappings(&format!("{at}.mappings"), &a.mappings);
    }

    fn mappings(&mut self, at: &str, m: &Mappings) {
        for (direction, list) in [("input", &m.input), ("output", &m.output)] {
            if list.len() > MAX_MAPPINGS {
                self.problem(
                    format!("{at}.{direction}"),
                    format!("at most {MAX_MAPPINGS} mappings"),
                );
            }
            for (i, mapping) in list.iter().enumerate() {
                self.mapping(&format!("{at}.{direction}[{i}]"), mapping);
            }
        }
    }

    fn mapping(&mut self, at: &str, m: &FieldMapping) {
        let stars = |p: &str| p.split('/').filter(|t| *t == "*").count();
        let omit = m.transform == Some(Transform::Omit);
        // The empty pointer (the whole value) only for an in-place transform.
        let whole = m.from.is_empty() && m.to.is_none() && !omit;
        if !(m.from.starts_with('/') || whole) {
            self.problem(
                format!("{at}.from"),
                format!(
                    "'{}' is not a JSON pointer (starts with '/'; the empty pointer only for an in-place transform)",
                    m.from
                ),
            );
        }
        if let Some(to) = &m.to {
            if omit {
                self.problem(format!("{at}.to"), "an omitted value goes nowhere");
            } else if !to.starts_with('/') {
                self.problem(
                    format!("{at}.to"),
                    format!("'{to}' is not a JSON pointer (starts with '/')"),
                );
            } else if stars(to) != stars(&m.from) {
                self.problem(
                    format!("{at}.to"),
                    "needs as many '*' segments as 'from' (each takes the same array index)",
                );
            }
        }
        if omit && m.default.is_some() {
            self.problem(format!("{at}.default"), "an omitted value has no default");
        }
        if let Some(Transform::Date(format)) = &m.transform
            && let Err(e) = crate::pipeline::mapping::check_date_format(format)
        {
            self.problem(format!("{at}.transform.date"), e);
        }
    }

    fn schema(&mut self, at: &str, schema: &serde_json::Value) {
        if let Err(e) = crate::schema::compile(schema) {
            self.problem(at, e);
        }
    }

    fn pagination(&mut self, at: &str, a: &ActionDef, p: &PaginationSpec) {
        use PaginationStrategy as S;
        let cursor_sources = [&p.cursor_path, &p.cursor_header, &p.cursor_item_path]
            .into_iter()
            .filter(|f| f.is_some())
            .count();
        let needs: &[(&str, bool)] = match p.strategy {
            S::Cursor => &[
                ("cursorParam", p.cursor_param.is_some()),
                ("cursorPath", cursor_sources == 1),
            ],
            S::Offset => &[("offsetParam", p.offset_param.is_some())],
            S::Page => &[("pageParam", p.page_param.is_some())],
            S::NextUrl => &[("nextUrlPath", p.next_url_path.is_some())],
            S::Link => &[],
        };
        for (field, present) in needs {
            if !present {
                let message = match *field {
                    "cursorPath" => {
                        "exactly one of cursorPath, cursorHeader and cursorItemPath is needed by the cursor strategy"
                    }
                    _ => "needed by this pagination strategy",
                };
                self.problem(format!("{at}.{field}"), message);
            }
        }
        // A field another strategy reads would be accepted and ignored: refused.
        let strategy_fields = [
            ("cursorPath", p.cursor_path.is_some(), S::Cursor),
            ("cursorHeader", p.cursor_header.is_some(), S::Cursor),
            ("cursorItemPath", p.cursor_item_path.is_some(), S::Cursor),
            ("cursorParam", p.cursor_param.is_some(), S::Cursor),
            ("offsetParam", p.offset_param.is_some(), S::Offset),
            ("pageParam", p.page_param.is_some(), S::Page),
            ("nextUrlPath", p.next_url_path.is_some(), S::NextUrl),
        ];
        for (field, present, owner) in strategy_fields {
            if present && owner != p.strategy {
                self.problem(
                    format!("{at}.{field}"),
                    "not used by this pagination strategy",
                );
            }
        }
        if p.page_size.is_some() && p.limit_param.is_none() {
            self.problem(
                format!("{at}.pageSize"),
                "needs limitParam, the input field that sends it",
            );
        }
        if p.page_size == Some(0) {
            self.problem(format!("{at}.pageSize"), "must be above 0");
        }
        for (field, pointer) in [
            ("itemsPath", &p.items_path),
            ("cursorPath", &p.cursor_path),
            ("cursorItemPath", &p.cursor_item_path),
            ("nextUrlPath", &p.next_url_path),
            ("hasMorePath", &p.has_more_path),
        ] {
            if let Some(ptr) = pointer
                && !(ptr.is_empty() || ptr.starts_with('/'))
            {
                self.problem(
                    format!("{at}.{field}"),
                    format!("'{ptr}' is not a JSON pointer (starts with '/')"),
                );
            }
        }
        // The pager sets these input fields; each must reach the wire: a
        // query or header parameter, or a body field of a method with a body.
        let has_body = matches!(a.method.as_str(), "POST" | "PUT" | "PATCH");
        for (field, name) in [
            ("cursorParam", &p.cursor_param),
            ("offsetParam", &p.offset_param),
            ("pageParam", &p.page_param),
            ("limitParam", &p.limit_param),
        ] {
            let Some(name) = name else { continue };
            let bound = a.parameters.iter().find(|q| &q.name == name);
            let reaches_wire = match bound {
                Some(q) => matches!(q.location, ParamLocation::Query | ParamLocation::Header),
                None => has_body,
            };
            if !reaches_wire {
                self.problem(
                    format!("{at}.{field}"),
                    format!("'{name}' must be a query or header parameter of the action (or a body field of a POST, PUT or PATCH)"),
                );
            }
        }
        if let Some(c) = p.confidence
            && !(0.0..=1.0).contains(&c)
        {
            self.problem(format!("{at}.confidence"), "must be between 0 and 1");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{ActionDef, Parameter};

    fn fields(def: &IntegrationDef) -> Vec<String> {
        check(def)
            .unwrap_err()
            .problems
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn accepts_a_sound_definition() {
        let mut def = IntegrationDef::new("chaos", "Chaos");
        def.base_url = Some("http://127.0.0.1:9000".into());
        let mut a = ActionDef::new("get_user", "GET", "/users/{id}");
        a.parameters.push(Parameter::new("id", ParamLocation::Path));
        def.actions.push(a);
        check(&def).unwrap();
    }

    #[test]
    fn names_the_field_of_every_problem() {
        let mut def = IntegrationDef::new("Bad Slug", "");
        def.base_url = Some("ftp://x".into());
        let mut a = ActionDef::new("get", "FETCH", "/users/{id}/{other}");
        a.parameters.push(Parameter::new("id", ParamLocation::Path));
        a.parameters
            .push(Parameter::new("ghost", ParamLocation::Path));
        a.input_schema = json!({"type": "objekt"});
        def.actions.push(a.clone());
        a.method = "GET".into();
        a.input_schema = json!({"type": "object"});
        a.base_url = Some("file:///etc".into());
        def.actions.push(a);
        assert_eq!(
            fields(&def),
            [
                "slug",
                "name",
                "baseUrl",
                "actions[0].method",
                "actions[0].parameters[1].name",
                "actions[0].path",
                "actions[0].inputSchema",
                "actions[1].slug",
                "actions[1].baseUrl",
                "actions[1].parameters[1].name",
                "actions[1].path",
            ]
        );
        let text = check(&def).unwrap_err().to_string();
        assert!(
            text.contains(
                "actions[0].path: placeholder {other} has no path parameter named 'other'"
            ),
            "{text}"
        );
    }

    #[test]
    fn tags_are_short_visible_text() {
        let mut def = IntegrationDef::new("x", "X");
        def.tags = vec![
            "crm".into(),
            "Customer Relations".into(),
            String::new(),
            " padded".into(),
            "a\u{7}bell".into(),
            "é".repeat(MAX_TAG_CHARS),
            "é".repeat(MAX_TAG_CHARS + 1),
        ];
        assert_eq!(fields(&def), ["tags[2]", "tags[3]", "tags[4]", "tags[6]"]);
        def.tags = vec!["x".into(); MAX_TAGS + 1];
        assert_eq!(fields(&def), ["tags"]);
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn checks_every_breaker_field_and_parses_the_new_ones() {
        let yaml = "slug: x\nname: X\ndefaults:\n  circuitBreaker: {failureThreshold: 0, failureRate: 1.5, minimumCalls: 0, windowMs: 0, openMs: 0}\n";
        let def = IntegrationDef::from_yaml(yaml).unwrap();
        assert_eq!(
            fields(&def),
            [
                "defaults.circuitBreaker.failureThreshold",
                "defaults.circuitBreaker.windowMs",
                "defaults.circuitBreaker.openMs",
                "defaults.circuitBreaker.minimumCalls",
                "defaults.circuitBreaker.failureRate",
            ]
        );
        let yaml = "slug: x\nname: X\ndefaults:\n  circuitBreaker: {failureThreshold: 3, failureRate: 0.25, minimumCalls: 10, windowMs: 1000, openMs: 500}\n";
        let def = IntegrationDef::from_yaml(yaml).unwrap();
        check(&def).unwrap();
        let b = def.defaults.circuit_breaker.unwrap();
        assert_eq!((b.failure_rate, b.minimum_calls), (Some(0.25), Some(10)));
        let unknown = "slug: x\nname: X\ndefaults:\n  circuitBreaker: {failureRatio: 0.5}\n";
        assert!(
            IntegrationDef::from_yaml(unknown).is_err(),
            "an unknown breaker field is refused, not ignored"
        );
    }

    #[test]
    fn checks_oauth2_and_pagination() {
        let mut def = IntegrationDef::new("x", "X");
        def.auth = AuthSpec::Oauth2 {
            flows: vec![OAuth2Flow::AuthorizationCode],
            authorization_url: None,
            token_url: Some("not a url".into()),
            refresh_url: None,
            scopes: vec![],
            pkce: true,
        };
        let mut a = ActionDef::new("list", "GET", "/items");
        a.pagination = Some(PaginationSpec {
            strategy: PaginationStrategy::Cursor,
            items_path: Some("items".into()),
            cursor_path: None,
            cursor_header: None,
            cursor_item_path: None,
            cursor_param: None,
            offset_param: Some("offset".into()),
            page_param: None,
            limit_param: Some("limit".into()),
            next_url_path: None,
            has_more_path: None,
            page_size: Some(10),
            confidence: None,
        });
        def.actions.push(a);
        assert_eq!(
            fields(&def),
            [
                "auth.tokenUrl",
                "auth.authorizationUrl",
                "actions[0].pagination.cursorParam",
                "actions[0].pagination.cursorPath",
                "actions[0].pagination.offsetParam",
                "actions[0].pagination.itemsPath",
                "actions[0].pagination.offsetParam",
                "actions[0].pagination.limitParam",
            ]
        );
    }
}
