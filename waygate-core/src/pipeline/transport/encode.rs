//! An [`HttpRequest`] on the wire: the body encoded once per attempt into bytes
//! (JSON, form, multipart or raw), the headers every upstream expects added
//! when the request has none of its own.

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request, Uri};
use url::Url;

use super::super::request::{Part, RequestBody};
use crate::error::Error;

/// The `User-Agent` sent unless the request sets one: some APIs (GitHub's)
/// refuse requests without it.
const DEFAULT_USER_AGENT: &str = concat!("waygate/", env!("CARGO_PKG_VERSION"));

/// A request body encoded for the wire, with the content type it implies.
#[derive(Debug, Clone)]
pub(super) struct EncodedBody {
    pub(super) content_type: ContentType,
    pub(super) bytes: Bytes,
}

/// The content type an encoded body goes with.
#[derive(Debug, Clone)]
pub(super) enum ContentType {
    /// No body, no content type.
    None,
    /// Sent unless the request names its own (an action's `application/vnd…+json`).
    Default(HeaderValue),
    /// Sent whatever the request says: the bytes are framed for it (a multipart
    /// boundary) or were produced for it.
    Fixed(HeaderValue),
}

impl EncodedBody {
    pub(super) const EMPTY: Self = Self {
        content_type: ContentType::None,
        bytes: Bytes::new(),
    };
}

/// Encodes `body`.
///
/// # Errors
/// `VALIDATION_ERROR` for a multipart part whose content type is not a media type.
pub(super) fn body(body: &RequestBody) -> Result<EncodedBody, Error> {
    Ok(match body {
        RequestBody::Empty => EncodedBody::EMPTY,
        RequestBody::Json(v) => EncodedBody {
            content_type: ContentType::Default(HeaderValue::from_static("application/json")),
            bytes: Bytes::from(serde_json::to_vec(v).expect("a JSON value always serialises")),
        },
        RequestBody::Form(pairs) => EncodedBody {
            content_type: ContentType::Fixed(HeaderValue::from_static(
                "application/x-www-form-urlencoded",
            )),
            bytes: Bytes::from(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish(),
            ),
        },
        RequestBody::Multipart(parts) => multipart(parts)?,
        RequestBody::Raw {
            content_type,
            bytes,
        } => EncodedBody {
            content_type: ContentType::Fixed(HeaderValue::from_str(content_type).map_err(
                |_| Error::config(format!("'{content_type}' is not a valid content type")),
            )?),
            bytes: bytes.clone(),
        },
    })
}

/// `multipart/form-data` (RFC 7578) with a random boundary.
fn multipart(parts: &[Part]) -> Result<EncodedBody, Error> {
    let boundary = format!("waygate-{:032x}", rand::random::<u128>());
    let mut out = BytesMut::new();
    for p in parts {
        if let Some(ct) = &p.content_type
            && !is_media_type(ct)
        {
            return Err(Error::input(
                &format!("/{}", p.name),
                "contentType",
                format!("'{ct}' is not a media type"),
            ));
        }
        out.put_slice(b"--");
        out.put_slice(boundary.as_bytes());
        out.put_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.put_slice(quoted(&p.name).as_bytes());
        out.put_slice(b"\"");
        if let Some(name) = &p.filename {
            out.put_slice(b"; filename=\"");
            out.put_slice(quoted(name).as_bytes());
            out.put_slice(b"\"");
        }
        out.put_slice(b"\r\n");
        let content_type = match (&p.content_type, &p.filename) {
            (Some(ct), _) => Some(ct.as_str()),
            (None, Some(_)) => Some("application/octet-stream"),
            (None, None) => None,
        };
        if let Some(ct) = content_type {
            out.put_slice(b"Content-Type: ");
            out.put_slice(ct.as_bytes());
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"\r\n");
        out.put_slice(&p.content);
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"--");
    out.put_slice(boundary.as_bytes());
    out.put_slice(b"--\r\n");
    let content_type = HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
        .expect("the boundary is visible ASCII");
    Ok(EncodedBody {
        content_type: ContentType::Fixed(content_type),
        bytes: out.freeze(),
    })
}

