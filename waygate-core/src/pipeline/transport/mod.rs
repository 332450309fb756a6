//! Step 8a, transport: one attempt over the pooled HTTP client, redirects
//! followed hop by hop under the URL policy, with the total timeout, a cap on
//! the response size, and errors that tell connect failures (nothing sent)
//! from failures after sending, and never carry a URL (it may hold a key).

mod client;
mod encode;
mod redirect;

pub(super) use redirect::strip_for_other_origin;

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use self::client::{Clients, SendError};
use self::encode::EncodedBody;
use super::request::HttpRequest;
use crate::clock::{self, SharedClock};
use crate::error::{Error, ErrorKind, TimeoutPhase};
use crate::url_policy::{Refused, UrlPolicy};

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

/// The HTTP clients, the policy their redirects are checked by, and limits.
#[derive(Debug)]
pub(crate) struct Transport {
    /// Times the total timeout. Pooled connections' idle time stays on the
    /// real clock (`client.rs`): it stands for the upstream's keep-alive timer.
    clock: SharedClock,
    clients: Clients,
    policy: UrlPolicy,
    connect_timeout: Duration,
    max_body: usize,
}

impl Transport {
    /// A transport reaching what `policy` allows.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when TLS cannot be set up.
    pub(crate) fn new(
        clock: SharedClock,
        policy: UrlPolicy,
        connect_timeout: Duration,
        max_body: usize,
    ) -> Result<Self, Error> {
        Ok(Self {
            clock,
            clients: Clients::new(policy, connect_timeout)?,
            policy,
            connect_timeout,
            max_body,
        })
    }

    /// Sends one attempt, following redirects, within `timeout` in all.
    pub(crate) async fn send(
        &self,
        request: &HttpRequest,
        request_id: &HeaderValue,
        timeout: Duration,
    ) -> Result<UpstreamResponse, Error> {
        let body = encode::body(&request.body)?;
        match clock::timeout(
            &*self.clock,
            timeout,
            self.exchange(request, request_id, body),
        )
        .await
        {
            Some(result) => result,
            None => Err(Error::new(ErrorKind::Timeout {
                phase: TimeoutPhase::Total,
                after: timeout,
            })
            .sent()),
        }
    }

    /// The exchange, hop by hop: the request's own method, URL and headers
    /// are borrowed until a redirect changes them.
    async fn exchange(
        &self,
        request: &HttpRequest,
        request_id: &HeaderValue,
        mut body: EncodedBody,
    ) -> Result<UpstreamResponse, Error> {
        let mut method = Cow::Borrowed(&request.method);
        let mut url = Cow::Borrowed(&request.url);
        let mut headers = Cow::Borrowed(&request.headers);
        let mut followed = 0;
        loop {
            let wire = encode::request(&method, &url, &headers, request_id, &body)?;
            let (response, connection) =
                self.clients.send(wire).await.map_err(|e| self.error(e))?;
            let Some(hop) = redirect::next(response.status(), response.headers(), &url, &method)
            else {
                let read = self.read(response).await?;
                self.clients.release(connection);
                return Ok(read);
            };
            // Refused after a request went out: the caller must not repeat a write.
            self.policy
                .check_redirect(followed, &hop.url)
                .map_err(|refused| Error::from(refused).sent())?;
            followed += 1;
            let headers = headers.to_mut();
            if hop.as_get {
                method = Cow::Owned(Method::GET);
                body = EncodedBody::EMPTY;
                headers.remove(CONTENT_TYPE);
                headers.remove(CONTENT_LENGTH);
            }
            redirect::strip_for_other_origin(&url, &hop.url, headers);
            url = Cow::Owned(hop.url);
        }
    }

    /// Reads the body, up to the size limit.
    async fn read(&self, response: http::Response<Incoming>) -> Result<UpstreamResponse, Error> {
        let (parts, incoming) = response.into_parts();
        let collected = Limited::new(incoming, self.max_body)
            .collect()
            .await
            .map_err(|e| {
                let message = if e.is::<LengthLimitError>() {
                    format!(
                        "the response body exceeds the limit of {} bytes",
                        self.max_body
                    )
                } else {
                    format!("the body could not be read: {e}")
                };
                Error::new(ErrorKind::Transport { message }).sent()
            })?;
        Ok(UpstreamResponse {
            status: parts.status,
            headers: parts.headers,
            // One chunk (the usual answer) is kept without copying.
            body: collected.to_bytes(),
        })
    }

    /// Maps a client error to ours, deciding whether the request may have been sent.
    fn error(&self, e: SendError) -> Error {
        let e = match e {
            SendError::Request(e) => {
                return Error::new(ErrorKind::Transport {
                    message: describe(&e),
                })
                .sent();
            }
            SendError::Connect(e) => e,
        };
        let e: &(dyn std::error::Error + 'static) = e.as_ref();
        if let Some(refused) = find::<Refused>(e) {
            return refused.clone().into();
        }
        if find::<std::io::Error>(e).is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
            return Error::new(ErrorKind::Timeout {
                phase: TimeoutPhase::Connect,
                after: self.connect_timeout,
            });
        }
        Error::new(ErrorKind::Transport {
            message: format!("connection failed: {}", describe(e)),
        })
    }
}

/// The first error of type `T` in `e`'s chain of causes.
fn find<'e, T: std::error::Error + 'static>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(found) = s.downcast_ref::<T>() {
            return Some(found);
        }
        source = s.source();
    }
    None
}

/// The error and its causes, each once: an error's own message may only name
/// the kind of failure, its causes say what happened.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use url::Url;

    use super::*;

    /// Serves, for every request, a body of `chunks` chunks of `size` bytes each.
    async fn chunked_upstream(chunks: usize, size: usize) -> Url {
        let app = axum::Router::new().fallback(move || async move {
            let parts = (0..chunks).map(move |i| {
                let byte = b'a' + u8::try_from(i % 26).expect("below 26");
                Ok::<_, std::io::Error>(Bytes::from(vec![byte; size]))
            });
            Body::from_stream(futures::stream::iter(parts))
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Url::parse(&format!("http://{addr}/")).unwrap()
    }

    async fn fetch(url: &Url, max_body: usize) -> Result<UpstreamResponse, Error> {
        let transport = Transport::new(
            std::sync::Arc::new(crate::clock::SystemClock),
            UrlPolicy::strict().allow_loopback(),
            Duration::from_secs(5),
            max_body,
        )
        .unwrap();
        let request = HttpRequest::new(Method::GET, url.clone());
        transport
            .send(
                &request,
                &HeaderValue::from_static("t"),
                Duration::from_secs(5),
            )
            .await
    }

    #[tokio::test]
    async fn a_body_in_many_chunks_is_read_whole_up_to_the_limit() {
        let url = chunked_upstream(3, 1000).await;
        let whole = fetch(&url, 3000).await.unwrap();
        assert_eq!(whole.body.len(), 3000);
        assert!(whole.body[..1000].iter().all(|&b| b == b'a'));
        assert!(whole.body[2000..].iter().all(|&b| b == b'c'));

        let err = fetch(&url, 2999).await.unwrap_err();
        assert_eq!(err.code(), "UPSTREAM_UNREACHABLE", "{err:?}");
        assert!(
            err.to_string()
                .contains("the response body exceeds the limit of 2999 bytes"),
            "{err}"
        );
    }
}
