//! The CLI of API.md against one data dir: `tenant create`, `import` (stored),
//! `invoke` against a local upstream; every command has `--help`; failures
//! exit non-zero with one line.

use std::process::{Command, Output};

use axum::Json;
use axum::routing::get;
use serde_json::{Value, json};

use crate::support::{TempDir, serve_upstream};

fn waygate(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(args)
        .arg("--data-dir")
        .arg(dir.0.join("data"))
        .env_remove("WAYGATE_DATABASE_URL")
        .env_remove("WAYGATE_MASTER_KEY")
        .env_remove("WAYGATE_TENANT")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn one_line_failure(out: &Output) -> String {
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

// Multi-threaded: the upstream serves while this thread waits for the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_import_and_invoke_from_the_command_line() {
    let upstream = serve_upstream(
        axum::Router::new().route("/items", get(|| async { Json(json!([{"id": "a1"}])) })),
    )
    .await;
    let dir = TempDir::new("cli");
    let spec = dir.0.join("items.json");
    std::fs::write(
        &spec,
        json!({
            "openapi": "3.0.3",
            "info": {"title": "Items", "version": "1"},
            "servers": [{"url": upstream}],
            "paths": {"/items": {"get": {"operationId": "listItems",
                "responses": {"200": {"description": "ok"}}}}}
        })
        .to_string(),
    )
    .unwrap();
    let spec = spec.display().to_string();

    // No tenant yet: import says how to make one.
    let err = one_line_failure(&waygate(&dir, &["import", &spec]));
    assert!(err.contains("waygate tenant create"), "{err}");

    let created: Value = serde_json::from_str(&ok(&waygate(
        &dir,
        &["tenant", "create", "Acme", "--id", "acme", "--json"],
    )))
    .unwrap();
    assert_eq!(created["tenant"]["id"], "acme");
    assert!(created["apiKey"].as_str().unwrap().starts_with("wg_live_"));
    let err = one_line_failure(&waygate(
        &dir,
        &["tenant", "create", "Again", "--id", "acme"],
    ));
    assert!(err.contains("exists"), "{err}");

    let out = ok(&waygate(&dir, &["import", &spec, "--slug", "items"]));
    assert!(out.contains("imported 1 actions into 'items'"), "{out}");
    let err = one_line_failure(&waygate(&dir, &["import", &spec, "--slug", "items"]));
    assert!(err.contains("already"), "{err}");

    let out = ok(&waygate(
        &dir,
        &[
            "invoke",
            "items.listItems",
            "--input",
            "{}",
            "--allow-private-networks",
        ],
    ));
    let result: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(result["data"][0]["id"], "a1");
    assert_eq!(result["meta"]["upstreamStatus"], 200);

    let err = one_line_failure(&waygate(&dir, &["invoke", "items.nope"]));
    assert!(err.contains("NOT_FOUND"), "{err}");
    let err = one_line_failure(&waygate(
        &dir,
        &["invoke", "items.listItems", "--input", "{bad"],
    ));
    assert!(err.contains("--input is not JSON"), "{err}");
    // The strict URL policy by default: loopback is refused, in one line.
    let err = one_line_failure(&waygate(&dir, &["invoke", "items.listItems"]));
    assert!(err.contains("URL_NOT_ALLOWED"), "{err}");
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["tenant", "--help"],
        vec!["tenant", "create", "--help"],
        vec!["import", "--help"],
        vec!["invoke", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage: waygate"), "{args:?}: {text}");
    }
}
