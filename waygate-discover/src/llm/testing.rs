//! A local vendor for the providers' tests: one route that records each
//! request's headers and JSON body and answers with a canned JSON body.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// What the fake vendor received: headers and body per request.
pub(crate) type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// Serves `route` on 127.0.0.1, answering `status` and `answer`; returns the
/// base URL (`http://addr`) and what it receives.
pub(crate) async fn vendor(route: &str, status: StatusCode, answer: Value) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        route,
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let log = log.clone();
            let answer = answer.clone();
            async move {
                log.lock().unwrap().push((headers, body));
                (status, Json(answer))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

/// The one request the vendor received.
pub(crate) fn only(seen: &Seen) -> (HeaderMap, Value) {
    let mut all = seen.lock().unwrap();
    assert_eq!(all.len(), 1, "one request expected");
    all.pop().unwrap()
}
