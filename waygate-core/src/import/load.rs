//! Loading documents: parsing JSON or YAML text, and the [`Loader`] that fetches
//! the documents external `$ref`s point to.

use serde_json::Value;
use url::Url;

use super::document::Document;
use super::error::{ImportError, ImportErrorKind};

/// Boxed error a [`Loader`] returns; it becomes the [`ImportError`]'s source.
pub type LoadError = Box<dyn std::error::Error + Send + Sync>;

/// Supplies the text of documents that external `$ref`s point to.
///
/// The importer asks for each document once (it caches what it parsed), with the
/// fragment removed. Closures `Fn(&Url) -> Result<String, LoadError>` are loaders, so
/// a caller can route remote refs through its own outbound URL policy:
///
/// ```
/// use waygate_core::import::{self, ImportOptions, LoadError};
///
/// let root = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    $ref: 'paths.yml#/a'\n";
/// let fetch = |url: &url::Url| -> Result<String, LoadError> {
///     match url.path() {
///         "/specs/paths.yml" => Ok("a: {get: {responses: {'200': {description: ok}}}}".into()),
///         other => Err(format!("not allowed: {other}").into()),
///     }
/// };
/// let base = url::Url::parse("https://example.com/specs/root.yml").unwrap();
/// let result = import::from_source(root, &base, &fetch, &ImportOptions::default()).unwrap();
/// assert_eq!(result.integration.actions.len(), 1);
/// ```
pub trait Loader {
    /// The text of the document at `url` (which has no fragment).
    ///
    /// # Errors
    /// Any reason the document cannot be supplied; the import fails naming the `$ref`.
    fn load(&self, url: &Url) -> Result<String, LoadError>;
}

impl<F> Loader for F
where
    F: Fn(&Url) -> Result<String, LoadError>,
{
    fn load(&self, url: &Url) -> Result<String, LoadError> {
        self(url)
    }
}

/// Reads `file:` URLs from the local file system and refuses every other scheme.
///
/// Used by [`from_file`](super::from_file): a multi-file specification on disk may
/// refer to any file the importing user can read.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileLoader;

impl Loader for FileLoader {
    fn load(&self, url: &Url) -> Result<String, LoadError> {
        if url.scheme() != "file" {
            return Err(format!("remote $ref to {url} needs a loader that may fetch it").into());
        }
        let path = url
            .to_file_path()
            .map_err(|()| format!("{url} is not a local file path"))?;
        Ok(std::fs::read_to_string(path)?)
    }
}

/// Refuses every external document: only `#/…` refs inside the root document resolve.
///
/// Used by [`from_str`](super::from_str) and [`from_value`](super::from_value), whose
/// text may come from an untrusted caller: resolving its relative refs against the
/// server's file system would disclose local files.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLoader;

impl Loader for NoLoader {
    fn load(&self, url: &Url) -> Result<String, LoadError> {
        Err(format!("external $ref to {url} is not allowed here (single-document import; use from_file or from_source with a loader)")
            .into())
    }
}

/// Parses JSON or YAML text, within the [`limits`](crate::limits); text
/// starting with `{` or `[` is read as JSON, its shared parts deferred
/// (see `document`).
///
/// # Errors
/// A [`ImportErrorKind::Syntax`] error with the line and column the parser
/// reports, or [`ImportErrorKind::TooLarge`] naming the limit.
pub(super) fn parse(text: &str, file: Option<String>) -> Result<Document, ImportError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with(['{', '[']) {
        let over = |e: crate::limits::LimitError, file: Option<String>| {
            ImportError::new(ImportErrorKind::TooLarge, e.message())
                .in_file(file)
                .at_line(e.line(), e.column())
        };
        crate::limits::check_size(trimmed.len()).map_err(|e| over(e, file.clone()))?;
        // serde_json refuses nesting past its own recursion limit (128, as
        // ours), so the nesting scan, a pass over the whole text, is paid only
        // by a document that fails to parse: it tells a document too deep from
        // one with a syntax error (decision 85).
        return Document::parse_json(trimmed).map_err(|e| {
            if let Err(limit) = crate::limits::check_json_text(trimmed) {
                return over(limit, file);
            }
            let line = (e.line() > 0).then_some(e.line());
            ImportError::new(ImportErrorKind::Syntax, format!("invalid JSON: {e}"))
                .in_file(file)
                .at_line(line, line.map(|_| e.column()))
        });
    }
    parse_yaml(trimmed, file).map(Document::from)
}

