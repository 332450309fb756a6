//! Requests a third party accepts: Stoplight Prism serves a vendor's spec on
//! loopback and validates every request against it (path, query, headers, body,
//! security). Every action imported from the spec is invoked through the full
//! pipeline with an input generated from its input schema; Prism must accept
//! each one.
//!
//! Needs Prism (`npm install @stoplight/prism-cli@5`); `.ci/run` installs it and runs
//! `WAYGATE_PRISM_BIN=…/prism cargo test -p waygate-core --test prism -- --ignored`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use waygate_core::import::{ImportOptions, from_file};
use waygate_core::model::{BreakerConfig, RetryConfig};
use waygate_core::schema::example;
use waygate_core::{Connection, Credential, UrlPolicy, Waygate};

/// Statuses with which Prism refuses a request that breaks the spec.
const REFUSALS: [u16; 5] = [401, 404, 405, 415, 422];

struct Prism {
    child: Child,
    url: String,
}

impl Prism {
    fn start(spec: &Path) -> Self {
        let bin =
            std::env::var("WAYGATE_PRISM_BIN").expect("set WAYGATE_PRISM_BIN to the prism binary");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args([
                "mock",
                "--errors",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .arg(spec)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prism starts");
        let prism = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "prism did not listen on {port} within 120 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prism
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/openapi")
        .join(relative)
}

/// Whether Prism accepted the request, though the answer is an error: a
/// documented non-2xx example, or Prism's 500 about the vendor's own example
/// *response* breaking its schema (every violation located in the response).
fn accepted(e: &waygate_core::Error) -> bool {
    match e.upstream_status() {
        Some(s) if s < 500 => !REFUSALS.contains(&s),
        Some(_) => {
            let details = e.details();
            let violations = details["upstreamBody"]["validation"].as_array();
            violations
                .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x["location"][0] == "response"))
        }
        None => false,
    }
}

/// Imports `spec` (a vendor fixture's path), serves it with Prism, invokes every
/// action; returns how many ran.
async fn every_action_is_accepted(spec: &str, credential: Credential) -> usize {
    every_action_of_file_is_accepted(&fixture(spec), credential).await
}

/// [`every_action_is_accepted`] for the spec at `path`.
async fn every_action_of_file_is_accepted(path: &Path, credential: Credential) -> usize {
    let spec = path.display();
    let prism = Prism::start(path);
    let options = ImportOptions {
        slug: Some("spec".into()),
        base_url: Some(prism.url.clone()),
        ..Default::default()
    };
    let mut def = from_file(path, &options).unwrap().integration;
    // One attempt per request and no breaker: every request is judged on its own.
    def.defaults.retry = Some(RetryConfig {
        max_attempts: Some(1),
        ..Default::default()
    });
    def.defaults.circuit_breaker = Some(BreakerConfig {
        enabled: Some(false),
        ..Default::default()
    });
    let actions = def.actions.clone();
    let waygate = Waygate::builder()
        .integration(def)
        .connection("spec", Connection::default_with(credential))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap();
    let mut refused = Vec::new();
    for action in &actions {
        let input = example(&action.input_schema);
        match waygate
            .invoke(&format!("spec.{}", action.slug), input.clone())
            .await
        {
            Ok(_) => {}
            Err(e) if accepted(&e) => {}
            Err(e) => refused.push(format!(
                "{} {} with {input}: {e} {}",
                action.method,
                action.path,
                e.details()
            )),
        }
    }
    assert!(
        refused.is_empty(),
        "{spec}: {} of {} requests refused:\n{}",
        refused.len(),
        actions.len(),
        refused.join("\n")
    );
    actions.len()
}

#[tokio::test]
#[ignore = "needs Prism: set WAYGATE_PRISM_BIN (see .ci/run)"]
async fn prism_accepts_every_slack_action() {
    let n = every_action_is_accepted(
        "slack/slack_web_openapi_v2.json",
        Credential::bearer("xoxb-test-token"),
    )
    .await;
    assert_eq!(n, 174);
}

#[tokio::test]
#[ignore = "needs Prism: set WAYGATE_PRISM_BIN (see .ci/run)"]
async fn prism_accepts_every_petstore_expanded_action() {
    let n = every_action_is_accepted(
        "oai-examples/examples/v3.0/petstore-expanded.yaml",
        Credential::None,
    )
    .await;
    assert_eq!(n, 4);
}

#[tokio::test]
#[ignore = "needs Prism: set WAYGATE_PRISM_BIN (see .ci/run)"]
async fn prism_accepts_a_required_body_without_fields() {
    // The example input of `createThing` is `{}`: no field lands in its
    // required body, which is still sent (`{}`), or Prism answers 422.
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/required-body.yaml");
    let n = every_action_of_file_is_accepted(&spec, Credential::None).await;
    assert_eq!(n, 2);
}
