//! Documents are parsed, imported and checked off the serving threads, a
//! bounded number at a time: `/healthz` and invocations keep answering while
//! large imports run (issue 13).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Gateway, openapi_fixture_text};

fn slack_spec() -> String {
    openapi_fixture_text("slack/slack_web_openapi_v2.json")
}

/// Timed, so it runs alone: `.ci/run` calls it with `--ignored` after the
/// suite, where no other test of this binary competes for the two cores.
#[tokio::test]
#[ignore = "timed: run alone by .ci/run"]
async fn healthz_answers_while_imports_hold_the_cpu_pool() {
    let gateway = Gateway::start(&[("WAYGATE_CPU_JOBS", "1")]);
    let (_, key) = gateway.tenant("busy").await;
    let spec = slack_spec();
    let import = |slug: String| {
        let request = gateway
            .client
            .post(format!("{}/api/v1/integrations/import", gateway.url))
            .bearer_auth(&key)
            .json(&json!({"openapi": spec, "slug": slug}));
        tokio::spawn(async move { request.send().await.unwrap().status() })
    };
    // How long one import takes on this machine, alone.
    let started = Instant::now();
    assert_eq!(import("alone".into()).await.unwrap(), StatusCode::CREATED);
    let one_import = started.elapsed();
    // As many imports at once as there are serving threads and more: on the
    // serving threads they would hold every one of them for about that long.
    let imports: Vec<_> = (0..4).map(|i| import(format!("slack-{i}"))).collect();
    tokio::time::sleep(one_import / 2).await;
    let mut slowest = Duration::ZERO;
    while imports.iter().filter(|i| !i.is_finished()).count() > 1 {
        let asked = Instant::now();
        assert!(gateway.text("/healthz").await.contains("ok"));
        slowest = slowest.max(asked.elapsed());
    }
    assert!(
        slowest < one_import / 4,
        "/healthz took {slowest:?} while imports ran; one import takes {one_import:?}"
    );
    for import in imports {
        assert_eq!(import.await.unwrap(), StatusCode::CREATED);
    }
    let (status, list) = gateway
        .call(Method::GET, "/api/v1/integrations", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["pagination"]["totalCount"], 5, "{list}");
}

#[tokio::test]
async fn an_import_without_a_json_content_type_or_with_a_bad_body_is_a_400() {
    let gateway = Gateway::start(&[]);
    let (_, key) = gateway.tenant("picky").await;
    let url = format!("{}/api/v1/integrations/import", gateway.url);
    let plain = gateway
        .client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body(r#"{"openapi": {}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = plain.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{body}"
    );
    for (body, says) in [
        (r#"{"openapi": "#, "not valid"),
        (r#"{"openapi": {}, "surprise": 1}"#, "surprise"),
        (
            r#"{"openapi": "openapi: 3.0.0\ninfo: [1"}"#,
            "cannot be imported",
        ),
    ] {
        let answer = gateway
            .client
            .post(&url)
            .bearer_auth(&key)
            .header("content-type", "application/vnd.api+json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(error["error"]["code"], "VALIDATION_ERROR", "{error}");
        assert!(
            error["error"]["message"].as_str().unwrap().contains(says),
            "{body}: {error}"
        );
    }
}
