//! One typed operation of an integration and its HTTP binding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::mapping::Mappings;
use super::policy::RetryConfig;

/// One operation of an integration, addressed as `{integration}.{slug}`.
///
/// Input fields named in [`parameters`](Self::parameters) go to the path, query,
/// headers or cookies; the remaining fields form the body (see [`BodySpec`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionDef {
    /// Unique within the integration: letters, digits, `_`, `-` and `.`.
    pub slug: String,
    /// Human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the action does, written for people and LLM agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Grouping for listings (the first OpenAPI tag, for instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template relative to the base URL, with `{param}` placeholders.
    pub path: String,
    /// The action's own server (OpenAPI's per-path or per-operation `servers`),
    /// instead of the integration's base URL. A connection's `baseUrl` replaces
    /// only the integration's default server, never this one (decision 67).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Input fields that do not go into the body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// How the remaining input fields are encoded; JSON when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySpec>,
    /// JSON Schema of the input, self-contained (`$defs` allowed).
    #[serde(default = "any_object")]
    pub input_schema: Value,
    /// JSON Schema of the successful response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// How to fetch further pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<PaginationSpec>,
    /// Overrides of the integration's retry defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
    /// Overrides the integration's timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Response caching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSpec>,
    /// How strictly responses are checked against the output schema; `warn`
    /// when unset. `validation: strict` or `validation: {mode: strict, stripUnknown: true}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<ValidationSpec>,
    /// Field mappings of the input (before validation) and of the output
    /// (after response validation): the integration's defaults for this
    /// action, which a connection's own mappings replace.
    #[serde(default, skip_serializing_if = "Mappings::is_empty")]
    pub mappings: Mappings,
    /// Whether repeating the call is safe; by method when unset (GET, HEAD,
    /// OPTIONS, PUT and DELETE are idempotent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// The upstream takes an idempotency key in the integration's idempotency
    /// header (Stripe's `Idempotency-Key`): when the caller gives none, one is
    /// generated per request and kept across its retries, so a write is
    /// retried safely.
    #[serde(default, skip_serializing_if = "is_false")]
    pub idempotency_key: bool,
    /// The upstream marks this operation as deprecated.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// Anything else worth keeping about the action (source, confidence, scopes…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, Value>,
    /// The integration's auth schemes this action accepts, by name (`default`
    /// is the integration's `auth`); empty: every one. A call through a
    /// connection that uses another scheme is refused before anything is sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_schemes: Vec<String>,
}

fn any_object() -> Value {
    serde_json::json!({"type": "object"})
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ActionDef {
    /// An action with a slug, method and path, taking any object as input.
    pub fn new(
        slug: impl Into<String>,
        method: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            slug: slug.into(),
            name: None,
            description: None,
            group: None,
            method: method.into().to_ascii_uppercase(),
            path: path.into(),
            base_url: None,
            parameters: Vec::new(),
            body: None,
            input_schema: any_object(),
            output_schema: None,
            pagination: None,
            retry: None,
            timeout_ms: None,
            cache: None,
            validation: None,
            mappings: Mappings::default(),
            idempotent: None,
            idempotency_key: false,
            deprecated: false,
            metadata: BTreeMap::new(),
            auth_schemes: Vec::new(),
        }
    }

    /// Whether the call may be repeated safely, from `idempotent` or else the method.
    pub fn is_idempotent(&self) -> bool {
        let safe_method = matches!(
            self.method.as_str(),
            "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE"
        );
        self.idempotent.unwrap_or(safe_method)
    }
}

/// An input field bound to the path, query, a header or a cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameter {
    /// The input field's name.
    pub name: String,
    /// Where the value goes.
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// The name on the wire when it differs from the input field's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_name: Option<String>,
    /// OpenAPI serialisation style for arrays and objects; `form` for query and
    /// cookies, `simple` for path and headers when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ParamStyle>,
    /// Whether arrays and objects are exploded; `true` for `form`, else `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
    /// Whether the field must be present (path parameters always are).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Filled from the connection's credential (its API key or token), not from
    /// the input: for APIs that want the token as a parameter too (Slack's
    /// required `token`). Never in the input schema; redacted in logs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub credential: bool,
}

impl Parameter {
    /// A parameter whose input field and wire names are the same.
    pub fn new(name: impl Into<String>, location: ParamLocation) -> Self {
        Self {
            name: name.into(),
            location,
            wire_name: None,
            style: None,
            explode: None,
            required: location == ParamLocation::Path,
            credential: false,
        }
    }

