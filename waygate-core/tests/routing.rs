//! Where requests go and what they carry: an imported action with its own
//! server (OpenAPI's per-path `servers`, as Twilio writes them) lands on that
//! server, the others on the integration's, and a connection's base URL replaces
//! only the integration's; a required body is always sent; an action that takes
//! an idempotency key sends one key across its retries. Each server is a real
//! upstream on 127.0.0.1.

mod support;

use std::path::PathBuf;

use serde_json::json;
use support::{Reply, Upstream};
use waygate_core::import::{self, ImportOptions};
use waygate_core::model::RetryConfig;
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

/// An account id of the form Twilio's description requires.
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

/// The path whose server the test moves to a second upstream.
const MESSAGES: &str = "  /2010-04-01/Accounts/{AccountSid}/Messages.json:\n";

/// Twilio's description with its servers on `default`, except the Messages
/// path's, which is on `messages`.
fn twilio(default: &str, messages: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/openapi/twilio/twilio_api_v2010.yaml");
    let text = std::fs::read_to_string(path).expect("the Twilio fixture");
    let text = text.replace("https://api.twilio.com", default);
    let at = text.find(MESSAGES).expect("the Messages path") + MESSAGES.len();
    let server = at + text[at..].find(default).expect("its server");
    format!(
        "{}{messages}{}",
        &text[..server],
        &text[server + default.len()..]
    )
}

fn import(text: &str, options: &ImportOptions) -> IntegrationDef {
    import::from_str(text, options).unwrap().integration
}

fn engine(def: IntegrationDef, connection: Connection) -> Waygate {
    Waygate::builder()
        .integration(def)
        .connection("twilio-api", connection)
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap()
}

fn messages_path() -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
}

fn paths(upstream: &Upstream) -> Vec<String> {
    upstream.received().into_iter().map(|r| r.path).collect()
}

#[test]
fn the_importer_records_a_server_other_than_the_default_on_the_action() {
    let text = twilio("https://api.twilio.com", "https://messaging.example.com");
    let def = import(&text, &ImportOptions::default());
    assert_eq!(def.base_url.as_deref(), Some("https://api.twilio.com"));
    let own: Vec<(&str, &str)> = def
        .actions
        .iter()
        .filter_map(|a| Some((a.slug.as_str(), a.base_url.as_deref()?)))
        .collect();
    assert_eq!(
        own,
        [
            ("ListMessage", "https://messaging.example.com"),
            ("CreateMessage", "https://messaging.example.com"),
        ]
    );
    waygate_core::model::check(&def).unwrap();

    // A caller's base URL replaces the default server only.
    let options = ImportOptions {
        base_url: Some("https://proxy.example.com".into()),
        ..ImportOptions::default()
    };
    let def = import(&text, &options);
    assert_eq!(def.base_url.as_deref(), Some("https://proxy.example.com"));
    let list = def.action("ListAccount").unwrap();
    assert_eq!(list.base_url, None);
    let messages = def.action("ListMessage").unwrap();
    assert_eq!(
        messages.base_url.as_deref(),
        Some("https://messaging.example.com")
    );
}

#[tokio::test]
async fn each_action_lands_on_its_own_server() {
    let main = Upstream::start().await;
    let messaging = Upstream::start().await;
    let def = import(
        &twilio(&main.url(), &messaging.url()),
        &ImportOptions::default(),
    );
    let waygate = engine(
        def,
        Connection::default_with(Credential::basic("AC1", "secret")),
    );

    waygate
        .invoke("twilio-api.ListAccount", json!({}))
        .await
        .unwrap();
    waygate
        .invoke("twilio-api.ListMessage", json!({"AccountSid": ACCOUNT}))
        .await
        .unwrap();
    waygate
        .invoke(
            "twilio-api.CreateMessage",
            json!({"AccountSid": ACCOUNT, "To": "+15550001", "From": "+15550002", "Body": "hi"}),
        )
        .await
        .unwrap();

    assert_eq!(paths(&main), ["/2010-04-01/Accounts.json"]);
    assert_eq!(paths(&messaging), [messages_path(), messages_path()]);
    // The credential goes with the request to either server.
    for received in main.received().iter().chain(&messaging.received()) {
        assert!(
            received
                .header("authorization")
                .is_some_and(|h| h.starts_with("Basic ")),
            "{received:?}"
        );
    }
}

