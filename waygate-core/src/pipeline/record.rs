//! Step 12, record: a sanitized request log entry handed to a [`LogSink`],
//! which must not block the caller (DESIGN.md §3).
//!
//! Redaction works twice over: by name (auth headers, the auth spec's key name,
//! well-known secret fields) and by value (every secret string the credential
//! holds, wherever it appears), so a secret echoed in an odd place is still caught.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

use super::request::{HttpRequest, RequestBody};
use crate::credential::Credential;
use crate::model::{ApiKeyLocation, AuthSpec};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Response bodies are kept up to this many bytes in a log entry.
const RESPONSE_PREVIEW_BYTES: usize = 4096;

const SECRET_HEADERS: [&str; 8] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-access-token",
];

const SECRET_FIELDS: [&str; 10] = [
    "password",
    "passwd",
    "token",
    "secret",
    "client_secret",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "id_token",
];

/// A request as it may be shown and stored: secrets replaced by `[REDACTED]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPreview {
    /// The method.
    pub method: String,
    /// The URL with secret query values redacted.
    pub url: String,
    /// Headers, secret ones redacted.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON as JSON, form fields as an object, multipart as a list of parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// Knows what to hide for one call.
#[derive(Debug)]
pub(crate) struct Redactor<'a> {
    secrets: Vec<Cow<'a, str>>,
    key_name: Option<(&'a str, ApiKeyLocation)>,
}

impl<'a> Redactor<'a> {
    /// Hides the credential's secrets, and the forms they take on the wire (an
    /// upstream that echoes `Authorization: Basic …` echoes the encoded pair).
    pub(crate) fn for_credential(auth: &'a AuthSpec, credential: &'a Credential) -> Self {
        let mut secrets: Vec<Cow<'a, str>> = credential
            .secrets()
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        secrets.extend(credential.wire_secrets().into_iter().map(Cow::Owned));
        Self::new(auth, secrets)
    }

    pub(crate) fn new(auth: &'a AuthSpec, secrets: Vec<Cow<'a, str>>) -> Self {
        let key_name = match auth {
            AuthSpec::ApiKey { location, name, .. } => Some((name.as_str(), *location)),
            _ => None,
        };
        // Very short secrets would redact innocent text and reveal little anyway.
        let secrets = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        Self { secrets, key_name }
    }

    /// Compared without allocating: this runs for every field of every
    /// logged body.
    fn is_secret_field(&self, name: &str) -> bool {
        let listed = |list: &[&str]| list.iter().any(|s| s.eq_ignore_ascii_case(name));
        listed(&SECRET_FIELDS)
            // A JSON object of echoed headers names them as fields.
            || listed(&SECRET_HEADERS)
            || ends_with_ignore_case(name, "_token")
            || ends_with_ignore_case(name, "password")
            || self
                .key_name
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Replaces every known secret value in `text`; borrows it when none is there.
    pub(crate) fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_ref()) {
                out = Cow::Owned(out.replace(s.as_ref(), REDACTED));
            }
        }
        out
    }

    /// A JSON value with secret fields and secret values redacted.
    pub(crate) fn value(&self, v: &Value) -> Value {
        // Infallible: a JSON value's keys are strings.
        serde_json::to_value(Redacted(v, self)).unwrap_or(Value::Null)
    }

    pub(crate) fn request(&self, r: &HttpRequest) -> RequestPreview {
        let mut url = r.url.clone();
        if url.query().is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if self.is_secret_field(&k) {
                        REDACTED.to_owned()
                    } else {
                        self.scrub(&v).into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        let headers = r
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = value.is_sensitive()
                    || SECRET_HEADERS.contains(&name.as_str())
                    || self.key_name.is_some_and(|(n, loc)| {
                        loc == ApiKeyLocation::Header && n.eq_ignore_ascii_case(name.as_str())
                    });
                let text = if secret {
                    REDACTED.to_owned()
                } else {
                    self.scrub(&String::from_utf8_lossy(value.as_bytes()))
                        .into_owned()
                };
                (name.as_str().to_owned(), text)
            })
            .collect();
        let body = match &r.body {
            RequestBody::Empty => None,
            RequestBody::Json(v) => Some(self.value(v)),
            RequestBody::Form(pairs) => {
                let map = pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                Some(self.value(&Value::Object(map)))
            }
            RequestBody::Multipart(parts) => Some(Value::Array(
                parts
                    .iter()
                    .map(|p| {
                        serde_json::json!({"name": p.name, "filename": p.filename, "contentType": p.content_type, "bytes": p.content.len()})
                    })
                    .collect(),
            )),
            RequestBody::Raw { content_type, bytes } => Some(serde_json::json!({"contentType": content_type, "bytes": bytes.len()})),
        };
        RequestPreview {
            method: r.method.to_string(),
            url: self.scrub(url.as_str()).into_owned(),
            headers,
            body,
        }
    }

    /// A response body, redacted and cut to a preview.
    pub(crate) fn response(&self, data: &Value) -> String {
        // Infallible, as for `value`; redacted while written, not copied first.
        let mut text = serde_json::to_string(&Redacted(data, self)).unwrap_or_default();
        if text.len() > RESPONSE_PREVIEW_BYTES {
            let mut cut = RESPONSE_PREVIEW_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }
}

/// A JSON value as it may be shown: secret fields and values are redacted as
/// it is serialised, so logging a response does not copy it first.
#[derive(Clone, Copy)]
struct Redacted<'s>(&'s Value, &'s Redactor<'s>);

