//! Headers of every dashboard page: a strict Content-Security-Policy (every
//! script, style, font and image comes from Waygate itself; no inline script
//! or style; no framing), no sniffing, no referrer to other sites, no caching
//! of pages that show a tenant's data.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use tower::util::MapResponseLayer;

/// The policy. `form-action 'self'` keeps forms from posting elsewhere;
/// `connect-src 'self'` is what htmx needs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The layer that sets these headers on every dashboard answer: a plain tower
/// layer mapping the response (decision 124).
pub fn layer() -> MapResponseLayer<fn(Response) -> Response> {
    MapResponseLayer::new(headers as fn(Response) -> Response)
}

/// The security headers on a dashboard answer.
pub fn headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
