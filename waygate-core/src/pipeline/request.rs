//! Step 5, build request: path template, query, headers, cookies and body from
//! the validated input, against the connection's base URL.

use std::fmt::Write as _;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use url::Url;

use super::resolve::CompiledAction;
use crate::error::Error;
use crate::model::{BodyEncoding, ParamLocation, ParamStyle, Parameter, Segment};

/// Characters kept as they are in a path segment: RFC 3986 unreserved.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A request ready to send: plain data, so it can be authorised, previewed with
/// secrets redacted, and turned into a fresh `reqwest::Request` per attempt.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full URL, query included.
    pub url: Url,
    /// Headers, cookies folded into one `Cookie` header.
    pub headers: HeaderMap,
    /// The body.
    pub body: RequestBody,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    /// No body.
    Empty,
    /// `application/json` (or the action's JSON content type).
    Json(Value),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    /// `multipart/form-data`.
    Multipart(Vec<Part>),
    /// Bytes with a content type, for connectors.
    Raw {
        /// Its content type.
        content_type: String,
        /// The bytes.
        bytes: bytes::Bytes,
    },
}

/// One multipart part.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The form field name.
    pub name: String,
    /// The bytes.
    pub content: Vec<u8>,
    /// A file name, which makes it a file part.
    pub filename: Option<String>,
    /// The part's content type.
    pub content_type: Option<String>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: RequestBody::Empty,
        }
    }
}

/// Where requests go: a base URL as configured and, when it can take a path
/// as it is, its parse.
///
/// Parsing a whole URL again for every call re-validates its host (IDNA
/// mapping included), which was the largest part of building a request; with
/// the parse kept, a call's URL is the base's copy with the path replaced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Base<'a> {
    pub(crate) text: &'a str,
    parsed: Option<&'a Url>,
}

impl<'a> Base<'a> {
    /// A base URL as text, parsed with each request built against it.
    pub(crate) fn text(text: &'a str) -> Self {
        Self { text, parsed: None }
    }

    /// A base URL with its [`parse_base`] result.
    pub(crate) fn parsed(text: &'a str, parsed: Option<&'a Url>) -> Self {
        Self { text, parsed }
    }
}

/// The parse of a base URL that a path can be set on as it is: one that is a
/// hierarchical URL without query or fragment (the text would put a path
/// after those into them). `None` for others, which are joined as text.
pub(crate) fn parse_base(text: &str) -> Option<Url> {
    Url::parse(text)
        .ok()
        .filter(|u| !u.cannot_be_a_base() && u.query().is_none() && u.fragment().is_none())
}

