//! Request ids and access records: `x-request-id` is taken from the request
//! when it is a sane token, or generated, and always sent back; each request
//! is counted and timed, and logged as one structured line.

use std::future::Future;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;

use crate::app::AppState;

/// The header that carries the request id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// The request id of the current request, for handlers.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Request id in and out, metrics, one access log line, around `inner` (the
/// rest of the stack; see `http::edge`).
pub async fn track<F, Fut>(app: &AppState, mut request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let start = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_token(v))
        .map_or_else(waygate_core::__workspace::new_request_id, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    // The path only: query strings may carry secrets (API keys in `?key=`).
    let path = request.uri().path().to_owned();
    let mut response = inner(request).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    app.metrics.http_request(method.as_str(), status, elapsed);
    // As `&str`, not `%` (Display): the JSON writer takes a string as it is,
    // where a Display value is first formatted into a new `String`.
    tracing::info!(
        request_id = id.as_str(),
        method = method.as_str(),
        path = path.as_str(),
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// A caller's id is kept when it is 1–128 characters of `[A-Za-z0-9._:-]`.
fn is_token(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::is_token;

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(is_token("abc-123_x.y:z"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("x\r\ny"));
        assert!(!is_token(&"a".repeat(129)));
    }
}