#[cfg(not(feature = "yaml"))]
fn parse_yaml(_: &str, file: Option<String>) -> Result<Value, ImportError> {
    Err(ImportError::new(
        ImportErrorKind::Syntax,
        "the document is not JSON, and this build reads no YAML \
         (waygate-core's `yaml` feature is off): send the description as JSON",
    )
    .in_file(file))
}

#[cfg(feature = "yaml")]
fn parse_yaml(trimmed: &str, file: Option<String>) -> Result<Value, ImportError> {
    crate::limits::from_yaml::<Lenient>(trimmed, true)
        .map(|l| l.0)
        .map_err(|e| {
            let (message, line, column) = e.parts();
            let (kind, message) = match e {
                crate::limits::YamlError::Limit(_) => (ImportErrorKind::TooLarge, message),
                crate::limits::YamlError::Parse(_) => {
                    (ImportErrorKind::Syntax, format!("invalid YAML: {message}"))
                }
            };
            ImportError::new(kind, message)
                .in_file(file)
                .at_line(line, column)
        })
}

/// A JSON value read from YAML, where integers beyond 64 bits (`maximum:
/// 18446744073709552000`) become floats and non-string keys (`200:`) strings,
/// instead of failing as `serde_json::Value` does.
#[cfg(feature = "yaml")]
struct Lenient(Value);

#[cfg(feature = "yaml")]
impl<'de> serde::Deserialize<'de> for Lenient {
    // Depth is bounded by the YAML budget (`limits::MAX_DEPTH`) before this recursion.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor).map(Lenient)
    }
}

#[cfg(feature = "yaml")]
struct LenientVisitor;

#[cfg(feature = "yaml")]
impl<'de> serde::de::Visitor<'de> for LenientVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or_else(|_| Value::from(v as f64), Value::from))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or_else(|_| Value::from(v as f64), Value::from))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // NaN and infinities have no JSON form.
        Ok(serde_json::Number::from_f64(v)
            .map_or_else(|| Value::String(v.to_string()), Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Lenient(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(Lenient(key)) = map.next_key()? {
            let key = match key {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let Lenient(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        use serde::de::VariantAccess;
        // A tagged YAML value (`!tag x`): keep the value, drop the tag.
        let (Lenient(_tag), variant) = data.variant::<Lenient>()?;
        variant.newtype_variant::<Lenient>().map(|l| l.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "yaml")]
    #[test]
    fn detects_json_and_yaml() {
        let tree = |text: &str| Value::clone(parse(text, None).unwrap().root());
        assert_eq!(tree("{\"a\": 1}"), serde_json::json!({"a": 1}));
        assert_eq!(
            tree("a: 1\nb: [x]"),
            serde_json::json!({"a": 1, "b": ["x"]})
        );
        let odd =
            tree("200: {max: 18446744073709552000, min: -170141183460469231731687303715884105728}");
        assert_eq!(odd["200"]["max"], serde_json::json!(18446744073709552000.0));
        assert!(odd["200"]["min"].is_f64());
        assert_eq!(
            tree("maximum: .inf\nminimum: -.inf"),
            serde_json::json!({"maximum": ".inf", "minimum": "-.inf"})
        );
    }

    #[cfg(not(feature = "yaml"))]
    #[test]
    fn without_the_yaml_feature_yaml_is_refused_saying_so() {
        let e = parse("openapi: 3.0.0", Some("spec.yaml".into()))
            .err()
            .unwrap();
        assert_eq!(
            (e.kind(), e.file()),
            (ImportErrorKind::Syntax, Some("spec.yaml"))
        );
        assert!(e.to_string().contains("`yaml` feature"), "{e}");
        assert!(parse("{\"openapi\": \"3.0.0\"}", None).is_ok());
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn syntax_errors_carry_the_line() {
        let e = parse("{\n\"a\": ,\n}", Some("x.json".into()))
            .err()
            .unwrap();
        assert_eq!(
            (e.kind(), e.line(), e.file()),
            (ImportErrorKind::Syntax, Some(2), Some("x.json"))
        );
        let e = parse("a: 1\nb: [\n", None).err().unwrap();
        assert_eq!(e.kind(), ImportErrorKind::Syntax);
        assert!(e.line().is_some());
    }

    #[test]
    fn no_loader_refuses() {
        let e = NoLoader
            .load(&Url::parse("file:///etc/passwd").unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("not allowed"));
    }
}