/// Builds the request for `action` from a validated `input`.
///
/// # Errors
/// `VALIDATION_ERROR` for values that cannot go where they are bound (an object
/// in a header, a missing path value), `CONFIGURATION_ERROR` for a missing or
/// unusable base URL.
#[tracing::instrument(name = "build_request", level = "debug", skip_all)]
pub(crate) fn build(
    action: &CompiledAction,
    base: Option<Base<'_>>,
    input: &Value,
) -> Result<HttpRequest, Error> {
    let empty = Map::new();
    let fields = match input {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err(Error::input("", "type", "the input must be a JSON object")),
    };
    let base = base.ok_or_else(|| {
        Error::config(format!(
            "action '{}' has no base URL: set baseUrl on the integration or the connection",
            action.def.slug
        ))
    })?;
    let path = path(action, fields)?;
    let mut url = url(base, &path)?;
    let mut headers = HeaderMap::new();
    let mut cookies = String::new();
    let mut query = Vec::new();
    // Credential parameters are filled by the authorize step, not from the input.
    for p in action.def.parameters.iter().filter(|p| !p.credential) {
        let Some(value) = fields.get(&p.name).filter(|v| !v.is_null()) else {
            continue;
        };
        match p.location {
            ParamLocation::Path => {}
            ParamLocation::Query => query.extend(query_pairs(p, value)?),
            ParamLocation::Header => {
                let text =
                    simple(value, p.explode.unwrap_or(false)).ok_or_else(|| not_scalar(&p.name))?;
                let name = HeaderName::from_bytes(p.wire_name().as_bytes()).map_err(|_| {
                    Error::config(format!("'{}' is not a valid header name", p.wire_name()))
                })?;
                let value = HeaderValue::from_str(&text).map_err(|_| {
                    Error::input(
                        &pointer(&p.name),
                        "header",
                        "header values must be visible ASCII without line breaks",
                    )
                })?;
                headers.append(name, value);
            }
            ParamLocation::Cookie => {
                let text = simple(value, false).ok_or_else(|| not_scalar(&p.name))?;
                if !cookies.is_empty() {
                    cookies.push_str("; ");
                }
                let _ = write!(
                    cookies,
                    "{}={}",
                    p.wire_name(),
                    utf8_percent_encode(&text, PATH_SEGMENT)
                );
            }
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    if !cookies.is_empty() {
        let value = HeaderValue::from_str(&cookies)
            .map_err(|_| Error::input("", "cookie", "cookie values must be ASCII"))?;
        headers.insert(reqwest::header::COOKIE, value);
    }
    let body = body(action, fields)?;
    if let (Some(ct), RequestBody::Json(_)) = (
        action
            .def
            .body
            .as_ref()
            .and_then(|b| b.content_type.as_deref()),
        &body,
    ) && let Ok(value) = HeaderValue::from_str(ct)
    {
        headers.insert(reqwest::header::CONTENT_TYPE, value);
    }
    Ok(HttpRequest {
        method: action.method.clone(),
        url,
        headers,
        body,
    })
}

/// The action's path with the input's path parameters filled in, each
/// percent-encoded to stay inside its segment.
fn path(action: &CompiledAction, fields: &Map<String, Value>) -> Result<String, Error> {
    let mut path = String::with_capacity(action.def.path.len() + 16);
    for segment in action.template.segments() {
        match segment {
            Segment::Literal(text) => path.push_str(text),
            Segment::Param(name) => {
                let param = action.param(name);
                let value = fields.get(name).filter(|v| !v.is_null()).ok_or_else(|| {
                    Error::input(
                        &pointer(name),
                        "required",
                        format!("path parameter '{name}' is required"),
                    )
                })?;
                let explode = param.and_then(|p| p.explode).unwrap_or(false);
                let text = simple(value, explode).ok_or_else(|| not_scalar(name))?;
                if text == "." || text == ".." {
                    // URL parsers resolve dot segments, even percent-encoded ones:
                    // such a value would escape its segment and change the path.
                    return Err(Error::input(
                        &pointer(name),
                        "pattern",
                        format!("path parameter '{name}' cannot be '{text}'"),
                    ));
                }
                path.extend(utf8_percent_encode(&text, PATH_SEGMENT));
            }
        }
    }
    Ok(path)
}

/// `path` under `base`: the base's text with the path appended, as parsed
/// from one string. With the base parsed already, the same URL comes from
/// setting the path on a copy (the path parser is the one a whole parse
/// uses), unless the path holds a query or fragment of its own, or does not
/// start a new segment (checked definitions' paths all do).
fn url(base: Base<'_>, path: &str) -> Result<Url, Error> {
    if let Some(parsed) = base.parsed
        && (path.is_empty() || path.starts_with('/'))
        && !path.contains(['?', '#'])
    {
        let mut url = parsed.clone();
        let mut full = String::with_capacity(parsed.path().len() + path.len());
        full.push_str(parsed.path().trim_end_matches('/'));
        full.push_str(path);
        url.set_path(&full);
        return Ok(url);
    }
    let text = base.text;
    let mut joined = String::with_capacity(text.len() + path.len());
    joined.push_str(text.trim_end_matches('/'));
    joined.push_str(path);
    Url::parse(&joined)
        .map_err(|e| Error::config(format!("base URL '{text}' does not make a valid URL: {e}")))
}

fn pointer(field: &str) -> String {
    format!("/{}", crate::schema::pointer_token(field))
}

fn not_scalar(field: &str) -> Error {
    Error::input(
        &pointer(field),
        "type",
        format!("'{field}' must be a string, number, boolean or a flat array of them"),
    )
}

/// A scalar's text form; `None` for objects and null.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// OpenAPI `simple` style: arrays comma-joined, objects `k,v` (or `k=v` exploded).
fn simple(value: &Value, explode: bool) -> Option<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        Value::Object(map) => {
            let sep = if explode { "=" } else { "," };
            let parts: Option<Vec<String>> = map
                .iter()
                .map(|(k, v)| scalar(v).map(|v| format!("{k}{sep}{v}")))
                .collect();
            parts.map(|p| p.join(","))
        }
        other => scalar(other),
    }
}