impl Serialize for Redacted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let Self(value, redactor) = *self;
        match value {
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    if redactor.is_secret_field(k) && !v.is_object() {
                        out.serialize_entry(k, REDACTED)?;
                    } else {
                        out.serialize_entry(k, &Redacted(v, redactor))?;
                    }
                }
                out.end()
            }
            Value::Array(items) => {
                serializer.collect_seq(items.iter().map(|item| Redacted(item, redactor)))
            }
            Value::String(text) => serializer.serialize_str(&redactor.scrub(text)),
            other => other.serialize(serializer),
        }
    }
}

fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// One invocation, as logged.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The invocation's request id.
    pub request_id: String,
    /// The tenant.
    pub tenant: String,
    /// Integration slug.
    pub integration: String,
    /// Action slug.
    pub action: String,
    /// Connection name, when one was resolved.
    pub connection: Option<String>,
    /// When the invocation started.
    #[serde(serialize_with = "rfc3339")]
    pub started_at: SystemTime,
    /// How long it took.
    #[serde(rename = "durationMs", serialize_with = "millis")]
    pub duration: Duration,
    /// Requests sent upstream.
    pub attempts: u32,
    /// The last upstream status.
    pub upstream_status: Option<u16>,
    /// `None` on success, else the error code.
    pub error_code: Option<String>,
    /// The (last) request sent, sanitized.
    pub request: Option<RequestPreview>,
    /// The response body or error details, sanitized and truncated.
    pub response: Option<String>,
}

fn rfc3339<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::format_rfc3339(*t))
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// Where log entries go. `record` is called on the invocation's task, so it must
/// return at once: queue the entry, never write it inline.
pub trait LogSink: Send + Sync + 'static {
    /// Takes one entry.
    fn record(&self, entry: LogEntry);
}

/// Keeps the latest entries in memory (a ring buffer), for embedded use and tests.
#[derive(Debug)]
pub struct MemoryLogSink {
    entries: Mutex<VecDeque<LogEntry>>,
    capacity: usize,
    evicted: AtomicU64,
}

impl MemoryLogSink {
    /// A sink holding the latest `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity: capacity.max(1),
            evicted: AtomicU64::new(0),
        }
    }

    /// The entries held, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries
            .lock()
            .expect("log sink lock poisoned")
            .iter()
            .cloned()
            .collect()
    }

    /// How many entries were pushed out by newer ones.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }
}

impl LogSink for MemoryLogSink {
    fn record(&self, entry: LogEntry) {
        let mut entries = self.entries.lock().expect("log sink lock poisoned");
        if entries.len() == self.capacity {
            entries.pop_front();
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        entries.push_back(entry);
    }
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    #[test]
    fn hides_secrets_by_name_and_by_value() {
        let auth = AuthSpec::ApiKey {
            location: ApiKeyLocation::Query,
            name: "key".into(),
            prefix: None,
        };
        let r = Redactor::new(&auth, vec!["s3cr3t-value".into()]);
        let mut req = HttpRequest::new(
            Method::POST,
            "http://h/p?key=s3cr3t-value&q=ok&token=t0k"
                .parse()
                .unwrap(),
        );
        req.headers
            .insert("authorization", HeaderValue::from_static("Bearer abc"));
        req.headers
            .insert("x-echo", HeaderValue::from_static("prefix-s3cr3t-value"));
        req.body = RequestBody::Json(
            json!({"password": "pw", "nested": {"refresh_token": "rt", "note": "has s3cr3t-value"}}),
        );
        let p = r.request(&req);
        assert_eq!(
            p.url,
            "http://h/p?key=%5BREDACTED%5D&q=ok&token=%5BREDACTED%5D"
        );
        assert_eq!(p.headers["authorization"], REDACTED);
        assert_eq!(p.headers["x-echo"], "prefix-[REDACTED]");
        assert_eq!(
            p.body,
            Some(
                json!({"password": REDACTED, "nested": {"refresh_token": REDACTED, "note": "has [REDACTED]"}})
            )
        );
        let text = serde_json::to_string(&p).unwrap();
        for secret in ["s3cr3t-value", "abc", "\"pw\"", "rt\"", "t0k"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        // A response, as logged: names matched in any case, arrays walked,
        // objects under a secret-looking name kept and searched.
        let echoed = json!({"User_Password": "pw", "items": [{"Access_Token": "at"},
            "s3cr3t-value!", 7], "token": {"kind": "opaque"}, "ok": true});
        let logged: Value = serde_json::from_str(&r.response(&echoed)).unwrap();
        let expected = json!({"User_Password": REDACTED, "items": [{"Access_Token": REDACTED},
            "[REDACTED]!", 7], "token": {"kind": "opaque"}, "ok": true});
        assert_eq!(logged, expected);
        assert_eq!(r.value(&echoed), expected);
    }

    #[test]
    fn the_memory_sink_keeps_the_latest() {
        let sink = MemoryLogSink::new(2);
        for i in 0..3 {
            sink.record(LogEntry {
                request_id: i.to_string(),
                tenant: "t".into(),
                integration: "i".into(),
                action: "a".into(),
                connection: None,
                started_at: SystemTime::UNIX_EPOCH,
                duration: Duration::ZERO,
                attempts: 1,
                upstream_status: None,
                error_code: None,
                request: None,
                response: None,
            });
        }
        let ids: Vec<_> = sink.entries().into_iter().map(|e| e.request_id).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(sink.evicted(), 1);
    }
}
