//! Security schemes (`components.securitySchemes`, Swagger's `securityDefinitions`)
//! → [`AuthSpec`]s.
//!
//! The integration's `auth` is one scheme: the first one the top-level `security`
//! names, else the first one defined (in key order). Every other usable scheme is
//! kept in its `authSchemes` under its document name (made a valid scheme name),
//! so a connection can choose it (decision 86). Operations whose `security`
//! accepts only some of the schemes list them in their `authSchemes`; those
//! whose requirements no single scheme meets keep them in `metadata.security`
//! (see `operation`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ImportWarning;
use super::error::ImportError;
use super::resolve::{At, Docs};
use crate::model::{
    ApiKeyLocation, AuthSpec, DEFAULT_AUTH_SCHEME, OAuth2Flow, ParamLocation, scheme_name_problem,
};

/// The schemes imported for the integration.
pub(super) struct Auth {
    /// The default scheme as the model has it.
    pub(super) spec: AuthSpec,
    /// Its name in the document, when there is one.
    pub(super) scheme: Option<String>,
    /// The other usable schemes: document name, name in the definition, spec.
    pub(super) others: Vec<(String, String, AuthSpec)>,
}

impl Auth {
    /// Whether a scheme supplies the parameter `name` in `location`, so it is
    /// not an input: an API key's own parameter, or a `token`/`access_token`
    /// parameter next to an OAuth2 or bearer scheme (Slack's `token`).
    pub(super) fn supplies(&self, location: ParamLocation, name: &str) -> bool {
        self.places(location, name) || self.specs().any(|s| token_parameter(s, location, name))
    }

    /// Whether a scheme itself puts the credential in `location` as `name`
    /// (an API key's own parameter).
    pub(super) fn places(&self, location: ParamLocation, name: &str) -> bool {
        self.specs().any(|s| places(s, location, name))
    }

    fn specs(&self) -> impl Iterator<Item = &AuthSpec> {
        std::iter::once(&self.spec).chain(self.others.iter().map(|(_, _, s)| s))
    }

    /// How many schemes the integration gets.
    pub(super) fn count(&self) -> usize {
        1 + self.others.len()
    }

    /// The definition's name of the document's scheme `scheme`, if imported.
    pub(super) fn name_of(&self, scheme: &str) -> Option<&str> {
        if self.scheme.as_deref() == Some(scheme) {
            return Some(DEFAULT_AUTH_SCHEME);
        }
        self.others
            .iter()
            .find(|(doc, _, _)| doc == scheme)
            .map(|(_, name, _)| name.as_str())
    }

    /// The integration's `authSchemes`.
    pub(super) fn schemes(&self) -> BTreeMap<String, AuthSpec> {
        self.others
            .iter()
            .map(|(_, name, spec)| (name.clone(), spec.clone()))
            .collect()
    }
}

/// Whether `spec` puts an API key in `location` as `name`.
fn places(spec: &AuthSpec, location: ParamLocation, name: &str) -> bool {
    match spec {
        AuthSpec::ApiKey {
            location: at,
            name: key,
            ..
        } => {
            let same = matches!(
                (at, location),
                (ApiKeyLocation::Header, ParamLocation::Header)
                    | (ApiKeyLocation::Query, ParamLocation::Query)
                    | (ApiKeyLocation::Cookie, ParamLocation::Cookie)
            );
            same && key.eq_ignore_ascii_case(name)
        }
        _ => false,
    }
}

/// A `token`/`access_token` parameter next to an OAuth2 or bearer scheme.
fn token_parameter(spec: &AuthSpec, location: ParamLocation, name: &str) -> bool {
    matches!(spec, AuthSpec::Oauth2 { .. } | AuthSpec::Bearer)
        && location != ParamLocation::Path
        && ["token", "access_token"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name))
}