    /// The name sent upstream.
    pub fn wire_name(&self) -> &str {
        self.wire_name.as_deref().unwrap_or(&self.name)
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    /// A `{placeholder}` of the path template.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// The `Cookie` header.
    Cookie,
}

/// OpenAPI parameter serialisation styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ParamStyle {
    /// `a=1&a=2` (exploded) or `a=1,2`.
    Form,
    /// `1,2` (path and headers).
    Simple,
    /// `a=1%202`.
    SpaceDelimited,
    /// `a=1|2`.
    PipeDelimited,
    /// `a[x]=1&a[y]=2`.
    DeepObject,
}

/// How the body is encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BodySpec {
    /// The encoding.
    pub encoding: BodyEncoding,
    /// Send this one input field as the whole body (for array or scalar bodies),
    /// instead of the object of remaining fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Content type when it differs from the encoding's usual one
    /// (e.g. `application/merge-patch+json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The upstream requires a body (OpenAPI's `requestBody.required`): when no
    /// input field lands in it, an empty one of the encoding is sent (`{}` for
    /// JSON, an empty form or multipart body), never none.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

/// Body encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`; a field whose value is an object with
    /// `contentBase64` becomes a file part (`filename` and `contentType` optional).
    Multipart,
}

/// How to follow pages (executed by the pagination step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaginationSpec {
    /// The pagination style.
    pub strategy: PaginationStrategy,
    /// JSON pointer to the page's items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_path: Option<String>,
    /// Cursor: JSON pointer to the next cursor in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_path: Option<String>,
    /// Cursor: response header that carries the next cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_header: Option<String>,
    /// Cursor: JSON pointer into the page's **last item** to the next cursor,
    /// for APIs whose cursor is an item's id (Stripe's `starting_after`: `/id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_item_path: Option<String>,
    /// Cursor: the input field that sends the cursor back. It lands where the
    /// action binds that field: a query parameter, or the body of a POST-style API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_param: Option<String>,
    /// Offset: the input field of the offset (items to skip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_param: Option<String>,
    /// Page: the input field of the page number (from the input, else 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_param: Option<String>,
    /// Any strategy: the input field of the page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_param: Option<String>,
    /// Next URL: JSON pointer to the next page's URL (absolute, or relative to
    /// the page's own URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_url_path: Option<String>,
    /// Any strategy: JSON pointer to a boolean; `false` means this was the
    /// last page (Stripe's `has_more`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more_path: Option<String>,
    /// Page size to ask for (sent in `limitParam` unless the input sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// How sure an importer was of this guess, 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// Pagination styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStrategy {
    /// An opaque cursor from the response, sent back as a parameter.
    Cursor,
    /// Offset and limit.
    Offset,
    /// Page number and page size.
    Page,
    /// RFC 8288 `Link: <…>; rel="next"`.
    Link,
    /// A full URL of the next page in the response body.
    NextUrl,
}

/// Response caching for actions without side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CacheSpec {
    /// How long a response stays fresh.
    pub ttl_seconds: u64,
}

/// Response validation modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationMode {
    /// A response that breaks the output schema is an error.
    Strict,
    /// It is returned, with the problems in the result's metadata.
    #[default]
    Warn,
    /// It is coerced where possible and returned.
    Lenient,
}

/// Response validation settings: a mode, and whether fields the output schema
/// does not list are removed. Written as the plain mode (`validation: warn`)
/// or as an object (`validation: {mode: warn, stripUnknown: true}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidationSpec {
    /// What a mismatch does.
    pub mode: ValidationMode,
    /// Remove object fields the output schema's `properties` do not list
    /// (where it declares `properties` and no `additionalProperties` schema).
    pub strip_unknown: bool,
}

impl ValidationSpec {
    /// The spec of a mode, unknown fields kept.
    pub fn mode(mode: ValidationMode) -> Self {
        Self {
            mode,
            strip_unknown: false,
        }
    }
}

/// The object form of [`ValidationSpec`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ValidationObject {
    #[serde(default)]
    mode: ValidationMode,
    #[serde(default)]
    strip_unknown: bool,
}

impl Serialize for ValidationSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.strip_unknown {
            ValidationObject {
                mode: self.mode,
                strip_unknown: true,
            }
            .serialize(s)
        } else {
            self.mode.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for ValidationSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: serde's errors then name
        // the unknown mode or field instead of "did not match any variant".
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ValidationSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a validation mode (strict, warn, lenient) or {mode, stripUnknown}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let mode = ValidationMode::deserialize(serde::de::value::StrDeserializer::new(v))?;
                Ok(ValidationSpec::mode(mode))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let o = ValidationObject::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(ValidationSpec {
                    mode: o.mode,
                    strip_unknown: o.strip_unknown,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}