#[tokio::test]
async fn a_connection_base_url_replaces_only_the_default_server() {
    let main = Upstream::start().await;
    let messaging = Upstream::start().await;
    let sandbox = Upstream::start().await;
    let def = import(
        &twilio(&main.url(), &messaging.url()),
        &ImportOptions::default(),
    );
    let waygate = engine(
        def,
        Connection::default_with(Credential::basic("AC1", "secret")).with_base_url(sandbox.url()),
    );

    waygate
        .invoke("twilio-api.ListAccount", json!({}))
        .await
        .unwrap();
    waygate
        .invoke("twilio-api.ListMessage", json!({"AccountSid": ACCOUNT}))
        .await
        .unwrap();

    assert!(paths(&main).is_empty());
    assert_eq!(paths(&sandbox), ["/2010-04-01/Accounts.json"]);
    assert_eq!(paths(&messaging), [messages_path()]);
}

/// The required-body fixture, imported to send to `upstream`.
fn required_body(upstream: &Upstream) -> Waygate {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/required-body.yaml");
    let options = ImportOptions {
        base_url: Some(upstream.url()),
        ..ImportOptions::default()
    };
    let def = import::from_file(path, &options).unwrap().integration;
    Waygate::builder()
        .integration(def)
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_required_body_is_sent_when_no_field_lands_in_it() {
    let upstream = Upstream::start().await;
    let waygate = required_body(&upstream);

    waygate
        .invoke("required-bodies.createThing", json!({}))
        .await
        .unwrap();
    waygate
        .invoke("required-bodies.createThing", json!({"name": "n"}))
        .await
        .unwrap();
    // An optional body without fields stays away.
    waygate
        .invoke("required-bodies.touchThing", json!({"id": "t1"}))
        .await
        .unwrap();

    let received = upstream.received();
    let bodies: Vec<(String, Option<&str>)> = received
        .iter()
        .map(|r| (r.body_text(), r.header("content-type")))
        .collect();
    assert_eq!(
        bodies,
        [
            ("{}".to_owned(), Some("application/json")),
            (r#"{"name":"n"}"#.to_owned(), Some("application/json")),
            (String::new(), None),
        ]
    );
}

/// A Stripe-like write that declares the `Idempotency-Key` header, and one that does not.
const CHARGES: &str = r#"
openapi: 3.0.3
info: {title: Charges, version: "1"}
servers: [{url: "https://api.example.com"}]
paths:
  /v1/charges:
    post:
      operationId: createCharge
      parameters:
        - {name: Idempotency-Key, in: header, schema: {type: string}}
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {amount: {type: integer}}}
      responses: {"200": {description: ok}}
  /v1/refunds:
    post:
      operationId: createRefund
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema: {type: object, properties: {amount: {type: integer}}}
      responses: {"200": {description: ok}}
"#;

#[tokio::test]
async fn a_declared_idempotency_key_is_generated_once_and_kept_across_retries() {
    let upstream = Upstream::start().await;
    let options = ImportOptions {
        base_url: Some(upstream.url()),
        ..ImportOptions::default()
    };
    let mut def = import(CHARGES, &options);
    let charge = def.action("createCharge").unwrap();
    assert!(charge.idempotency_key);
    assert!(charge.parameters.is_empty(), "the header is not an input");
    assert!(!def.action("createRefund").unwrap().idempotency_key);
    def.defaults.retry = Some(RetryConfig {
        max_attempts: Some(3),
        base_delay_ms: Some(1),
        max_delay_ms: Some(5),
        ..RetryConfig::default()
    });
    let waygate = Waygate::builder()
        .integration(def)
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap();

    // 503 then 200: the write is retried, with the same key both times.
    upstream.script([Reply::status(503), Reply::status(200)]);
    let done = waygate
        .invoke("charges.createCharge", json!({"amount": 100}))
        .await
        .unwrap();
    assert_eq!(done.meta.attempts, 2);
    waygate
        .invoke("charges.createCharge", json!({"amount": 100}))
        .await
        .unwrap();
    let keys: Vec<String> = upstream
        .received()
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2], "a new invocation, a new key");
    assert_eq!(keys[0].len(), 36, "a UUID: {}", keys[0]);

    // A write without a key is not repeated.
    upstream.script([Reply::status(503)]);
    let err = waygate
        .invoke("charges.createRefund", json!({"amount": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.upstream_status(), Some(503));
    let last = upstream.received();
    assert_eq!(last.len(), 4);
    assert!(last[3].header("idempotency-key").is_none());
}
