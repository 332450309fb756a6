//! Step 8a, transport: one attempt over reqwest, with the total timeout, a cap
//! on the response size, and errors that tell connect failures (nothing sent)
//! from failures after sending, and never carry a URL (it may hold a key).

use std::error::Error as _;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;

use super::request::{HttpRequest, RequestBody};
use crate::error::{Error, ErrorKind, TimeoutPhase};
use crate::url_policy::Refused;

/// An upstream answer, body read in full.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

impl UpstreamResponse {
    /// The body as JSON when it parses as JSON, else as a string (lossy UTF-8),
    /// or `null` when empty.
    pub fn data(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }
}

/// The HTTP client and its limits.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) client: reqwest::Client,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_body: usize,
}

impl Transport {
    /// Sends one attempt.
    pub(crate) async fn send(
        &self,
        request: &HttpRequest,
        request_id: &HeaderValue,
        timeout: Duration,
    ) -> Result<UpstreamResponse, Error> {
        let built = to_reqwest(&self.client, request, request_id).map_err(|e| self.error(e))?;
        let max_body = self.max_body;
        let exchange = async {
            let mut response = self
                .client
                .execute(built)
                .await
                .map_err(|e| self.error(e.into()))?;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.error(e.into()))? {
                if body.len() + chunk.len() > max_body {
                    return Err(Error::new(ErrorKind::Transport {
                        message: format!("the response body exceeds the limit of {max_body} bytes"),
                    })
                    .sent());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(UpstreamResponse {
                status,
                headers,
                body: body.freeze(),
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(ErrorKind::Timeout {
                phase: TimeoutPhase::Total,
                after: timeout,
            })
            .sent()),
        }
    }

    /// Maps a reqwest error to ours, deciding whether the request may have been sent.
    fn error(&self, e: BuildOrSend) -> Error {
        let e = match e {
            BuildOrSend::Input(e) => return e,
            BuildOrSend::Reqwest(e) => e,
        };
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(refused) = s.downcast_ref::<Refused>() {
                return Error::new(ErrorKind::UrlRefused {
                    reason: refused.0.clone(),
                });
            }
            source = s.source();
        }
        let message = describe(&e);
        if e.is_connect() && e.is_timeout() {
            // reqwest reports an elapsed connect timeout as both.
            return Error::new(ErrorKind::Timeout {
                phase: TimeoutPhase::Connect,
                after: self.connect_timeout,
            });
        }
        if e.is_connect() {
            return Error::new(ErrorKind::Transport {
                message: format!("connection failed: {message}"),
            });
        }
        if e.is_builder() {
            return Error::config(format!("the request cannot be built: {message}"));
        }
        Error::new(ErrorKind::Transport { message }).sent()
    }
}

enum BuildOrSend {
    Input(Error),
    Reqwest(reqwest::Error),
}

impl From<reqwest::Error> for BuildOrSend {
    fn from(e: reqwest::Error) -> Self {
        Self::Reqwest(e)
    }
}

fn to_reqwest(
    client: &reqwest::Client,
    r: &HttpRequest,
    request_id: &HeaderValue,
) -> Result<reqwest::Request, BuildOrSend> {
    let mut b = client
        .request(r.method.clone(), r.url.clone())
        .headers(r.headers.clone());
    b = b.header("x-request-id", request_id.clone());
    b = match &r.body {
        RequestBody::Empty => b,
        RequestBody::Json(v) if r.headers.contains_key(CONTENT_TYPE) => {
            b.body(serde_json::to_vec(v).expect("a JSON value always serialises"))
        }
        RequestBody::Json(v) => b.json(v),
        RequestBody::Form(pairs) => b.form(pairs),
        RequestBody::Multipart(parts) => {
            let mut form = reqwest::multipart::Form::new();
            for p in parts {
                let mut part = reqwest::multipart::Part::bytes(p.content.clone());
                if let Some(name) = &p.filename {
                    part = part.file_name(name.clone());
                }
                if let Some(ct) = &p.content_type {
                    part = part.mime_str(ct).map_err(|_| {
                        BuildOrSend::Input(Error::input(
                            &format!("/{}", p.name),
                            "contentType",
                            format!("'{ct}' is not a media type"),
                        ))
                    })?;
                }
                form = form.part(p.name.clone(), part);
            }
            b.multipart(form)
        }
        RequestBody::Raw {
            content_type,
            bytes,
        } => b
            .header(CONTENT_TYPE, content_type.as_str())
            .body(bytes.clone()),
    };
    Ok(b.build()?)
}

/// The error and its causes, without the URL reqwest puts in its own message.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(if e.is_body() {
            "the body could not be read".into()
        } else {
            "the exchange failed".into()
        });
    }
    parts.join(": ")
}
