//! Step 8a, transport: one attempt through the transport seam ([`Transport`]:
//! the general or the pooled client, or the caller's own, inside the caller's
//! tower layers). Whatever the transport, the exchange here checks the URL
//! and every redirect hop against the URL policy, follows redirects hop by
//! hop, bounds the attempt by the total timeout and the response by the size
//! cap, and turns failures into errors that tell connect failures (nothing
//! sent) from failures after sending, and never carry a URL (it may hold a key).

mod encode;
mod general;
mod pooled;
mod redirect;
mod seam;

pub(super) use redirect::strip_for_other_origin;
pub use seam::{BoxError, Certificate, HttpService, NotSent, ResponseBody, Transport};
/// The crates a layer or a custom transport is written with, re-exported so
/// their versions match: `http` (requests and responses), `bytes` (bodies),
/// `tower` (`Layer`, `Service`, `ServiceBuilder`, ready-made layers).
pub use {bytes, http, tower};

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use bytes::BytesMut;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::{Service as _, ServiceExt as _};

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

/// The transport, the policy its URLs are checked by, and limits.
pub(crate) struct Exchange {
    /// Times the total timeout. Pooled connections' idle time stays on the
    /// real clock (`pooled.rs`): it stands for the upstream's keep-alive timer.
    clock: SharedClock,
    service: HttpService,
    policy: UrlPolicy,
    connect_timeout: Duration,
    max_body: usize,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("policy", &self.policy)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl Exchange {
    /// An exchange over `transport`, reaching what `policy` allows.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when the transport cannot be built (see [`Transport`]).
    pub(crate) fn new(
        clock: SharedClock,
        transport: Transport,
        policy: UrlPolicy,
        connect_timeout: Duration,
        max_body: usize,
    ) -> Result<Self, Error> {
        Ok(Self {
            clock,
            service: transport.build(policy, connect_timeout)?,
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
        // Before any transport sees it: IP-literal hosts never reach a resolver.
        self.policy.check_url(&request.url)?;
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
            let response = match self.call(wire).await {
                Ok(response) => response,
                // An earlier hop went out: the caller must not repeat a write.
                Err(e) if followed > 0 => return Err(self.error(e).sent()),
                Err(e) => return Err(self.error(e)),
            };
            let Some(hop) = redirect::next(response.status(), response.headers(), &url, &method)
            else {
                return self.read(response).await;
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

    /// One hop through the transport and its layers.
    async fn call(
        &self,
        wire: http::Request<Bytes>,
    ) -> Result<http::Response<ResponseBody>, BoxError> {
        let mut service = self.service.clone();
        service.ready().await?;
        service.call(wire).await
    }

    /// Reads the body, up to the size limit.
    async fn read(
        &self,
        response: http::Response<ResponseBody>,
    ) -> Result<UpstreamResponse, Error> {
        let (parts, mut body) = response.into_parts();
        let failed = |message: String| Error::new(ErrorKind::Transport { message }).sent();
        // One chunk (the usual answer) is kept without copying.
        let mut first = Bytes::new();
        let mut rest = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                failed(format!(
                    "the body could not be read: {}",
                    describe(e.as_ref())
                ))
            })?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            if first.len() + rest.len() + data.len() > self.max_body {
                return Err(failed(format!(
                    "the response body exceeds the limit of {} bytes",
                    self.max_body
                )));
            }
            if first.is_empty() && rest.is_empty() {
                first = data;
            } else {
                if rest.is_empty() {
                    rest.extend_from_slice(&std::mem::take(&mut first));
                }
                rest.extend_from_slice(&data);
            }
        }
        Ok(UpstreamResponse {
            status: parts.status,
            headers: parts.headers,
            body: match rest.is_empty() {
                true => first,
                false => rest.freeze(),
            },
        })
    }

    /// Maps a transport's error to ours: a policy refusal, a connect failure
    /// or timeout (nothing sent: [`NotSent`] in the chain), or a failure that
    /// may have come after sending.
    fn error(&self, e: BoxError) -> Error {
        let e: &(dyn std::error::Error + 'static) = e.as_ref();
        if let Some(refused) = find::<Refused>(e) {
            return refused.clone().into();
        }
        if find::<NotSent>(e).is_none() {
            return Error::new(ErrorKind::Transport {
                message: describe(e),
            })
            .sent();
        }
        let timed_out = find::<std::io::Error>(e)
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || find::<reqwest::Error>(e).is_some_and(reqwest::Error::is_timeout);
        if timed_out {
            return Error::new(ErrorKind::Timeout {
                phase: TimeoutPhase::Connect,
                after: self.connect_timeout,
            });
        }
        Error::new(ErrorKind::Transport {
            message: describe(e),
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

    async fn fetch(
        transport: Transport,
        url: &Url,
        max_body: usize,
    ) -> Result<UpstreamResponse, Error> {
        let exchange = Exchange::new(
            std::sync::Arc::new(crate::clock::SystemClock),
            transport,
            UrlPolicy::strict().allow_loopback(),
            Duration::from_secs(5),
            max_body,
        )
        .unwrap();
        let request = HttpRequest::new(Method::GET, url.clone());
        exchange
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
        for transport in [Transport::pooled, Transport::general] {
            let whole = fetch(transport(), &url, 3000).await.unwrap();
            assert_eq!(whole.body.len(), 3000);
            assert!(whole.body[..1000].iter().all(|&b| b == b'a'));
            assert!(whole.body[2000..].iter().all(|&b| b == b'c'));

            let err = fetch(transport(), &url, 2999).await.unwrap_err();
            assert_eq!(err.code(), "UPSTREAM_UNREACHABLE", "{err:?}");
            assert!(
                err.to_string()
                    .contains("the response body exceeds the limit of 2999 bytes"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_proxy_or_root_certificate_on_the_pool_is_refused_not_ignored() {
        let e = Transport::pooled()
            .proxy("http://127.0.0.1:3128")
            .build(UrlPolicy::strict(), Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(e.code(), "CONFIGURATION_ERROR");
        assert!(e.to_string().contains("general transport"), "{e}");
    }
}