/// Picks the default scheme and converts every usable one.
///
/// `base_url` resolves relative OAuth2 URLs.
///
/// # Errors
/// A `$ref`'d scheme that does not resolve.
pub(super) fn import(
    docs: &Docs<'_>,
    root_at: &At<'_>,
    root: &Value,
    base_url: Option<&str>,
    warnings: &mut Vec<ImportWarning>,
) -> Result<Auth, ImportError> {
    // Each level may be a `$ref` (`components: {$ref: components.yml}`).
    let mut schemes_node = match docs.section(root_at, root, "components")? {
        Some(components) => docs.section(
            &At::root(&components.url),
            components.value(),
            "securitySchemes",
        )?,
        None => None,
    };
    if schemes_node.is_none() {
        schemes_node = docs.section(root_at, root, "securityDefinitions")?;
    }
    let (at_url, schemes) = match &schemes_node {
        Some(node) => (node.url.clone(), node.value().as_object()),
        None => (root_at.url.clone(), None),
    };
    let at = At::root(&at_url);
    let Some(schemes) = schemes.filter(|s| !s.is_empty()) else {
        return Ok(Auth {
            spec: AuthSpec::None,
            scheme: None,
            others: Vec::new(),
        });
    };
    let top = docs.section(root_at, root, "security")?;
    let top = top.as_ref().and_then(|n| n.value().as_array());
    let chosen = top
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
        .find(|name| schemes.contains_key(*name))
        .or_else(|| schemes.keys().next())
        .cloned()
        .unwrap_or_default();
    let mut spec = AuthSpec::None;
    let mut others: Vec<(String, String, AuthSpec)> = Vec::new();
    for (name, raw) in schemes {
        let scheme_at = at.key(name);
        let node = docs.follow(&scheme_at, raw)?;
        let scheme = node.as_ref().map_or(raw, |n| n.value());
        let converted = convert(scheme, base_url, &scheme_at, warnings);
        if *name == chosen {
            spec = converted;
            continue;
        }
        if converted == AuthSpec::None {
            continue;
        }
        let clean = definition_name(name);
        if others.iter().any(|(_, n, _)| *n == clean) || scheme_name_problem(&clean).is_some() {
            warnings.push(ImportWarning::at(
                &scheme_at,
                format!("no usable name for security scheme '{name}' in authSchemes; left out"),
            ));
            continue;
        }
        others.push((name.clone(), clean, converted));
    }
    Ok(Auth {
        spec,
        scheme: Some(chosen),
        others,
    })
}

/// A document's scheme name as a definition's: `[A-Za-z0-9._-]`, at most 64.
fn definition_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

fn convert(
    scheme: &Value,
    base_url: Option<&str>,
    at: &At<'_>,
    warnings: &mut Vec<ImportWarning>,
) -> AuthSpec {
    let text = |key: &str| scheme.get(key).and_then(Value::as_str).unwrap_or("");
    match text("type") {
        "apiKey" => {
            let location = match text("in") {
                "query" => ApiKeyLocation::Query,
                "cookie" => ApiKeyLocation::Cookie,
                _ => ApiKeyLocation::Header,
            };
            let name = text("name").trim();
            if name.is_empty() {
                warnings.push(ImportWarning::at(
                    at,
                    "apiKey scheme without a name; no auth imported",
                ));
                return AuthSpec::None;
            }
            AuthSpec::ApiKey {
                location,
                name: name.to_owned(),
                prefix: None,
            }
        }
        "basic" => AuthSpec::Basic,
        "http" => match text("scheme").to_ascii_lowercase().as_str() {
            "basic" => AuthSpec::Basic,
            "bearer" => AuthSpec::Bearer,
            other => {
                warnings.push(ImportWarning::at(
                    at,
                    format!("http scheme '{other}' is not supported; the credential supplies the Authorization header"),
                ));
                AuthSpec::CustomHeaders {
                    headers: vec!["Authorization".into()],
                }
            }
        },
        "oauth2" => oauth2(scheme, base_url, at, warnings),
        "openIdConnect" => {
            warnings.push(ImportWarning::at(
                at,
                "openIdConnect imported as a bearer token",
            ));
            AuthSpec::Bearer
        }
        other => {
            warnings.push(ImportWarning::at(
                at,
                format!("security scheme type '{other}' is not supported"),
            ));
            AuthSpec::None
        }
    }
}