/// Query pairs for one parameter, by its style.
fn query_pairs(p: &Parameter, value: &Value) -> Result<Vec<(String, String)>, Error> {
    let name = p.wire_name();
    let style = p.style.unwrap_or(ParamStyle::Form);
    let explode = p.explode.unwrap_or(style == ParamStyle::Form);
    let bad = || not_scalar(&p.name);
    Ok(match (value, style) {
        (Value::Array(items), _) => {
            let texts = items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad)?;
            if explode {
                texts.into_iter().map(|t| (name.to_owned(), t)).collect()
            } else {
                let sep = match style {
                    ParamStyle::SpaceDelimited => " ",
                    ParamStyle::PipeDelimited => "|",
                    _ => ",",
                };
                vec![(name.to_owned(), texts.join(sep))]
            }
        }
        (Value::Object(map), ParamStyle::DeepObject) => map
            .iter()
            .map(|(k, v)| {
                scalar(v)
                    .map(|t| (format!("{name}[{k}]"), t))
                    .ok_or_else(bad)
            })
            .collect::<Result<_, _>>()?,
        (Value::Object(map), _) if explode => map
            .iter()
            .map(|(k, v)| scalar(v).map(|t| (k.clone(), t)).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        (Value::Object(_), _) => vec![(name.to_owned(), simple(value, false).ok_or_else(bad)?)],
        (other, _) => vec![(name.to_owned(), scalar(other).ok_or_else(bad)?)],
    })
}

/// The body: the named body field, or every input field no parameter binds.
fn body(action: &CompiledAction, fields: &Map<String, Value>) -> Result<RequestBody, Error> {
    let spec = action.def.body.as_ref();
    let encoding = spec.map_or(BodyEncoding::Json, |b| b.encoding);
    let content = match spec.and_then(|b| b.field.as_deref()) {
        Some(field) => fields.get(field).cloned(),
        None => {
            let rest: Map<String, Value> = fields
                .iter()
                .filter(|(k, _)| action.param(k).is_none())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (!rest.is_empty()).then_some(Value::Object(rest))
        }
    };
    let Some(content) = content else {
        // Strict servers refuse a call without the body their description
        // requires, even when none of its fields is set.
        return Ok(match spec {
            Some(b) if b.required => empty_body(encoding),
            _ => RequestBody::Empty,
        });
    };
    match encoding {
        BodyEncoding::Json => Ok(RequestBody::Json(content)),
        BodyEncoding::Form => Ok(RequestBody::Form(form_pairs(&content)?)),
        BodyEncoding::Multipart => Ok(RequestBody::Multipart(parts(&content)?)),
    }
}

/// A body of `encoding` without fields: `{}`, an empty form, a multipart body without parts.
fn empty_body(encoding: BodyEncoding) -> RequestBody {
    match encoding {
        BodyEncoding::Json => RequestBody::Json(Value::Object(Map::new())),
        BodyEncoding::Form => RequestBody::Form(Vec::new()),
        BodyEncoding::Multipart => RequestBody::Multipart(Vec::new()),
    }
}

/// Form fields: scalars as text, arrays repeated, nested objects as JSON text.
fn form_pairs(content: &Value) -> Result<Vec<(String, String)>, Error> {
    let Value::Object(map) = content else {
        return Err(Error::input(
            "",
            "type",
            "a form body must be an object of fields",
        ));
    };
    let mut pairs = Vec::with_capacity(map.len());
    for (k, v) in map {
        match v {
            Value::Null => {}
            Value::Array(items) => pairs.extend(
                items
                    .iter()
                    .map(|i| (k.clone(), scalar(i).unwrap_or_else(|| i.to_string()))),
            ),
            Value::Object(_) => pairs.push((k.clone(), v.to_string())),
            other => pairs.push((k.clone(), scalar(other).unwrap_or_default())),
        }
    }
    Ok(pairs)
}

