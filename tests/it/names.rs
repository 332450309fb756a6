//! Names a caller makes up leave nothing behind: thousands of calls to
//! integrations, actions and connections that do not exist answer 404 and
//! add no metric series named after the guess (issue 13).

use axum::Json;
use axum::routing::get;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Gateway, serve_upstream};

#[tokio::test]
async fn unknown_names_answer_404_and_leave_no_metric_series() {
    let upstream = serve_upstream(
        axum::Router::new().route("/ping", get(|| async { Json(json!({"pong": true})) })),
    )
    .await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Guesser").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "echo", "name": "Echo", "baseUrl": upstream,
            "actions": [{"slug": "ping", "method": "GET", "path": "/ping"}]}),
    )
    .await;
    let (status, _) = gw
        .call(
            Method::POST,
            "/api/v1/actions/echo/ping",
            &key,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // An unknown integration, an unknown action of a known one, an unknown connection.
    let guesses = (0..1_000).flat_map(|i| {
        [
            (format!("/api/v1/actions/guessint{i}/ping"), json!({})),
            (format!("/api/v1/actions/echo/guessact{i}"), json!({})),
            (
                "/api/v1/actions/echo/ping".to_owned(),
                json!({"connection": format!("guessconn{i}")}),
            ),
        ]
    });
    let answers: Vec<(StatusCode, serde_json::Value)> = futures::stream::iter(guesses)
        .map(|(path, body)| {
            let (gw, key) = (&gw, &key);
            async move { gw.call(Method::POST, &path, key, Some(body)).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(answers.len(), 3_000);
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
    }

    let metrics = gw.metrics().await;
    assert!(
        !metrics.contains("guess"),
        "a guessed name is in /metrics:\n{}",
        metrics
            .lines()
            .filter(|l| l.contains("guess"))
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        metrics.contains(r#"integration="_unknown""#),
        "unknown names are counted under one label:\n{metrics}"
    );
    assert!(
        metrics.contains(r#"integration="echo""#),
        "the real action keeps its series:\n{metrics}"
    );
}
