//! axum's own rejections (malformed JSON, a missing content type, an unknown
//! route, a body over the limit) answer in plain text; this middleware turns
//! every such answer into the one error shape, so clients parse one format
//! (applied around every route by `http::edge`).

use axum::body::to_bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Rejection texts are short; anything longer is cut.
const MAX_TEXT: usize = 4096;

/// Error answers in plain text (or without a body type) become
/// [`ApiError`]s; others pass as they are: JSON is in the shape already, and
/// a page meant for a browser (the OAuth callback's HTML) stays a page.
pub async fn normalize(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let text = to_bytes(response.into_body(), MAX_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    error_for(status, text).into_response()
}

fn error_for(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found("the route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed(),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large_text(text),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::bad_request(format!("{text} (send 'Content-Type: application/json')"))
        }
        s if s.is_client_error() => ApiError::bad_request(if text.is_empty() {
            "the request is malformed".to_owned()
        } else {
            text
        }),
        _ => ApiError::internal(),
    }
}
