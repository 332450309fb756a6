//! Nothing is lost or half-written across `kill -9`: a burst of imports and
//! invocations, the server killed in the middle, a restart on the same data
//! dir; the SQLite file passes `PRAGMA integrity_check` and every import the
//! server acknowledged (201) is there, whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Gateway;

fn definition(i: usize, upstream: &str) -> serde_json::Value {
    let actions: Vec<_> = (0..40)
        .map(|a| {
            json!({"slug": format!("a{a}"), "method": "GET", "path": "/ok",
            "inputSchema": {"type": "object"}})
        })
        .collect();
    json!({"slug": format!("burst-{i}"), "name": format!("Burst {i}"), "baseUrl": upstream,
        "actions": actions})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_imports_and_invocations_loses_nothing_acknowledged() {
    let upstream = crate::support::serve_upstream(axum::Router::new().route(
        "/ok",
        axum::routing::get(|| async { axum::Json(json!({"ok": true})) }),
    ))
    .await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Crash").await;
    let _ = gw
        .created("/api/v1/integrations", &key, definition(0, &upstream))
        .await;

    let gw = Arc::new(gw);
    let stop = Arc::new(AtomicBool::new(false));
    let importer = {
        let (gw, key, stop, upstream) = (gw.clone(), key.clone(), stop.clone(), upstream.clone());
        tokio::spawn(async move {
            let mut acknowledged = vec![0];
            let mut i = 1;
            while !stop.load(Ordering::Relaxed) {
                let request = gw
                    .client
                    .post(format!("{}/api/v1/integrations", gw.url))
                    .bearer_auth(&key)
                    .json(&definition(i, &upstream))
                    .send()
                    .await;
                match request {
                    Ok(r) if r.status() == StatusCode::CREATED => acknowledged.push(i),
                    _ => break,
                }
                i += 1;
            }
            acknowledged
        })
    };
    let invoker = {
        let (gw, key, stop) = (gw.clone(), key.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ok = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = gw
                    .client
                    .post(format!("{}/api/v1/actions/burst-0/a1", gw.url))
                    .bearer_auth(&key)
                    .json(&json!({"input": {}}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == StatusCode::OK => ok += 1,
                    _ => break,
                }
            }
            ok
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gw.kill();
    stop.store(true, Ordering::Relaxed);
    let acknowledged = importer.await.unwrap();
    let invoked = invoker.await.unwrap();
    let gw = Arc::into_inner(gw).expect("the tasks have ended");
    assert!(
        acknowledged.len() > 3 && invoked > 3,
        "{acknowledged:?} {invoked}"
    );

    let url = format!("sqlite://{}", gw.dir.0.join("data/waygate.db").display());
    let store = waygate_store::Store::open(&url).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    store.close().await.unwrap();

    let restarted = gw.restart();
    for i in &acknowledged {
        let (status, body) = restarted
            .call(
                Method::GET,
                &format!("/api/v1/integrations/burst-{i}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "acknowledged import {i} is missing");
        assert_eq!(body["actionCount"], 40, "import {i} is half-written");
    }
    // Whatever else is there (an import cut off before its answer) is whole too.
    let (_, list) = restarted
        .call(Method::GET, "/api/v1/integrations?limit=500", &key, None)
        .await;
    for entry in list["data"].as_array().unwrap() {
        assert_eq!(entry["actionCount"], 40, "{entry}");
    }
}