fn oauth2(
    scheme: &Value,
    base_url: Option<&str>,
    at: &At<'_>,
    warnings: &mut Vec<ImportWarning>,
) -> AuthSpec {
    // Swagger 2 has one flow inline; OpenAPI 3 a map of flows.
    let flows: Vec<(&str, &Value)> = match scheme.get("flows").and_then(Value::as_object) {
        Some(map) => map.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        None => vec![(
            scheme.get("flow").and_then(Value::as_str).unwrap_or(""),
            scheme,
        )],
    };
    let mut kinds = Vec::new();
    let mut scopes: Vec<String> = Vec::new();
    let (mut authorization_url, mut token_url, mut refresh_url) = (None, None, None);
    for (name, flow) in flows {
        let mut url = |key: &str| {
            let raw = flow.get(key).and_then(Value::as_str)?;
            absolute(raw, base_url).or_else(|| {
                warnings.push(ImportWarning::at(
                    at,
                    format!("{key} '{raw}' is not an absolute URL; left out"),
                ));
                None
            })
        };
        let auth = url("authorizationUrl");
        let token = url("tokenUrl");
        let refresh = url("refreshUrl");
        let kind = match name {
            "authorizationCode" | "accessCode" => OAuth2Flow::AuthorizationCode,
            "clientCredentials" | "application" => OAuth2Flow::ClientCredentials,
            "password" => OAuth2Flow::Password,
            "implicit" => OAuth2Flow::Implicit,
            other => {
                warnings.push(ImportWarning::at(
                    at,
                    format!("unknown OAuth2 flow '{other}'; ignored"),
                ));
                continue;
            }
        };
        let usable = match kind {
            OAuth2Flow::AuthorizationCode => auth.is_some() && token.is_some(),
            OAuth2Flow::Implicit => auth.is_some(),
            _ => token.is_some(),
        };
        if !usable {
            warnings.push(ImportWarning::at(
                at,
                format!("OAuth2 flow '{name}' lacks its URLs; ignored"),
            ));
            continue;
        }
        kinds.push(kind);
        authorization_url = authorization_url.or(auth);
        token_url = token_url.or(token);
        refresh_url = refresh_url.or(refresh);
        for scope in flow
            .get("scopes")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(Map::keys)
        {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
    }
    if kinds.is_empty() {
        warnings.push(ImportWarning::at(
            at,
            "no usable OAuth2 flow; imported as a bearer token",
        ));
        return AuthSpec::Bearer;
    }
    if kinds.iter().all(|k| *k == OAuth2Flow::Implicit) {
        token_url = None;
    }
    AuthSpec::Oauth2 {
        flows: kinds,
        authorization_url,
        token_url,
        refresh_url,
        scopes,
        pkce: true,
    }
}

/// `raw` as an absolute http(s) URL, resolved against the base URL when relative.
fn absolute(raw: &str, base_url: Option<&str>) -> Option<String> {
    let parsed = match url::Url::parse(raw) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            url::Url::parse(base_url?).ok()?.join(raw).ok()?
        }
        Err(_) => return None,
    };
    (matches!(parsed.scheme(), "http" | "https") && parsed.has_host()).then(|| parsed.to_string())
}

/// The schemes an operation's security `requirements` accept on their own
/// (a requirement naming one scheme), in requirement order; an empty list
/// means the operation needs no credentials, or only combinations of schemes.
pub(super) fn accepted(requirements: &Value) -> Vec<&str> {
    requirements
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .filter(|req| req.len() == 1)
        .flat_map(Map::keys)
        .map(String::as_str)
        .collect()
}

