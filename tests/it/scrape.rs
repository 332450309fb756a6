//! Scrape jobs over the real binary: a crawl of OpenSearch pages served by
//! docsite.py into a draft, applied as an integration; a re-scrape through the
//! page cache with a diff; tenant isolation; the per-tenant limit, cancel,
//! pages behind a login pasted instead, and a job interrupted by a crash
//! resumed from the pages it had fetched.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::IntoResponse as _;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{DocSite, Gateway, opensearch_pages, serve_upstream};

/// Polls a job until it has ended; returns it.
async fn finished(gw: &Gateway, key: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, job) = gw
            .call(Method::GET, &format!("/api/v1/scrape/{id}"), key, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        assert!(Instant::now() < deadline, "the job did not end: {job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn start(gw: &Gateway, key: &str, body: Value) -> String {
    let (status, answer) = gw
        .call(Method::POST, "/api/v1/scrape", key, Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer["jobId"].as_str().unwrap().to_owned()
}

fn pairs(result: &Value) -> Vec<String> {
    result["integration"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["method"].as_str().unwrap(),
                a["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn slug_of(result: &Value, pair: &str) -> String {
    result["integration"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            format!(
                "{} {}",
                a["method"].as_str().unwrap(),
                a["path"].as_str().unwrap()
            ) == pair
        })
        .unwrap_or_else(|| panic!("{pair} missing"))["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_job_drafts_applies_and_diffs_a_rescrape() {
    let site = opensearch_pages(&[
        "_api-reference/index-apis/close-index.md",
        "_api-reference/document-apis/reindex.md",
        "_api-reference/cat/cat-indices.md",
    ]);
    let server = DocSite::start(&site.0);
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("docs").await;
    let (_, other) = gw.tenant("other").await;

    let id = start(
        &gw,
        &key,
        json!({"urls": [format!("{}/", server.1)], "mode": "auto", "maxPages": 10}),
    )
    .await;
    let job = finished(&gw, &key, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"]["stage"], "done");
    assert!(
        job["progress"]["pagesFetched"].as_u64().unwrap() >= 4,
        "{job}"
    );
    let result = &job["result"];
    let found = pairs(result);
    for expected in [
        "POST /{index}/_close",
        "POST /_reindex",
        "GET /_cat/indices",
    ] {
        assert!(
            found.iter().any(|p| p == expected),
            "{expected} missing from {found:?}"
        );
    }
    for action in result["integration"]["actions"].as_array().unwrap() {
        let confidence = action["metadata"]["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{action}");
        assert!(
            action["metadata"]["sourceUrl"]
                .as_str()
                .unwrap()
                .starts_with(&server.1)
        );
    }
    assert_eq!(result["cache"]["new"], result["pages"], "{result}");

    // Another tenant's key finds nothing under this id.
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/scrape/{id}"), None),
        (Method::POST, format!("/api/v1/scrape/{id}/cancel"), None),
        (
            Method::POST,
            format!("/api/v1/scrape/{id}/apply"),
            Some(json!({"slug": "x"})),
        ),
    ] {
        let (status, answer) = gw.call(method, &path, &other, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }

    // Apply a reviewed selection, with an override.
    let close = slug_of(result, "POST /{index}/_close");
    let reindex = slug_of(result, "POST /_reindex");
    let applied = gw
        .created(
            &format!("/api/v1/scrape/{id}/apply"),
            &key,
            json!({"slug": "opensearch", "select": [close, reindex],
                   "overrides": {"baseUrl": "http://127.0.0.1:9200", "name": "OpenSearch"}}),
        )
        .await;
    assert_eq!(applied["actionCount"], 2, "{applied}");
    assert_eq!(applied["integration"]["baseUrl"], "http://127.0.0.1:9200");
    assert_eq!(applied["integration"]["name"], "OpenSearch");
    let (status, actions) = gw
        .call(
            Method::GET,
            "/api/v1/integrations/opensearch/actions",
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actions["data"].as_array().unwrap().len(), 2, "{actions}");
    // The same slug again conflicts; unknown selections and overrides are refused by name.
    for (body, want, text) in [
        (
            json!({"slug": "opensearch"}),
            StatusCode::CONFLICT,
            "opensearch",
        ),
        (
            json!({"slug": "os2", "select": ["nope"]}),
            StatusCode::BAD_REQUEST,
            "nope",
        ),
        (
            json!({"slug": "os2", "overrides": {"colour": 1}}),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
        (
            json!({"slug": "os2", "overrides": {"actions": []}}),
            StatusCode::BAD_REQUEST,
            "actions",
        ),
    ] {
        let (status, answer) = gw
            .call(
                Method::POST,
                &format!("/api/v1/scrape/{id}/apply"),
                &key,
                Some(body),
            )
            .await;
        assert_eq!(status, want, "{answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(text),
            "{answer}"
        );
    }
    // A finished job cannot be cancelled.
    let (status, _) = gw
        .call(
            Method::POST,
            &format!("/api/v1/scrape/{id}/cancel"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The docs change: a page is gone. A re-scrape for the stored integration
    // reads unchanged pages from the cache and reports the difference.
    std::fs::remove_file(site.0.join("_api-reference/index-apis/close-index.md")).unwrap();
    let again = start(
        &gw,
        &key,
        json!({"urls": [format!("{}/", server.1)], "maxPages": 10, "integration": "opensearch"}),
    )
    .await;
    let job = finished(&gw, &key, &again).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let result = &job["result"];
    let diff = &result["diff"];
    assert_eq!(diff["removed"], json!(["POST /{index}/_close"]), "{diff}");
    assert!(
        diff["added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "GET /_cat/indices"),
        "{diff}"
    );
    assert_eq!(diff["unchanged"], 1, "{diff}");
    let cache = &result["cache"];
    assert!(cache["sameHash"].as_u64().unwrap() >= 2, "{cache}");
    assert_eq!(cache["new"], 0, "{cache}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_by_field() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("bad").await;
    for (body, status, text) in [
        (json!({"urls": []}), StatusCode::BAD_REQUEST, "urls"),
        (
            json!({"urls": ["ftp://example.com/"]}),
            StatusCode::BAD_REQUEST,
            "urls[0]",
        ),
        (
            json!({"urls": ["http://x.test/"], "maxPages": 0}),
            StatusCode::BAD_REQUEST,
            "maxPages",
        ),
        (
            json!({"urls": ["http://x.test/"], "depth": 2}),
            StatusCode::BAD_REQUEST,
            "depth",
        ),
        (
            json!({"urls": ["http://x.test/"], "mode": "all"}),
            StatusCode::BAD_REQUEST,
            "all",
        ),
        (
            json!({"pages": [{"url": "http://x.test/", "content": "x", "contentType": "image/png"}]}),
            StatusCode::BAD_REQUEST,
            "pages[0].contentType",
        ),
        (
            json!({"urls": ["http://x.test/"], "integration": "nope"}),
            StatusCode::NOT_FOUND,
            "nope",
        ),
    ] {
        let (got, answer) = gw
            .call(Method::POST, "/api/v1/scrape", &key, Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(text),
            "{body}: {answer}"
        );
    }
    let (status, _) = gw
        .call(Method::GET, "/api/v1/scrape/nope", &key, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without WAYGATE_ALLOW_PRIVATE_NETWORKS, loopback is refused at once.
    let strict = Gateway::start(&[("WAYGATE_ALLOW_PRIVATE_NETWORKS", "0")]);
    let (_, key) = strict.tenant("strict").await;
    let (status, answer) = strict
        .call(
            Method::POST,
            "/api/v1/scrape",
            &key,
            Some(json!({"urls": ["http://127.0.0.1:9/"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("outbound URL policy"),
        "{answer}"
    );
}

/// A site whose `/slow` page answers after a minute, with a page behind a login.
async fn slow_site() -> String {
    let router = axum::Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                axum::response::Html("<p>late</p>")
            }),
        )
        .route(
            "/",
            get(|| async {
                axum::response::Html(
                    r#"<h2>List widgets</h2><p>GET /widgets</p><p>You may send 120 requests per minute; X-RateLimit-Remaining counts down.</p><a href="/private">private</a>"#,
                )
            }),
        )
        .route("/private", get(|| async { StatusCode::FORBIDDEN }));
    serve_upstream(router).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_limit_cancel_and_login_walls() {
    let site = slow_site().await;
    let gw = Gateway::start(&[("WAYGATE_SCRAPE_JOBS_PER_TENANT", "1")]);
    let (_, key) = gw.tenant("limited").await;
    let (_, other) = gw.tenant("free").await;
    let slow = json!({"urls": [format!("{site}/slow")], "mode": "specific"});
    let first = start(&gw, &key, slow.clone()).await;
    let (status, answer) = gw
        .call(Method::POST, "/api/v1/scrape", &key, Some(slow.clone()))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert_eq!(answer["error"]["code"], "RATE_LIMITED");
    // The limit is per tenant.
    let theirs = start(&gw, &other, slow.clone()).await;
    let (status, cancelled) = gw
        .call(
            Method::POST,
            &format!("/api/v1/scrape/{first}/cancel"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (status, answer) = gw
        .call(
            Method::POST,
            &format!("/api/v1/scrape/{first}/apply"),
            &key,
            Some(json!({"slug": "w"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    // With the first cancelled, the tenant may start another: a page behind a login is reported…
    let walled = start(&gw, &key, json!({"urls": [format!("{site}/")]})).await;
    let job = finished(&gw, &key, &walled).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["result"]["loginRequired"],
        json!([format!("{site}/private")]),
        "{job}"
    );
    // The stated rate limit becomes the draft's default, and its header is reported.
    let result = &job["result"];
    assert_eq!(
        result["integration"]["defaults"]["rateLimit"],
        json!({"requestsPerSecond": 2.0, "burst": 120}),
        "{result}"
    );
    assert_eq!(
        result["rateLimits"]["headers"],
        json!(["X-RateLimit-Remaining"])
    );
    assert_eq!(result["rateLimits"]["statements"][0]["windowSeconds"], 60);
    // …and its content, pasted, is read instead.
    let pasted = start(
        &gw,
        &key,
        json!({"urls": [format!("{site}/")], "pages": [{"url": format!("{site}/private"),
            "content": "# Delete a widget\n\nDELETE /widgets/{id}\n", "contentType": "text/markdown"}]}),
    )
    .await;
    let job = finished(&gw, &key, &pasted).await;
    let found = pairs(&job["result"]);
    assert!(
        found.iter().any(|p| p == "DELETE /widgets/{id}"),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p == "GET /widgets"), "{found:?}");
    assert_eq!(job["result"]["loginRequired"], json!([]), "{job}");

    // The other tenant's job is unaffected by all this.
    let (_, job) = gw
        .call(
            Method::GET,
            &format!("/api/v1/scrape/{theirs}"),
            &other,
            None,
        )
        .await;
    assert_eq!(job["status"], "running", "{job}");
}

/// A vendor on loopback speaking Anthropic's Messages API (a tool call with
/// one finding; for the wishlist, the numbered action that creates widgets) or
/// failing like an overloaded Gemini.
async fn llm_vendor() -> String {
    let router = axum::Router::new()
        .route(
            "/v1/messages",
            axum::routing::post(|headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| async move {
                assert_eq!(headers["x-api-key"], "anthropic-test-key");
                let tool = body["tool_choice"]["name"].as_str().unwrap_or_default().to_owned();
                let input = match tool.as_str() {
                    "record_endpoints" => json!({"actions": [{"method": "POST", "path": "/widgets",
                        "summary": "Create a widget", "parameters": [{"name": "colour", "in": "body", "required": true}]}]}),
                    "match_wishes" => {
                        let question = body["messages"][0]["content"].as_str().unwrap_or_default();
                        let actions = question.split("Actions:\n").nth(1).unwrap_or_default();
                        let number = actions
                            .lines()
                            .find(|l| l.contains("POST /widgets"))
                            .and_then(|l| l.split('.').next())
                            .and_then(|n| n.parse::<u64>().ok())
                            .expect("the draft's actions, numbered");
                        json!({"matches": [{"wish": 0, "actions": [number]}]})
                    }
                    other => panic!("unexpected tool {other}"),
                };
                axum::Json(json!({"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                    "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1},
                    "content": [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": input}]}))
            }),
        )
        .route(
            "/v1beta/models/{call}",
            axum::routing::post(|| async {
                (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": {"code": 503, "status": "UNAVAILABLE"}})))
            }),
        );
    serve_upstream(router).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_use_the_configured_llm_and_degrade_to_heuristics() {
    let site = slow_site().await;
    let vendor = llm_vendor().await;
    // "make a gadget" shares no word with "Create a widget": only a model matches it.
    let body =
        json!({"urls": [format!("{site}/")], "mode": "specific", "wishlist": ["make a gadget"]});
    let gw = Gateway::start(&[
        ("WAYGATE_LLM_PROVIDER", "anthropic"),
        ("WAYGATE_LLM_BASE_URL", &vendor),
        ("WAYGATE_LLM_MODEL", "claude-test"),
        ("WAYGATE_LLM_API_KEY", "anthropic-test-key"),
    ]);
    let (_, key) = gw.tenant("llm").await;
    let id = start(&gw, &key, body.clone()).await;
    let job = finished(&gw, &key, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let actions = job["result"]["integration"]["actions"].as_array().unwrap();
    let post = actions
        .iter()
        .find(|a| a["method"] == "POST")
        .expect("the model's finding");
    assert_eq!(post["metadata"]["extractedBy"], "llm", "{post}");
    assert_eq!(
        actions[0]["method"], "POST",
        "the wished action first: {job}"
    );
    assert_eq!(actions[0]["metadata"]["wished"], true, "{job}");
    assert!(
        actions
            .iter()
            .any(|a| a["method"] == "GET" && a["path"] == "/widgets")
    );

    let gw = Gateway::start(&[
        ("WAYGATE_LLM_PROVIDER", "gemini"),
        ("WAYGATE_LLM_BASE_URL", &format!("{vendor}/v1beta")),
        ("WAYGATE_LLM_API_KEY", "gemini-test-key"),
    ]);
    let (_, key) = gw.tenant("llm").await;
    let id = start(&gw, &key, body).await;
    let job = finished(&gw, &key, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let warnings = job["result"]["warnings"].to_string();
    assert!(warnings.contains("gemini: HTTP 503"), "{warnings}");
    assert!(
        warnings.contains("the wishlist was matched by words only: gemini: HTTP 503"),
        "{warnings}"
    );
    assert!(!warnings.contains("gemini-test-key"));
    assert_eq!(pairs(&job["result"]), ["GET /widgets"]);
}

/// A site of three linked pages and a fourth whose first request hangs (the
/// gateway is killed while it waits); it counts the requests per path.
async fn hanging_site() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let served: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let count = served.clone();
    let router = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let count = count.clone();
        async move {
            let path = uri.path().to_owned();
            let seen = {
                let mut all = count.lock().unwrap();
                let n = all.entry(path.clone()).or_default();
                *n += 1;
                *n
            };
            let page = |body: &str| axum::response::Html(body.to_owned()).into_response();
            match path.as_str() {
                "/" => page(r#"<h1>Kennel API</h1><p>GET /dogs</p><a href="/a">a</a> <a href="/b">b</a> <a href="/hang">hang</a>"#),
                "/a" => page("<h2>Adopt a dog</h2><p>POST /dogs/{dog_id}/adoptions</p>"),
                "/b" => page("<h2>Walk a dog</h2><p>PUT /dogs/{dog_id}/walks/{walk_id}</p>"),
                "/hang" => {
                    if seen == 1 {
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                    page("<h2>Feed a dog</h2><p>POST /dogs/{dog_id}/meals</p>")
                }
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    (serve_upstream(router).await, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_interrupted_by_a_crash_resumes_from_the_pages_it_fetched() {
    let (site, served) = hanging_site().await;
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("kennel").await;
    let id = start(&gw, &key, json!({"urls": [format!("{site}/")]})).await;
    let count = |path: &str| served.lock().unwrap().get(path).copied().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while count("/hang") == 0 || count("/a") == 0 || count("/b") == 0 {
        assert!(
            Instant::now() < deadline,
            "the crawl did not reach the pages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The pages read are in the page cache; the gateway dies mid-crawl.
    tokio::time::sleep(Duration::from_millis(500)).await;
    gw.kill();
    let gw = gw.restart();
    // Once its lease has run out, the restarted gateway takes the job over.
    let job = finished(&gw, &key, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let result = &job["result"];
    let mut found = pairs(result);
    found.sort();
    assert_eq!(
        found,
        [
            "GET /dogs",
            "POST /dogs/{dog_id}/adoptions",
            "POST /dogs/{dog_id}/meals",
            "PUT /dogs/{dog_id}/walks/{walk_id}",
        ],
        "{job}"
    );
    // The pages the first run had read were not asked for again.
    assert_eq!((count("/"), count("/a"), count("/b")), (1, 1, 1));
    assert_eq!(count("/hang"), 2);
    assert_eq!(result["cache"]["reused"], 3, "{job}");
    assert!(
        result["warnings"]
            .to_string()
            .contains("resumed after the gateway running it stopped: 3 pages"),
        "{job}"
    );
}
