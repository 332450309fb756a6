//! Base URLs: OpenAPI 3 `servers` (with variable defaults) and Swagger 2
//! `schemes` + `host` + `basePath`.

use std::collections::HashMap;

use serde_json::Value;
use url::Url;

/// A server URL as the document gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Server {
    /// An absolute http(s) URL without a trailing `/`.
    Absolute(String),
    /// A URL relative to a document that has no http(s) location.
    Relative(String),
}

/// The first entry of a `servers` list, variables replaced by their defaults.
///
/// `doc_url` is where the document came from: relative server URLs resolve against it
/// when it is an http(s) URL.
pub(super) fn first(servers: &Value, doc_url: &Url) -> Option<Server> {
    let server = servers.as_array()?.first()?;
    let mut url = server.get("url")?.as_str()?.to_owned();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (name, var) in vars {
            if let Some(default) = var.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    Some(classify(&url, doc_url))
}

/// Swagger 2's base URL: the first scheme (https preferred), host and basePath.
pub(super) fn swagger(root: &Value, doc_url: &Url) -> Option<Server> {
    let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let Some(host) = root.get("host").and_then(Value::as_str) else {
        return (!base_path.is_empty()).then(|| classify(base_path, doc_url));
    };
    let schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let scheme = if schemes.is_empty() || schemes.contains(&"https") {
        "https"
    } else {
        schemes[0]
    };
    Some(classify(&format!("{scheme}://{host}{base_path}"), doc_url))
}

fn classify(raw: &str, doc_url: &Url) -> Server {
    let absolute = match Url::parse(raw) {
        Ok(u) => Some(u),
        Err(url::ParseError::RelativeUrlWithoutBase)
            if matches!(doc_url.scheme(), "http" | "https") =>
        {
            doc_url.join(raw).ok()
        }
        Err(_) => None,
    };
    match absolute {
        Some(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
            Server::Absolute(u.as_str().trim_end_matches('/').to_owned())
        }
        _ => Server::Relative(raw.to_owned()),
    }
}

/// The absolute URL most actions use, for documents without a top-level server.
pub(super) fn most_common<'a>(servers: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut order = Vec::new();
    for s in servers {
        let n = counts.entry(s).or_insert(0);
        if *n == 0 {
            order.push(s);
        }
        *n += 1;
    }
    // Ties go to the first seen, so the choice does not depend on hashing.
    let best = order.iter().copied().max_by_key(|s| {
        (
            counts[s],
            std::cmp::Reverse(order.iter().position(|o| o == s)),
        )
    })?;
    Some(best.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file() -> Url {
        Url::parse("file:///spec.yml").unwrap()
    }

    #[test]
    fn substitutes_variable_defaults() {
        let servers = json!([{"url": "https://{region}.example.com/{v}/", "variables": {
            "region": {"default": "eu"}, "v": {"default": "v2"}}}]);
        assert_eq!(
            first(&servers, &file()),
            Some(Server::Absolute("https://eu.example.com/v2".into()))
        );
    }

    #[test]
    fn relative_servers_resolve_against_remote_documents_only() {
        let servers = json!([{"url": "/api/v3"}]);
        assert_eq!(
            first(&servers, &file()),
            Some(Server::Relative("/api/v3".into()))
        );
        let remote = Url::parse("https://example.com/docs/openapi.json").unwrap();
        assert_eq!(
            first(&servers, &remote),
            Some(Server::Absolute("https://example.com/api/v3".into()))
        );
    }

    #[test]
    fn swagger_host_and_base_path() {
        let root = json!({"host": "slack.com", "basePath": "/api", "schemes": ["https"]});
        assert_eq!(
            swagger(&root, &file()),
            Some(Server::Absolute("https://slack.com/api".into()))
        );
        let root = json!({"host": "x.io", "schemes": ["http"]});
        assert_eq!(
            swagger(&root, &file()),
            Some(Server::Absolute("http://x.io".into()))
        );
    }

    #[test]
    fn most_common_breaks_ties_by_order() {
        assert_eq!(
            most_common(["b", "a", "a", "b"].into_iter()).as_deref(),
            Some("b")
        );
        assert_eq!(
            most_common(["b", "a", "a"].into_iter()).as_deref(),
            Some("a")
        );
    }
}