/// The scopes `requirements` ask of the schemes named by `imported`, each once.
pub(super) fn scopes(requirements: &Value, imported: impl Fn(&str) -> bool) -> Vec<&Value> {
    let mut out: Vec<&Value> = Vec::new();
    let all = requirements
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flatten()
        .filter(|(scheme, _)| imported(scheme))
        .filter_map(|(_, scopes)| scopes.as_array())
        .flatten();
    for scope in all {
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::import::load::NoLoader;

    fn auth(doc: Value) -> (AuthSpec, Option<String>, usize) {
        let (a, warnings) = auth_with_others(doc);
        (a.spec, a.scheme, warnings)
    }

    fn auth_with_others(doc: Value) -> (Auth, usize) {
        let url = url::Url::parse("memory:/root").unwrap();
        let (docs, root) = Docs::new(&NoLoader, &url, doc.into());
        let mut warnings = Vec::new();
        let a = import(
            &docs,
            &At::root(&url),
            &root,
            Some("https://api.example.com/v1"),
            &mut warnings,
        )
        .unwrap();
        (a, warnings.len())
    }

    #[test]
    fn swagger_access_code_is_authorization_code() {
        let (spec, name, _) = auth(
            json!({"securityDefinitions": {"s": {"type": "oauth2", "flow": "accessCode",
            "authorizationUrl": "https://x/authorize", "tokenUrl": "https://x/token", "scopes": {"a": "", "b": ""}}}}),
        );
        assert_eq!(name.as_deref(), Some("s"));
        assert_eq!(
            spec,
            AuthSpec::Oauth2 {
                flows: vec![OAuth2Flow::AuthorizationCode],
                authorization_url: Some("https://x/authorize".into()),
                token_url: Some("https://x/token".into()),
                refresh_url: None,
                scopes: vec!["a".into(), "b".into()],
                pkce: true,
            }
        );
    }

    #[test]
    fn top_level_security_picks_the_scheme() {
        let (spec, name, warnings) = auth(json!({
            "components": {"securitySchemes": {
                "a": {"type": "http", "scheme": "basic"},
                "b": {"type": "apiKey", "in": "query", "name": "key"},
            }},
            "security": [{"b": []}],
        }));
        assert_eq!(name.as_deref(), Some("b"));
        assert_eq!(
            spec,
            AuthSpec::ApiKey {
                location: ApiKeyLocation::Query,
                name: "key".into(),
                prefix: None
            }
        );
        assert_eq!(warnings, 0);
    }

    #[test]
    fn every_usable_scheme_is_kept_by_name() {
        let (a, warnings) = auth_with_others(json!({
            "components": {"securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "X-Token"},
                "Org OAuth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/t", "scopes": {}}}},
                "odd": {"type": "mutualTLS"},
            }},
        }));
        assert_eq!(
            a.scheme.as_deref(),
            Some("Org OAuth"),
            "first defined is the default"
        );
        assert!(matches!(a.spec, AuthSpec::Oauth2 { .. }));
        let schemes = a.schemes();
        let names: Vec<&str> = schemes.keys().map(String::as_str).collect();
        assert_eq!(names, ["token"], "the unsupported scheme is left out");
        assert_eq!(a.name_of("Org OAuth"), Some("default"));
        assert_eq!(a.name_of("token"), Some("token"));
        assert!(a.places(ParamLocation::Header, "x-token"));
        assert_eq!(warnings, 1, "mutualTLS is not supported");
    }

    #[test]
    fn relative_token_urls_resolve_against_the_base_url() {
        let (spec, _, _) = auth(
            json!({"components": {"securitySchemes": {"o": {"type": "oauth2", "flows": {
            "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}}}}}),
        );
        let AuthSpec::Oauth2 {
            token_url, flows, ..
        } = spec
        else {
            panic!("oauth2 expected")
        };
        assert_eq!(
            token_url.as_deref(),
            Some("https://api.example.com/oauth/token")
        );
        assert_eq!(flows, [OAuth2Flow::ClientCredentials]);
    }

    #[test]
    fn requirements() {
        let reqs = json!([{"a": ["x"]}, {"b": [], "c": []}, {"d": ["x", "y"]}]);
        assert_eq!(accepted(&reqs), ["a", "d"]);
        assert_eq!(scopes(&reqs, |s| s == "a"), [&json!("x")]);
        assert_eq!(scopes(&reqs, |_| true), [&json!("x"), &json!("y")]);
    }
}