/// Multipart parts: scalars as text parts, `{contentBase64, filename?, contentType?}`
/// objects as file parts, other values as JSON parts.
fn parts(content: &Value) -> Result<Vec<Part>, Error> {
    let Value::Object(map) = content else {
        return Err(Error::input(
            "",
            "type",
            "a multipart body must be an object of fields",
        ));
    };
    let mut parts = Vec::with_capacity(map.len());
    for (name, v) in map {
        let part = match v {
            Value::Null => continue,
            Value::Object(file) if file.contains_key("contentBase64") => {
                let encoded = file
                    .get("contentBase64")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let content = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| {
                        Error::input(
                            &format!("{}/contentBase64", pointer(name)),
                            "contentEncoding",
                            format!("not base64: {e}"),
                        )
                    })?;
                Part {
                    name: name.clone(),
                    content,
                    filename: Some(
                        file.get("filename")
                            .and_then(Value::as_str)
                            .unwrap_or(name)
                            .to_owned(),
                    ),
                    content_type: file
                        .get("contentType")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                }
            }
            Value::Object(_) | Value::Array(_) => Part {
                name: name.clone(),
                content: v.to_string().into_bytes(),
                filename: None,
                content_type: Some("application/json".into()),
            },
            other => Part {
                name: name.clone(),
                content: scalar(other).unwrap_or_default().into_bytes(),
                filename: None,
                content_type: None,
            },
        };
        parts.push(part);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::model::{ActionDef, BodySpec, Defaults};

    fn compiled(def: ActionDef) -> CompiledAction {
        CompiledAction::compile(&Defaults::default(), def).unwrap()
    }

    fn action(method: &str, path: &str, params: &[(&str, ParamLocation)]) -> ActionDef {
        let mut a = ActionDef::new("a", method, path);
        a.parameters = params.iter().map(|(n, l)| Parameter::new(*n, *l)).collect();
        a
    }

    #[test]
    fn fills_path_query_headers_cookies_and_body() {
        let mut def = action(
            "POST",
            "/users/{id}/posts",
            &[
                ("id", ParamLocation::Path),
                ("tags", ParamLocation::Query),
                ("trace", ParamLocation::Header),
                ("sid", ParamLocation::Cookie),
            ],
        );
        def.parameters[2].wire_name = Some("X-Trace".into());
        let a = compiled(def);
        let input = json!({"id": "a b/c", "tags": ["x", "y z"], "trace": "t1", "sid": "s1", "title": "hi", "n": 2});
        let r = build(&a, Some(Base::text("https://api.test/v1/")), &input).unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://api.test/v1/users/a%20b%2Fc/posts?tags=x&tags=y+z"
        );
        assert_eq!(r.headers["x-trace"], "t1");
        assert_eq!(r.headers["cookie"], "sid=s1");
        assert_eq!(r.body, RequestBody::Json(json!({"title": "hi", "n": 2})));
    }

    #[test]
    fn query_styles() {
        let mut def = action(
            "GET",
            "/s",
            &[
                ("a", ParamLocation::Query),
                ("b", ParamLocation::Query),
                ("c", ParamLocation::Query),
                ("d", ParamLocation::Query),
            ],
        );
        def.parameters[0].explode = Some(false);
        def.parameters[1].style = Some(ParamStyle::PipeDelimited);
        def.parameters[2].style = Some(ParamStyle::DeepObject);
        let a = compiled(def);
        let r = build(
            &a,
            Some(Base::text("http://h")),
            &json!({"a": [1, 2], "b": ["x", "y"], "c": {"k": "v"}, "d": true}),
        )
        .unwrap();
        assert_eq!(r.url.query(), Some("a=1%2C2&b=x%7Cy&c%5Bk%5D=v&d=true"));
        assert_eq!(r.body, RequestBody::Empty);
    }

    #[test]
    fn form_multipart_and_body_field() {
        let mut def = action("POST", "/f", &[]);
        def.body = Some(BodySpec {
            encoding: BodyEncoding::Form,
            field: None,
            content_type: None,
            required: false,
        });
        let r = build(
            &compiled(def.clone()),
            Some(Base::text("http://h")),
            &json!({"To": "+1", "Media": ["a", "b"]}),
        )
        .unwrap();
        assert_eq!(
            r.body,
            RequestBody::Form(vec![
                ("Media".into(), "a".into()),
                ("Media".into(), "b".into()),
                ("To".into(), "+1".into())
            ])
        );

        def.body = Some(BodySpec {
            encoding: BodyEncoding::Multipart,
            field: None,
            content_type: None,
            required: false,
        });
        let r = build(
            &compiled(def.clone()),
            Some(Base::text("http://h")),
            &json!({"file": {"contentBase64": "aGk=", "filename": "a.txt"}, "note": "n"}),
        )
        .unwrap();
        let RequestBody::Multipart(parts) = r.body else {
            panic!()
        };
        assert_eq!(parts[0].content, b"hi");
        assert_eq!(parts[0].filename.as_deref(), Some("a.txt"));
        assert_eq!(parts[1].content, b"n");

        def.body = Some(BodySpec {
            encoding: BodyEncoding::Json,
            field: Some("items".into()),
            content_type: None,
            required: false,
        });
        let r = build(
            &compiled(def),
            Some(Base::text("http://h")),
            &json!({"items": [1, 2]}),
        )
        .unwrap();
        assert_eq!(r.body, RequestBody::Json(json!([1, 2])));
    }

    #[test]
    fn a_required_body_without_fields_is_sent_empty_in_its_encoding() {
        let mut def = action("POST", "/t/{id}", &[("id", ParamLocation::Path)]);
        let send = |def: &ActionDef, input: Value| {
            build(&compiled(def.clone()), Some(Base::text("http://h")), &input)
                .unwrap()
                .body
        };
        assert_eq!(send(&def, json!({"id": "1"})), RequestBody::Empty);
        for (encoding, empty) in [
            (BodyEncoding::Json, RequestBody::Json(json!({}))),
            (BodyEncoding::Form, RequestBody::Form(Vec::new())),
            (BodyEncoding::Multipart, RequestBody::Multipart(Vec::new())),
        ] {
            def.body = Some(BodySpec {
                encoding,
                field: None,
                content_type: None,
                required: true,
            });
            assert_eq!(send(&def, json!({"id": "1"})), empty, "{encoding:?}");
        }
        def.body = Some(BodySpec {
            encoding: BodyEncoding::Json,
            field: None,
            content_type: None,
            required: true,
        });
        assert_eq!(
            send(&def, json!({"id": "1", "name": "n"})),
            RequestBody::Json(json!({"name": "n"}))
        );
        def.body.as_mut().unwrap().required = false;
        assert_eq!(send(&def, json!({"id": "1"})), RequestBody::Empty);
    }

    #[test]
    fn explains_what_cannot_be_sent() {
        let a = compiled(action(
            "GET",
            "/u/{id}",
            &[("id", ParamLocation::Path), ("h", ParamLocation::Header)],
        ));
        let e = build(&a, Some(Base::text("http://h")), &json!({})).unwrap_err();
        assert_eq!(e.code(), "VALIDATION_ERROR");
        assert!(
            e.to_string().contains("path parameter 'id' is required"),
            "{e}"
        );
        let e = build(&a, Some(Base::text("http://h")), &json!({"id": {"x": {}}})).unwrap_err();
        assert!(e.to_string().contains("'id' must be a string"), "{e}");
        let e = build(
            &a,
            Some(Base::text("http://h")),
            &json!({"id": 1, "h": "a\nb"}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("header values"), "{e}");
        let e = build(&a, Some(Base::text("http://h")), &json!({"id": ".."})).unwrap_err();
        assert!(e.to_string().contains("cannot be '..'"), "{e}");
        let e = build(&a, None, &json!({"id": 1})).unwrap_err();
        assert_eq!(e.code(), "CONFIGURATION_ERROR");
    }

    #[test]
    fn a_parsed_base_makes_the_urls_its_text_makes() {
        let bases = [
            "https://api.test",
            "https://api.test/",
            "https://api.test/v1/",
            "http://h:8080/a%20b//c",
            "https://BÜCHER.example/x",
            "http://h/v1?key=k",
            "http://h/v1#top",
        ];
        let paths = [
            "/users/{id}",
            "",
            "/a b/{id}/%41",
            "/search?kind=x&q={id}",
            "/x/../up/{id}",
            "{id}",
        ];
        for base in bases {
            let parsed = parse_base(base);
            assert_eq!(
                parsed.is_some(),
                !base.contains(['?', '#']),
                "{base}: only bases without query or fragment take a path as it is"
            );
            for path in paths {
                let a = compiled(action("GET", path, &[("id", ParamLocation::Path)]));
                let input = json!({"id": "x y/z"});
                let url = |base| build(&a, Some(base), &input).map(|r| r.url.to_string());
                assert_eq!(
                    url(Base::parsed(base, parsed.as_ref())).ok(),
                    url(Base::text(base)).ok(),
                    "{base} + {path}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn any_path_value_stays_inside_its_segment(value in "\\PC*".prop_filter("dot segments are refused", |v| v != "." && v != "..")) {
            let a = compiled(action("GET", "/items/{id}/x", &[("id", ParamLocation::Path)]));
            let r = build(&a, Some(Base::text("http://h")), &json!({ "id": value })).unwrap();
            let segments: Vec<_> = r.url.path_segments().unwrap().collect();
            prop_assert_eq!(segments.len(), 3);
            let decoded = percent_encoding::percent_decode_str(segments[1]).decode_utf8().unwrap();
            prop_assert_eq!(decoded.as_ref(), value.as_str());
            prop_assert!(r.url.query().is_none());
        }
    }
}
