//! The invocation pipeline against real HTTP servers on 127.0.0.1.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::{Reply, Upstream};
use waygate_core::clock::ManualClock;
use waygate_core::pipeline::{BreakerState, MemoryLogSink};
use waygate_core::{Connection, Credential, ErrorKind, IntegrationDef, UrlPolicy, Waygate};

/// A fixed wall time on a whole second, so HTTP dates round-trip exactly.
fn epoch() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000)
}

fn definition(base_url: &str, auth: Value, defaults: Value) -> IntegrationDef {
    IntegrationDef::from_json(
        &json!({
            "slug": "chaos",
            "name": "Chaos API",
            "baseUrl": base_url,
            "auth": auth,
            "defaults": defaults,
            "actions": [
                {"slug": "get_item", "method": "GET", "path": "/items/{id}",
                 "parameters": [{"name": "id", "in": "path"}, {"name": "fields", "in": "query"}],
                 "inputSchema": {"type": "object", "required": ["id"],
                                 "properties": {"id": {"type": "string"}, "fields": {"type": "array", "items": {"type": "string"}}}}},
                {"slug": "create_item", "method": "POST", "path": "/items",
                 "inputSchema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
            ]
        })
        .to_string(),
    )
    .unwrap()
}

struct Setup {
    upstream: Upstream,
    waygate: Waygate,
    clock: Arc<ManualClock>,
    logs: Arc<MemoryLogSink>,
}

async fn setup(auth: Value, credential: Credential, defaults: Value) -> Setup {
    let upstream = Upstream::start().await;
    let clock = ManualClock::new(epoch());
    let logs = Arc::new(MemoryLogSink::new(100));
    let waygate = Waygate::builder()
        .integration(definition(&upstream.url(), auth, defaults))
        .connection("chaos", Connection::default_with(credential))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .clock(clock.clone())
        .log_sink(logs.clone())
        .build()
        .unwrap();
    Setup {
        upstream,
        waygate,
        clock,
        logs,
    }
}

impl Setup {
    /// `chaos.get_item` with id 1: the call most tests make.
    async fn get_item(&self) -> Result<waygate_core::Invocation, waygate_core::Error> {
        self.waygate
            .invoke("chaos.get_item", json!({"id": "1"}))
            .await
    }

    /// The default connection's breaker state.
    fn breaker(&self) -> BreakerState {
        self.waygate
            .executor()
            .breaker_state("embedded", "chaos", "default")
    }
}

async fn plain() -> Setup {
    setup(
        json!({"type": "bearer"}),
        Credential::bearer("tok-abc-123"),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_get_arrives_as_built_and_returns_the_data() {
    let s = plain().await;
    s.upstream
        .script([Reply::json(200, json!({"id": "a/b", "name": "thing"}))]);
    let result = s
        .waygate
        .invoke("chaos.get_item", json!({"id": "a/b", "fields": ["x", "y"]}))
        .await
        .unwrap();
    assert_eq!(result.data, json!({"id": "a/b", "name": "thing"}));
    assert_eq!(result.meta.attempts, 1);
    assert_eq!(result.meta.upstream_status, Some(200));
    let got = &s.upstream.received()[0];
    assert_eq!(
        (got.method.as_str(), got.path.as_str()),
        ("GET", "/items/a%2Fb")
    );
    assert_eq!(got.query.as_deref(), Some("fields=x&fields=y"));
    assert_eq!(got.header("authorization"), Some("Bearer tok-abc-123"));
    assert_eq!(
        got.header("x-request-id"),
        Some(result.meta.request_id.as_str())
    );
}

#[tokio::test]
async fn a_null_for_an_optional_field_means_absent_and_a_required_one_stays_wrong() {
    // What a strict LLM tool call sends for "no value" (decision 52), on the
    // plain invoke as through MCP.
    let s = plain().await;
    s.waygate
        .invoke("chaos.get_item", json!({"id": "1", "fields": null}))
        .await
        .unwrap();
    assert_eq!(s.upstream.received()[0].query, None, "no `fields` sent");
    let e = s
        .waygate
        .invoke("chaos.get_item", json!({"id": null}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "VALIDATION_ERROR", "{e}");
    assert_eq!(s.upstream.received().len(), 1);
}

#[tokio::test]
async fn retries_503_with_backoff_then_succeeds() {
    let s = setup(
        json!({"type": "none"}),
        Credential::None,
        json!({"retry": {"maxAttempts": 3, "baseDelayMs": 100}}),
    )
    .await;
    s.upstream.script([Reply::status(503), Reply::status(503)]);
    let result = s.get_item().await.unwrap();
    assert_eq!(result.meta.attempts, 3);
    assert_eq!(s.upstream.received().len(), 3);
    let sleeps = s.clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(
        sleeps[0] <= Duration::from_millis(100) && sleeps[1] <= Duration::from_millis(200),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_an_http_date_is_honoured() {
    let s = plain().await;
    let date = httpdate::fmt_http_date(epoch() + Duration::from_secs(7));
    s.upstream.script([
        Reply::status(429).header("retry-after", "2"),
        Reply::status(503).header("retry-after", &date),
    ]);
    let result = s.get_item().await.unwrap();
    assert_eq!(result.meta.attempts, 3);
    // The second wait is measured from the clock after the first (2 s later).
    assert_eq!(
        s.clock.sleeps(),
        [Duration::from_secs(2), Duration::from_secs(5)]
    );
}

#[tokio::test]
async fn a_429_that_outlasts_the_policy_is_rate_limited_with_the_wait() {
    let s = plain().await;
    s.upstream
        .script([Reply::status(429).header("retry-after", "120")]);
    let err = s.get_item().await.unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
    assert_eq!(err.upstream_status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(
        err.meta().unwrap().attempts,
        1,
        "a wait beyond 60 s is not taken"
    );
    assert_eq!(
        err.to_json()["error"]["suggestedResolution"]["retryAfterMs"],
        120_000
    );
}

#[tokio::test]
async fn writes_are_sent_once_without_a_key_and_retried_with_the_same_key() {
    let s = plain().await;
    s.upstream.script([Reply::status(503)]);
    let err = s
        .waygate
        .invoke("chaos.create_item", json!({"name": "n"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UPSTREAM_ERROR");
    assert_eq!(err.upstream_status(), Some(503));
    assert!(err.may_have_been_sent());
    assert_eq!(
        s.upstream.received().len(),
        1,
        "a write without a key is sent once"
    );

    s.upstream.script([Reply::status(503), Reply::status(502)]);
    let ok = s
        .waygate
        .invoke("chaos.create_item", json!({"name": "n"}))
        .idempotency_key("key-7")
        .await
        .unwrap();
    assert_eq!(ok.meta.attempts, 3);
    let keys: Vec<_> = s.upstream.received()[1..]
        .iter()
        .map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    assert_eq!(keys, vec![Some("key-7".to_owned()); 3]);
    assert_eq!(s.upstream.received()[1].body_text(), r#"{"name":"n"}"#);
}

#[tokio::test]
async fn the_idempotency_header_name_is_configurable() {
    let s = setup(
        json!({"type": "none"}),
        Credential::None,
        json!({"idempotencyHeader": "X-Idem"}),
    )
    .await;
    s.waygate
        .invoke("chaos.create_item", json!({"name": "n"}))
        .idempotency_key("k")
        .await
        .unwrap();
    assert_eq!(s.upstream.received()[0].header("x-idem"), Some("k"));
}

#[tokio::test]
async fn the_breaker_opens_refuses_without_sending_then_probes_and_closes() {
    let defaults = json!({"retry": {"maxAttempts": 1}, "circuitBreaker": {"failureThreshold": 3, "windowMs": 30000, "openMs": 60000}});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    s.upstream
        .script([Reply::status(500), Reply::status(500), Reply::status(500)]);
    for _ in 0..3 {
        let e = s.get_item().await.unwrap_err();
        assert_eq!(e.code(), "UPSTREAM_ERROR");
    }
    let exec = s.waygate.executor();
    assert_eq!(
        exec.breaker_state("embedded", "chaos", "default"),
        BreakerState::Open
    );
    let open = s.get_item().await.unwrap_err();
    assert_eq!(open.code(), "CIRCUIT_OPEN");
    assert!(!open.may_have_been_sent());
    assert_eq!(open.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(
        s.upstream.received().len(),
        3,
        "an open breaker never touches the upstream"
    );

    s.clock.advance(Duration::from_secs(61));
    assert_eq!(
        exec.breaker_state("embedded", "chaos", "default"),
        BreakerState::HalfOpen
    );
    s.get_item().await.unwrap();
    assert_eq!(
        exec.breaker_state("embedded", "chaos", "default"),
        BreakerState::Closed
    );
    assert_eq!(s.upstream.received().len(), 4);
}

#[tokio::test]
async fn a_flaky_upstream_that_succeeds_on_retry_never_opens_the_breaker() {
    let defaults = json!({"retry": {"maxAttempts": 2, "baseDelayMs": 1}});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    for _ in 0..10 {
        s.upstream.script([Reply::status(503), Reply::status(200)]);
        s.get_item().await.unwrap();
    }
    assert_eq!(s.upstream.received().len(), 20, "ten failed attempts");
    assert_eq!(s.breaker(), BreakerState::Closed);
}

#[tokio::test]
async fn a_small_error_rate_at_high_traffic_keeps_the_breaker_closed() {
    let defaults = json!({"retry": {"maxAttempts": 1}});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    // One call in ten fails (10 %), twice in a row at most.
    s.upstream.script((0..200).map(|i| match i % 20 {
        0 | 1 => Reply::status(503),
        _ => Reply::status(200),
    }));
    for i in 0..200 {
        let result = s.get_item().await;
        assert_eq!(result.is_err(), i % 20 < 2, "call {i}");
    }
    assert_eq!(s.breaker(), BreakerState::Closed);
}

#[tokio::test]
async fn one_failing_action_does_not_block_the_others() {
    let defaults = json!({"retry": {"maxAttempts": 1}, "circuitBreaker": {"failureThreshold": 3}});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    s.upstream
        .script([Reply::status(500), Reply::status(500), Reply::status(500)]);
    for _ in 0..3 {
        let e = s.get_item().await.unwrap_err();
        assert_eq!(e.code(), "UPSTREAM_ERROR");
    }
    let open = s.get_item().await.unwrap_err();
    assert_eq!(open.code(), "CIRCUIT_OPEN");
    s.waygate
        .invoke("chaos.create_item", json!({"name": "n"}))
        .await
        .expect("another action of the same connection still runs");
    assert_eq!(
        s.breaker(),
        BreakerState::Open,
        "the connection reports its open action breaker"
    );
}

#[tokio::test]
async fn a_dead_host_opens_every_action_after_a_few_calls() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let waygate = Waygate::builder()
        .integration(definition(
            &format!("http://127.0.0.1:{port}"),
            json!({"type": "none"}),
            json!({"retry": {"maxAttempts": 1}, "circuitBreaker": {"failureThreshold": 3}}),
        ))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .clock(ManualClock::new(epoch()))
        .build()
        .unwrap();
    let get = || waygate.invoke("chaos.get_item", json!({"id": "1"}));
    let create = || waygate.invoke("chaos.create_item", json!({"name": "n"}));
    // Three calls without an answer, spread over two actions.
    for e in [get().await, create().await, get().await] {
        assert_eq!(e.unwrap_err().code(), "UPSTREAM_UNREACHABLE");
    }
    for e in [get().await, create().await] {
        let e = e.unwrap_err();
        assert_eq!(e.code(), "CIRCUIT_OPEN", "{e}");
        assert_eq!(e.meta().unwrap().attempts, 0);
    }
}

#[tokio::test]
async fn a_slow_upstream_times_out_as_upstream_timeout_on_the_injected_clock() {
    let defaults = json!({"timeoutMs": 100, "retry": {"maxAttempts": 1}});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    s.upstream
        .script([Reply::status(200).delayed(Duration::from_secs(60))]);
    let done = std::sync::atomic::AtomicBool::new(false);
    let call = async {
        let result = s.get_item().await;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        result
    };
    // The timeout is measured on the manual clock: it fires when the clock
    // passes 100 ms, not after 100 ms of real time.
    let drive = async {
        for _ in 0..1_000 {
            if !s.upstream.received().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        s.clock.advance(Duration::from_millis(99));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !done.load(std::sync::atomic::Ordering::SeqCst),
            "timed out before the clock reached the timeout"
        );
        s.clock.advance(Duration::from_millis(1));
    };
    let (result, ()) = tokio::join!(call, drive);
    let err = result.unwrap_err();
    assert_eq!(err.code(), "UPSTREAM_TIMEOUT");
    assert!(
        matches!(err.kind(), ErrorKind::Timeout { after, .. } if *after == Duration::from_millis(100))
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_writes_and_reported_unsent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let waygate = Waygate::builder()
        .integration(definition(
            &format!("http://127.0.0.1:{port}"),
            json!({"type": "none"}),
            json!({"retry": {"baseDelayMs": 1}}),
        ))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .clock(ManualClock::new(epoch()))
        .build()
        .unwrap();
    let err = waygate
        .invoke("chaos.create_item", json!({"name": "n"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UPSTREAM_UNREACHABLE");
    assert!(!err.may_have_been_sent());
    assert_eq!(
        err.meta().unwrap().attempts,
        3,
        "nothing was sent, so retrying a write is safe"
    );
    assert!(!err.to_string().contains("127.0.0.1"), "{err}");
}

/// What an upstream must have received for a scheme to count as applied.
type Arrived = Box<dyn Fn(&support::Received) -> bool>;

#[tokio::test]
async fn every_auth_scheme_arrives_upstream() {
    let cases: Vec<(Value, Credential, &str, Arrived)> = vec![
        (
            json!({"type": "api_key", "in": "header", "name": "X-Api-Key"}),
            Credential::api_key("k-header-1"),
            "header",
            Box::new(|r| r.header("x-api-key") == Some("k-header-1")),
        ),
        (
            json!({"type": "api_key", "in": "query", "name": "api_key"}),
            Credential::api_key("k-query-1"),
            "query",
            Box::new(|r| r.query.as_deref() == Some("api_key=k-query-1")),
        ),
        (
            json!({"type": "api_key", "in": "body", "name": "token"}),
            Credential::api_key("k-body-1"),
            "body",
            Box::new(|r| r.body_text() == r#"{"name":"n","token":"k-body-1"}"#),
        ),
        (
            json!({"type": "api_key", "in": "cookie", "name": "sid"}),
            Credential::api_key("k-cookie-1"),
            "cookie",
            Box::new(|r| r.header("cookie") == Some("sid=k-cookie-1")),
        ),
        (
            json!({"type": "basic"}),
            Credential::basic("ann", "pw-basic-1"),
            "basic",
            Box::new(|r| r.header("authorization") == Some("Basic YW5uOnB3LWJhc2ljLTE=")),
        ),
        (
            json!({"type": "bearer"}),
            Credential::bearer("tok-bearer-1"),
            "bearer",
            Box::new(|r| r.header("authorization") == Some("Bearer tok-bearer-1")),
        ),
        (
            json!({"type": "custom_headers", "headers": ["X-App-Id", "X-Sig"]}),
            Credential::custom_headers([("X-App-Id", "app-1"), ("X-Sig", "sig-custom-1")]),
            "custom",
            Box::new(|r| {
                r.header("x-app-id") == Some("app-1") && r.header("x-sig") == Some("sig-custom-1")
            }),
        ),
    ];
    for (auth, credential, name, arrived) in cases {
        let s = setup(auth, credential, json!({})).await;
        s.waygate
            .invoke("chaos.create_item", json!({"name": "n"}))
            .await
            .unwrap();
        let got = &s.upstream.received()[0];
        assert!(arrived(got), "{name}: {got:?}");
    }
}

#[tokio::test]
async fn secrets_never_show_in_errors_debug_logs_or_previews() {
    let secrets = ["tok-secret-zz9", "pw-secret-zz9", "qk-secret-zz9"];
    let cases = [
        (json!({"type": "bearer"}), Credential::bearer(secrets[0])),
        (
            json!({"type": "basic"}),
            Credential::basic("ann", secrets[1]),
        ),
        (
            json!({"type": "api_key", "in": "query", "name": "key"}),
            Credential::api_key(secrets[2]),
        ),
    ];
    for ((auth, credential), secret) in cases.into_iter().zip(secrets) {
        let s = setup(auth, credential, json!({"retry": {"maxAttempts": 1}})).await;
        // The upstream echoes the credential back in its error body.
        s.upstream.script([Reply::json(
            401,
            json!({"error": format!("bad credential {secret}")}),
        )]);
        let err = s.get_item().await.unwrap_err();
        assert_eq!(
            err.suggested_resolution().action,
            waygate_core::error::ResolutionAction::RefreshCredentials
        );
        let preview = s
            .waygate
            .invoke("chaos.get_item", json!({"id": "1"}))
            .preview()
            .await
            .unwrap();
        let mut shown = format!("{err} {err:?} {:?}", s.waygate);
        shown.push_str(&serde_json::to_string(&preview).unwrap());
        for entry in s.logs.entries() {
            shown.push_str(&serde_json::to_string(&entry).unwrap());
        }
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
}

#[tokio::test]
async fn invalid_input_is_refused_before_anything_is_sent() {
    let s = plain().await;
    let err = s
        .waygate
        .invoke("chaos.get_item", json!({"id": 5, "fields": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "VALIDATION_ERROR");
    let violations = &err.details()["violations"];
    let pointers: Vec<_> = violations
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers.len(), 2);
    assert!(
        pointers.contains(&"/id") && pointers.contains(&"/fields"),
        "{violations}"
    );
    assert_eq!(violations[0]["rule"], "type");
    assert!(s.upstream.received().is_empty());
    assert_eq!(err.meta().unwrap().attempts, 0);
}

#[tokio::test]
async fn the_outbound_url_policy_refuses_loopback_and_redirects_to_private_addresses() {
    let upstream = Upstream::start().await;
    let strict = Waygate::builder()
        .integration(definition(
            &upstream.url(),
            json!({"type": "none"}),
            json!({}),
        ))
        .build()
        .unwrap();
    let err = strict
        .invoke("chaos.get_item", json!({"id": "1"}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "URL_NOT_ALLOWED");
    assert!(upstream.received().is_empty());

    let s = setup(
        json!({"type": "none"}),
        Credential::None,
        json!({"retry": {"maxAttempts": 1}}),
    )
    .await;
    s.upstream
        .script([Reply::status(302).header("location", "http://10.1.2.3/internal")]);
    assert_url_refused(&s, "10.1.2.3 is a private address").await;
}

/// Invokes `chaos.get_item` and expects `URL_NOT_ALLOWED` saying `why`.
async fn assert_url_refused(s: &Setup, why: &str) {
    let err = s.get_item().await.unwrap_err();
    assert_eq!(err.code(), "URL_NOT_ALLOWED", "{err:?}");
    assert!(err.to_string().contains(why), "{err}");
}

#[tokio::test]
async fn redirects_are_followed_and_credentials_stay_with_their_origin() {
    let s = plain().await;
    // Same origin: the token follows; a 303 after a POST becomes a GET without a body.
    s.upstream.script([
        Reply::status(303).header("location", "/moved/1?via=303"),
        Reply::json(200, json!({"landed": true})),
    ]);
    let done = s
        .waygate
        .invoke("chaos.create_item", json!({"name": "n"}))
        .await
        .unwrap();
    assert_eq!(done.data, json!({"landed": true}));
    let got = s.upstream.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str()),
        ("POST", "/items")
    );
    assert_eq!(got[1].method, "GET");
    assert_eq!(got[1].path, "/moved/1");
    assert_eq!(got[1].query.as_deref(), Some("via=303"));
    assert!(got[1].body.is_empty());
    assert_eq!(got[1].header("content-type"), None);
    assert_eq!(got[1].header("authorization"), Some("Bearer tok-abc-123"));

    // Another origin (another port): the token is not sent there.
    let elsewhere = Upstream::start().await;
    s.upstream
        .script([Reply::status(307).header("location", &format!("{}/there", elsewhere.url()))]);
    s.waygate
        .invoke("chaos.get_item", json!({"id": "7"}))
        .await
        .unwrap();
    let there = elsewhere.received();
    assert_eq!(there.len(), 1);
    assert_eq!(there[0].path, "/there");
    assert_eq!(there[0].header("authorization"), None);

    // A loop ends after ten hops with a clear error.
    s.upstream
        .script((0..11).map(|_| Reply::status(302).header("location", "/items/again")));
    assert_url_refused(&s, "more than 10 redirects").await;
}

#[tokio::test]
async fn the_outbound_rate_limit_waits_its_turn_on_the_injected_clock_then_sends() {
    let defaults = json!({"rateLimit": {"requestsPerSecond": 0.5, "burst": 1}, "timeoutMs": 5000});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    s.get_item().await.unwrap();
    // The second call's turn is 2 s away, within its timeout: it sleeps on the
    // clock (which moves it, without real waiting), the bucket refills by the
    // same clock, and the call goes out.
    s.get_item().await.unwrap();
    assert_eq!(s.clock.sleeps(), [Duration::from_secs(2)]);
    assert_eq!(s.upstream.received().len(), 2);
    // Had the bucket read another clock, the call would still be refused here.
    s.get_item().await.unwrap();
    assert_eq!(
        s.clock.sleeps(),
        [Duration::from_secs(2), Duration::from_secs(2)]
    );
}

#[tokio::test]
async fn the_outbound_rate_limit_answers_at_once_when_the_wait_is_too_long() {
    let defaults =
        json!({"rateLimit": {"requestsPerSecond": 0.001, "burst": 1}, "timeoutMs": 1000});
    let s = setup(json!({"type": "none"}), Credential::None, defaults).await;
    s.get_item().await.unwrap();
    let err = s.get_item().await.unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
    assert!(err.retry_after().unwrap() > Duration::from_secs(900));
    assert_eq!(err.upstream_status(), None);
    assert_eq!(s.upstream.received().len(), 1);
}

#[tokio::test]
async fn every_invocation_is_logged_sanitized() {
    let s = plain().await;
    s.get_item().await.unwrap();
    s.upstream.script([Reply::status(404)]);
    s.waygate
        .invoke("chaos.get_item", json!({"id": "2"}))
        .await
        .unwrap_err();
    let entries = s.logs.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].error_code, None);
    assert_eq!(entries[0].upstream_status, Some(200));
    assert_eq!(entries[0].connection.as_deref(), Some("default"));
    assert_eq!(entries[1].error_code.as_deref(), Some("UPSTREAM_ERROR"));
    let request = entries[0].request.as_ref().unwrap();
    assert_eq!(request.headers["authorization"], "[REDACTED]");
    assert!(request.url.ends_with("/items/1"));
}

#[tokio::test]
async fn unknown_targets_are_not_found_with_a_clear_name() {
    let s = plain().await;
    let e = s.waygate.invoke("chaos.nope", json!({})).await.unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("NOT_FOUND", "action 'chaos.nope' not found")
    );
    let e = s.waygate.invoke("nope.x", json!({})).await.unwrap_err();
    assert_eq!(e.to_string(), "integration 'nope' not found");
    let e = s
        .waygate
        .invoke("chaos.get_item", json!({"id": "1"}))
        .connection("other")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "connection 'other' of integration 'chaos' not found"
    );
}

#[tokio::test]
async fn a_connection_base_url_overrides_the_integration() {
    let s = plain().await;
    let other = Upstream::start().await;
    s.waygate
        .put_connection(
            "chaos",
            Connection::new("eu", Credential::bearer("t")).with_base_url(other.url()),
        )
        .unwrap();
    s.waygate
        .invoke("chaos.get_item", json!({"id": "1"}))
        .connection("eu")
        .await
        .unwrap();
    assert_eq!(other.received().len(), 1);
    assert!(s.upstream.received().is_empty());
}

#[cfg(feature = "derive")]
mod typed {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use waygate_core::Action;

    use super::*;

    /// Fetches one item.
    #[derive(Serialize, JsonSchema, Action)]
    #[action(integration = "chaos", name = "get_typed", method = "GET", path = "/items/{id}", output = Item)]
    pub(super) struct GetItem {
        #[action(path)]
        pub(super) id: String,
        #[action(header = "X-Trace")]
        pub(super) trace: Option<String>,
    }

    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    pub(super) struct Item {
        pub(super) id: String,
        pub(super) name: String,
    }

    #[tokio::test]
    async fn a_typed_action_runs_through_the_same_pipeline() {
        let upstream = Upstream::start().await;
        let waygate = Waygate::builder()
            .integration(definition(
                &upstream.url(),
                json!({"type": "bearer"}),
                json!({}),
            ))
            .action::<GetItem>()
            .connection(
                "chaos",
                Connection::default_with(Credential::bearer("typed-token")),
            )
            .connection(
                "chaos",
                Connection::new("other", Credential::bearer("other-token")),
            )
            .url_policy(UrlPolicy::strict().allow_loopback())
            .build()
            .unwrap();
        upstream.script([Reply::json(200, json!({"id": "7", "name": "seven"}))]);
        let item = waygate
            .call(GetItem {
                id: "7".into(),
                trace: Some("t-1".into()),
            })
            .on("other")
            .await
            .unwrap();
        assert_eq!(
            item,
            Item {
                id: "7".into(),
                name: "seven".into()
            }
        );
        let got = &upstream.received()[0];
        assert_eq!(got.path, "/items/7");
        assert_eq!(got.header("x-trace"), Some("t-1"));
        assert_eq!(got.header("authorization"), Some("Bearer other-token"));

        upstream.script([Reply::json(200, json!({"unexpected": true}))]);
        let err = waygate
            .call(GetItem {
                id: "8".into(),
                trace: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "UPSTREAM_RESPONSE_INVALID");
        assert!(
            err.to_string()
                .contains("chaos.get_typed output does not decode"),
            "{err}"
        );
        assert_eq!(
            err.upstream_body(),
            Some(&json!({"unexpected": true})),
            "the body the upstream answered is kept"
        );
        assert_eq!(err.details()["upstreamBody"], json!({"unexpected": true}));
    }
}
