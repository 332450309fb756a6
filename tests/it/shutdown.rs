//! Graceful shutdown of `waygate serve`: on SIGTERM it stops accepting, lets
//! the calls in flight finish, and stores every one of them in the request
//! log before it exits. On SQLite, and on PostgreSQL (whose connections the
//! serving threads open) when `WAYGATE_TEST_POSTGRES_URL` names a server.

use std::time::Duration;

use axum::Json;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Gateway, PG_MASTER_KEY, PgDatabase, serve_upstream};

/// Calls in flight when SIGTERM arrives.
const IN_FLIGHT: usize = 24;

/// How long the upstream takes to answer each of them.
const UPSTREAM_DELAY: Duration = Duration::from_millis(800);

async fn in_flight_calls_finish_and_are_logged(env: &[(&str, &str)]) {
    let upstream = serve_upstream(axum::Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(UPSTREAM_DELAY).await;
            Json(json!({"ok": true}))
        }),
    ))
    .await;
    let gw = Gateway::start(env);
    let (_, key) = gw.tenant("Shutdown").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "slow", "name": "Slow", "baseUrl": upstream,
            "actions": [{"slug": "wait", "method": "GET", "path": "/slow"}]}),
    )
    .await;

    let url = format!("{}/api/v1/actions/slow/wait", gw.url);
    let calls: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let request = gw
                .client
                .post(&url)
                .bearer_auth(&key)
                .json(&json!({"input": {}}))
                .send();
            tokio::spawn(request)
        })
        .collect();
    // Every call has reached the upstream, none has been answered.
    tokio::time::sleep(UPSTREAM_DELAY / 3).await;
    gw.terminate();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let late = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&key)
        .json(&json!({"input": {}}))
        .send()
        .await;
    assert!(
        late.as_ref().is_err_and(reqwest::Error::is_connect),
        "a new connection was accepted after SIGTERM: {late:?}"
    );
    for call in calls {
        let answer = call.await.unwrap().expect("an in-flight call was cut off");
        assert_eq!(answer.status(), StatusCode::OK);
    }

    let gw = gw.restart();
    let (status, logs) = gw
        .call(Method::GET, "/api/v1/logs?limit=100", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    let entries = logs["data"].as_array().unwrap();
    assert_eq!(entries.len(), IN_FLIGHT, "{logs}");
    assert!(entries.iter().all(|e| e["upstreamStatus"] == 200), "{logs}");
    assert!(gw.log().contains("request logs flushed"), "{}", gw.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_calls_in_flight_finish_and_logs_them_on_sqlite() {
    in_flight_calls_finish_and_are_logged(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_calls_in_flight_finish_and_logs_them_on_postgres() {
    let Ok(admin) = std::env::var("WAYGATE_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set WAYGATE_TEST_POSTGRES_URL to a PostgreSQL server (.ci/run does)");
        return;
    };
    let db = PgDatabase::create(&admin);
    in_flight_calls_finish_and_are_logged(&[
        ("WAYGATE_DATABASE_URL", db.url.as_str()),
        ("WAYGATE_MASTER_KEY", PG_MASTER_KEY),
    ])
    .await;
}