/// `type/subtype` with optional parameters, in visible ASCII: what may follow
/// `Content-Type:` in a part without breaking the part's headers.
fn is_media_type(text: &str) -> bool {
    let essence = text.split(';').next().unwrap_or("").trim();
    let Some((kind, sub)) = essence.split_once('/') else {
        return false;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    token(kind) && token(sub) && text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// A name inside a quoted `Content-Disposition` parameter: quotes and line
/// breaks percent-encoded, as browsers do (RFC 7578 §4.2).
fn quoted(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The request for one hop to `url` with an encoded body.
///
/// # Errors
/// `CONFIGURATION_ERROR` when the URL is not a valid request target.
pub(super) fn request(
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    request_id: &HeaderValue,
    body: &EncodedBody,
) -> Result<Request<Bytes>, Error> {
    let uri = Uri::try_from(url.as_str())
        .map_err(|e| Error::config(format!("the request cannot be built: {e}")))?;
    let mut request = Request::new(body.bytes.clone());
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri;
    let wire = request.headers_mut();
    wire.reserve(headers.len() + 4);
    for (name, value) in headers {
        wire.append(name, value.clone());
    }
    match &body.content_type {
        ContentType::None => {}
        ContentType::Default(ct) => {
            if !wire.contains_key(CONTENT_TYPE) {
                wire.insert(CONTENT_TYPE, ct.clone());
            }
        }
        ContentType::Fixed(ct) => {
            wire.insert(CONTENT_TYPE, ct.clone());
        }
    }
    if !wire.contains_key(ACCEPT) {
        wire.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    if !wire.contains_key(USER_AGENT) {
        wire.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    wire.insert("x-request-id", request_id.clone());
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, content: &[u8], filename: Option<&str>, ct: Option<&str>) -> Part {
        Part {
            name: name.into(),
            content: content.to_vec(),
            filename: filename.map(Into::into),
            content_type: ct.map(Into::into),
        }
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let encoded = body(&RequestBody::Form(vec![
            ("a b".into(), "x&y=z".into()),
            ("ü".into(), "1".into()),
        ]))
        .unwrap();
        assert_eq!(&encoded.bytes[..], b"a+b=x%26y%3Dz&%C3%BC=1");
        assert!(matches!(encoded.content_type,
            ContentType::Fixed(ct) if ct == "application/x-www-form-urlencoded"));
    }

    #[test]
    fn multipart_bodies_frame_every_part_with_one_boundary() {
        let encoded = body(&RequestBody::Multipart(vec![
            part("note", b"hello", None, None),
            part("file", b"\x00\x01", Some("a\"b.bin"), None),
            part("doc", b"{}", Some("d.json"), Some("application/json")),
        ]))
        .unwrap();
        let ContentType::Fixed(ct) = encoded.content_type else {
            panic!("a multipart body fixes its content type");
        };
        let boundary = ct.to_str().unwrap().split("boundary=").nth(1).unwrap();
        let text = String::from_utf8_lossy(&encoded.bytes).into_owned();
        assert_eq!(text.matches(&format!("--{boundary}\r\n")).count(), 3);
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        assert!(text.contains("name=\"note\"\r\n\r\nhello\r\n"));
        assert!(text.contains(
            "name=\"file\"; filename=\"a%22b.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ));
        assert!(text.contains("filename=\"d.json\"\r\nContent-Type: application/json\r\n\r\n{}"));
    }

    #[test]
    fn a_part_content_type_that_could_break_the_framing_is_refused() {
        for bad in ["text", "text/plain\r\nX-Evil: 1", "/plain", "a b/c"] {
            let err = body(&RequestBody::Multipart(vec![part(
                "f",
                b"x",
                None,
                Some(bad),
            )]))
            .unwrap_err();
            assert_eq!(err.code(), "VALIDATION_ERROR", "{bad:?}");
        }
        assert!(is_media_type("text/plain; charset=utf-8"));
    }

    #[test]
    fn the_request_keeps_its_own_headers_and_adds_the_expected_ones() {
        let url = Url::parse("https://api.example.com/v1/x?q=1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.append("x-multi", HeaderValue::from_static("1"));
        headers.append("x-multi", HeaderValue::from_static("2"));
        let encoded = body(&RequestBody::Json(serde_json::json!({"a": 1}))).unwrap();
        let id = HeaderValue::from_static("req-1");
        let r = request(&Method::POST, &url, &headers, &id, &encoded).unwrap();
        assert_eq!(r.uri(), "https://api.example.com/v1/x?q=1");
        assert_eq!(r.headers()[ACCEPT], "application/json");
        assert_eq!(r.headers().get_all("x-multi").iter().count(), 2);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()["x-request-id"], "req-1");
        assert!(
            r.headers()[USER_AGENT]
                .to_str()
                .unwrap()
                .starts_with("waygate/")
        );
    }
}
