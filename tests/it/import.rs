//! `waygate import … --dry-run --json`: a vendor spec in, API.md's definition out.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{DocSite, Gateway, openapi_fixture};

fn fixture(relative: &str) -> String {
    openapi_fixture(relative).display().to_string()
}

#[test]
fn dry_run_json_prints_the_definition() {
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args([
            "import",
            &fixture("slack/slack_web_openapi_v2.json"),
            "--dry-run",
            "--json",
        ])
        .args([
            "--slug",
            "slack",
            "--wishlist",
            "send message,list users,create channel",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let def: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(def["slug"], "slack");
    assert_eq!(def["baseUrl"], "https://slack.com/api");
    assert_eq!(def["auth"]["type"], "oauth2");
    let actions = def["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 174);
    let first: Vec<_> = actions[..3]
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        ["chat_postMessage", "users_list", "conversations_create"]
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.ends_with("174 actions in 'slack' (dry run: nothing stored)\n"),
        "{stderr}"
    );
}

#[test]
fn a_broken_document_fails_with_one_line_naming_it() {
    let dir = std::env::temp_dir().join(format!("waygate-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "openapi: 3.0.0\npaths:\n  /x:\n    get: {responses: {200: {$ref: '#/nope'}}}\n  bad: [\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["import", &broken.display().to_string(), "--dry-run"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("waygate: cannot import ") && err.contains("broken.yaml"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_multi_file_description_imports_from_a_url() {
    let files = DocSite::files(&openapi_fixture("digitalocean"));
    let url = format!("{}/specification/DigitalOcean-public.v2.yaml", files.1);

    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["import", &url, "--dry-run", "--json"])
        .env("WAYGATE_ALLOW_PRIVATE_NETWORKS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let def: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(def["actions"].as_array().unwrap().len(), 659);
    assert_eq!(def["auth"]["type"], "bearer");

    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("remote").await;
    let answer = gw
        .created(
            "/api/v1/integrations/import",
            &key,
            json!({"url": url, "slug": "digitalocean"}),
        )
        .await;
    assert_eq!(answer["actionCount"], 659, "{answer}");
    assert_eq!(answer["integration"]["slug"], "digitalocean");

    for body in [
        json!({"url": url, "openapi": {}}),
        json!({"slug": "x"}),
        json!({"url": "not a url"}),
        json!({"url": format!("{}/nothing.yaml", files.1)}),
    ] {
        let (status, error) = gw
            .call(
                Method::POST,
                "/api/v1/integrations/import",
                &key,
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(error["error"]["code"], "VALIDATION_ERROR", "{error}");
    }
}
