//! `waygate discover` against real documentation sites on loopback: a subset of
//! OpenSearch's docs served by ../shared/tools/docsite.py (heuristic extraction),
//! and a small site that links its OpenAPI document and has a robots.txt.

use std::process::{Command, Output};

use axum::routing::get;
use serde_json::{Value, json};
use waygate_core::IntegrationDef;

use crate::support::{DocSite, opensearch_pages, serve_upstream};

fn discover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waygate"))
        .arg("discover")
        .args(args)
        .args(["--json", "--allow-private-networks", "--delay-ms", "0"])
        .output()
        .unwrap()
}

fn draft(out: &Output) -> (IntegrationDef, String) {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let def = IntegrationDef::from_json(&String::from_utf8_lossy(&out.stdout)).unwrap();
    waygate_core::model::check(&def).unwrap();
    (def, err)
}

fn pairs(def: &IntegrationDef) -> Vec<String> {
    def.actions
        .iter()
        .map(|a| format!("{} {}", a.method, a.path))
        .collect()
}

#[test]
fn heuristics_find_declared_endpoints_on_opensearch_pages() {
    let site = opensearch_pages(&[
        "_api-reference/index-apis/update-alias.md",
        "_api-reference/index-apis/close-index.md",
        "_api-reference/document-apis/reindex.md",
        "_api-reference/cat/cat-indices.md",
    ]);
    let server = DocSite::start(&site.0);
    let (def, err) = draft(&discover(&[&format!("{}/", server.1)]));
    let found = pairs(&def);
    for expected in [
        "POST /{target}/_alias/{alias-name}",
        "PUT /_alias",
        "POST /{index}/_close",
        "POST /_reindex",
        "GET /_cat/indices",
    ] {
        assert!(
            found.iter().any(|p| p == expected),
            "{expected} missing from {found:?}"
        );
    }
    // The example request on the alias page is not an endpoint.
    assert!(
        !found.iter().any(|p| p.contains("sample-index")),
        "{found:?}"
    );
    assert!(err.contains("[5/"), "progress on stderr: {err}");
    let close = def
        .actions
        .iter()
        .find(|a| a.path == "/{index}/_close")
        .unwrap();
    assert_eq!(close.name.as_deref(), Some("Close index"));
    assert!(close.parameters.iter().any(|p| p.name == "index"));
    let confidence = close.metadata["confidence"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&confidence), "{confidence}");
    assert!(
        close.metadata["sourceUrl"]
            .as_str()
            .unwrap()
            .ends_with("/_api-reference/index-apis/close-index.html")
    );

    // Specific mode reads only the given page.
    let (one, _) = draft(&discover(&[
        "--specific",
        &format!("{}/_api-reference/document-apis/reindex.html", server.1),
    ]));
    assert_eq!(pairs(&one), ["POST /_reindex"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specs_are_imported_first_and_robots_txt_is_honoured() {
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "https://pets.example.com/v1"}],
        "paths": {"/pets/{id}": {"get": {
            "operationId": "getPet",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}
        }}}
    });
    let html = |body: &'static str| {
        (
            [("content-type", "text/html; charset=utf-8")],
            format!(
                "<html><head><title>Pets API</title><link rel=\"alternate\" type=\"application/vnd.oai.openapi+json\" href=\"/files/pets-description.json\"></head><body>{body}</body></html>"
            ),
        )
    };
    let router = axum::Router::new()
        .route("/", get(move || async move { html("<h1>Pets</h1><a href=\"/guide\">Guide</a> <a href=\"/private/secret\">Secret</a> <a href=\"/logo.png\">Logo</a>") }))
        .route("/guide", get(move || async move { html("<h2>Adopt a pet</h2><p>Adopts one pet for you.</p><pre>curl -X POST https://pets.example.com/v1/adoptions -H 'Authorization: Bearer TOKEN'</pre><h2>Delete an adoption</h2><p><span>DELETE</span> <code>/adoptions/:adoptionId</code></p>") }))
        .route("/private/secret", get(|| async { "<h1>secret</h1><p>GET /secret/{x}</p>" }))
        .route("/logo.png", get(|| async { ([("content-type", "image/png")], "png") }))
        .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /private\n" }))
        .route("/files/pets-description.json", get(move || { let spec = spec.clone(); async move { axum::Json(spec) } }));
    let base = serve_upstream(router).await;
    let out = tokio::task::spawn_blocking(move || discover(&[&format!("{base}/")]))
        .await
        .unwrap();
    let (def, err) = draft(&out);
    let found = pairs(&def);
    // The spec's action, then the page's declared one; the curl example is not taken
    // where the site declares endpoints, and /private was never read.
    assert_eq!(
        found,
        ["GET /pets/{id}", "DELETE /adoptions/{adoptionId}"],
        "{err}"
    );
    assert_eq!(def.actions[0].slug, "getPet");
    assert_eq!(def.actions[0].metadata["confidence"], json!(1.0));
    assert_eq!(def.actions[1].name.as_deref(), Some("Delete an adoption"));
    assert_eq!(def.base_url.as_deref(), Some("https://pets.example.com/v1"));
    assert!(err.contains("found an API description"), "{err}");
    assert!(err.contains("disallowed by robots.txt"), "{err}");
    assert!(err.contains("is not documentation"), "{err}");
    assert_eq!(
        def.actions[1]
            .metadata
            .get("sourceUrl")
            .and_then(Value::as_str)
            .map(|u| u.ends_with("/guide")),
        Some(true)
    );
}

#[test]
fn refused_and_unreachable_urls_fail_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["discover", "http://127.0.0.1:9/"])
        .env_remove("WAYGATE_ALLOW_PRIVATE_NETWORKS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("outbound URL policy"), "{err}");
    let out = discover(&["http://127.0.0.1:9/"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no page could be fetched"));
    let out = discover(&["ftp://example.com/"]);
    assert!(!out.status.success());
}
