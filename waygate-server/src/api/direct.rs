//! The direct lane: `POST /api/v1/actions/{integration}/{action}` served
//! without the router.
//!
//! Invocations are the gateway's hot path, and the router's generic layers
//! (route lookup, prefix stripping, two middleware layers, six extractors,
//! each boxing and cloning) cost more CPU per call than the engine's own
//! steps (decision 38). The lane takes only the plain case of the route and
//! does the same work with the same functions: [`auth::admit`],
//! [`Tenant::of`], [`actions::call`] and [`actions::run`]. Everything else
//! (another route, a percent-encoded or odd path, a body without a plain
//! `application/json` type or a `Content-Length` within the limit, a body
//! that is not a valid invocation) goes to the router, which answers as it
//! always has, errors included.
//!
//! The caller is authenticated from the headers before a byte of the body is
//! read: an anonymous client with a large `Content-Length` is answered 401
//! and holds no memory. A request handed on after that carries its
//! [`Principal`](auth::Principal) in its extensions, so the router's [`auth::authenticate`]
//! neither authenticates it nor counts it against the rate limit again.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};

use super::actions::{self, InvokeRequest};
use super::auth::{self, Tenant};
use super::error::ApiError;
use crate::app::AppState;
use crate::ops::request_id::RequestId;

/// Where the route lives.
const PREFIX: &str = "/api/v1/actions/";

/// Serves `request` when it is a plain invocation; hands it back otherwise
/// (with its body, when that was read already).
///
/// # Errors
/// The request, for the router.
pub async fn invoke(app: &AppState, request: Request) -> Result<Response, Request> {
    let max_body = app.settings.max_body_bytes;
    if !takes(&request, max_body) {
        return Err(request);
    }
    let (mut parts, body) = request.into_parts();
    let principal = match auth::admit(app, &parts.headers).await {
        Ok(principal) => principal,
        Err(e) => return Ok(e.into_response()),
    };
    let tenant = match Tenant::of(&principal) {
        Ok(Tenant(tenant)) => tenant,
        Err(e) => return Ok(e.into_response()),
    };
    let bytes = match to_bytes(body, max_body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return Ok(
                ApiError::bad_request(format!("the request body could not be read: {e}"))
                    .into_response(),
            );
        }
    };
    let parsed = serde_json::from_slice::<InvokeRequest>(&bytes).ok();
    let (Some(body), Some((integration, action))) = (parsed, target(parts.uri.path())) else {
        parts.extensions.insert(principal);
        return Err(Request::from_parts(parts, Body::from(bytes)));
    };
    let request_id = parts.extensions.get::<RequestId>().map(|id| id.0.clone());
    let call = actions::call(
        tenant,
        integration.to_owned(),
        action.to_owned(),
        body,
        &parts.headers,
        request_id,
    );
    Ok(match call {
        Ok(call) => actions::run(app, call).await,
        Err(e) => e.into_response(),
    })
}

/// Whether the lane serves `request`: a POST to the route with a plain JSON
/// body of a declared length the gateway accepts.
fn takes(request: &Request, max_body: usize) -> bool {
    let headers = request.headers();
    let json = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| is_plain_json(v.as_bytes()));
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    request.method() == Method::POST
        && json
        && length.is_some_and(|n| n <= max_body)
        && target(request.uri().path()).is_some()
}

/// `application/json`, alone or with parameters (`; charset=utf-8`).
fn is_plain_json(value: &[u8]) -> bool {
    value
        .strip_prefix(b"application/json")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(b";"))
}

/// The integration and action slugs of a route path whose two segments need
/// no decoding.
fn target(path: &str) -> Option<(&str, &str)> {
    let (integration, action) = path.strip_prefix(PREFIX)?.split_once('/')?;
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', '%']);
    (plain(integration) && plain(action)).then_some((integration, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_route_paths_are_taken() {
        assert_eq!(
            target("/api/v1/actions/slack/sendMessage"),
            Some(("slack", "sendMessage"))
        );
        for path in [
            "/api/v1/actions/slack",
            "/api/v1/actions/slack/",
            "/api/v1/actions//send",
            "/api/v1/actions/slack/send/test",
            "/api/v1/actions/slack/send/",
            "/api/v1/actions/sl%61ck/send",
            "/api/v2/actions/slack/send",
        ] {
            assert_eq!(target(path), None, "{path}");
        }
    }

    #[test]
    fn only_plain_json_bodies_are_taken() {
        assert!(is_plain_json(b"application/json"));
        assert!(is_plain_json(b"application/json; charset=utf-8"));
        assert!(!is_plain_json(b"application/jsonx"));
        assert!(!is_plain_json(b"application/vnd.api+json"));
        assert!(!is_plain_json(b"text/plain"));
    }
}
