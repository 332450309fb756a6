//! The request edge under hostile clients: callers are authenticated from
//! their headers before a body is read (on the invocation route and the rest of the API alike),
//! every body has a total deadline, the bodies held at once stay within the
//! memory budget, and `/metrics` is for the operator or a private address.

use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{ADMIN_KEY, Gateway, serve_upstream};

/// An answer read off a raw socket.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn addr(gw: &Gateway) -> String {
    gw.url.trim_start_matches("http://").to_owned()
}

/// The request head of a JSON POST to `path` declaring `length` body bytes.
fn head(path: &str, key: Option<&str>, length: usize) -> String {
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n{auth}Content-Length: {length}\r\n\r\n"
    )
}

/// Reads one answer (a `Content-Length` body) from `stream`, within `limit`.
async fn read_answer(stream: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> Answer {
    tokio::time::timeout(limit, async {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let n = stream.read(&mut chunk).await.expect("reading the answer");
            assert!(n > 0, "closed without an answer: {bytes:?}");
            bytes.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
        let status = head[9..12].parse().unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = bytes[end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk).await.expect("reading the body");
            assert!(n > 0, "closed inside the body");
            body.extend_from_slice(&chunk[..n]);
        }
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)))
        };
        Answer { status, head, body }
    })
    .await
    .unwrap_or_else(|_| panic!("no answer within {limit:?}"))
}

/// Sends `head` then `body` (in the background, errors ignored: the server
/// may answer and close before taking all of it) and reads the answer.
async fn exchange(gw: &Gateway, head: String, body: Vec<u8>, limit: Duration) -> Answer {
    let stream = TcpStream::connect(addr(gw)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let sender = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await;
        // Kept open until the answer is read: a half-closed socket is another case.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(write);
    });
    let answer = read_answer(&mut read, limit).await;
    sender.abort();
    answer
}

/// The server's resident memory, in bytes.
fn rss(gw: &Gateway) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", gw.pid())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status");
    kb * 1024
}

/// The value of an unlabelled series in Prometheus text.
fn series(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {metrics}"))
}

#[tokio::test]
async fn anonymous_callers_are_answered_from_their_headers() {
    let gw = Gateway::start(&[]);
    let (_, key) = gw.tenant("Edge").await;
    for path in ["/api/v1/actions/echo/ping", "/api/v1/integrations"] {
        // Only the headers are sent: an answer proves the body was not awaited.
        let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
        stream
            .write_all(head(path, None, 16_000_000).as_bytes())
            .await
            .unwrap();
        let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(answer.status, 401, "{path}: {answer:?}");
        assert_eq!(answer.body["error"]["code"], "UNAUTHORIZED");

        // A bad key, and a client waiting for `100 Continue`, are answered alike.
        let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
        let asking = head(path, Some("wg_live_not-a-key"), 16_000_000)
            .replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n");
        stream.write_all(asking.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
        assert_eq!(answer.status, 401, "{path}: {answer:?}");
    }
    // A tenant's key: the body is awaited (then cut off below).
    let mut stream = TcpStream::connect(addr(&gw)).await.unwrap();
    stream
        .write_all(head("/api/v1/actions/echo/ping", Some(&key), 100).as_bytes())
        .await
        .unwrap();
    let mut one = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut one)).await;
    assert!(
        waited.is_err(),
        "an authenticated body is read, not refused"
    );

    // Fifty anonymous uploads of 16 MB leave the server's memory where it was.
    let before = rss(&gw);
    let uploads = (0..50).map(|_| {
        exchange(
            &gw,
            head("/api/v1/actions/echo/ping", None, 16_000_000),
            vec![b' '; 16_000_000],
            Duration::from_secs(20),
        )
    });
    for answer in futures::future::join_all(uploads).await {
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    let grown = rss(&gw).saturating_sub(before);
    eprintln!(
        "RSS before 50 anonymous 16 MB uploads: {} MB, grown by {} KB",
        before / 1024 / 1024,
        grown / 1024
    );
    assert!(
        grown < 64 * 1024 * 1024,
        "RSS grew by {} MB",
        grown / 1024 / 1024
    );
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_at_its_deadline() {
    let gw = Gateway::start(&[("WAYGATE_BODY_TIMEOUT_SECS", "2")]);
    let (_, key) = gw.tenant("Trickle").await;
    for path in ["/api/v1/actions/echo/ping", "/api/v1/integrations"] {
        let stream = TcpStream::connect(addr(&gw)).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let started = Instant::now();
        let head = head(path, Some(&key), 64);
        // One byte every 400 ms: never idle for long, never done.
        let trickle = tokio::spawn(async move {
            write.write_all(head.as_bytes()).await.unwrap();
            for _ in 0..64 {
                if write.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
        });
        let answer = read_answer(&mut read, Duration::from_secs(10)).await;
        let took = started.elapsed();
        trickle.abort();
        assert_eq!(answer.status, 408, "{path}: {answer:?}");
        assert_eq!(answer.body["error"]["code"], "REQUEST_TIMEOUT");
        assert_eq!(answer.body["error"]["details"]["limitSeconds"], 2);
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
            "{path}: answered after {took:?}"
        );
    }
    // A body that arrives in time is served as always.
    let (status, _) = gw
        .call(
            Method::POST,
            "/api/v1/integrations",
            &key,
            Some(json!({"slug": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bodies_held_at_once_stay_within_the_memory_budget() {
    // Answers after 3 s: the bodies of calls in flight stay reserved meanwhile.
    let upstream = serve_upstream(axum::Router::new().route(
        "/slow",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Json(json!({"done": true}))
        }),
    ))
    .await;
    let gw = Gateway::start(&[
        ("WAYGATE_MAX_BODY_BYTES", "1048576"),
        ("WAYGATE_BODY_MEMORY_BYTES", "2097152"),
        ("WAYGATE_BODY_TIMEOUT_SECS", "2"),
    ]);
    let (_, key) = gw.tenant("Budget").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "slow", "name": "Slow", "baseUrl": upstream, "auth": {"type": "none"},
            "actions": [{"slug": "put", "method": "POST", "path": "/slow",
                "inputSchema": {"type": "object", "properties": {"pad": {"type": "string"}}}}]}),
    )
    .await;
    let big = json!({"input": {"pad": "x".repeat(900_000)}})
        .to_string()
        .into_bytes();
    let call = |body: Vec<u8>| {
        exchange(
            &gw,
            head("/api/v1/actions/slow/put", Some(&key), body.len()),
            body,
            Duration::from_secs(15),
        )
    };

    // Two calls of ~900 KB take ~1.8 MB of the 2 MiB while their upstream works.
    let held = futures::future::join(call(big.clone()), call(big.clone()));
    let crowded = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let reserved = series(&gw.metrics().await, "waygate_request_body_reserved_bytes");
        assert!(
            (1_800_000.0..=2_097_152.0).contains(&reserved),
            "{reserved} bytes reserved"
        );
        // Three more of that size find no room within their deadline: 503.
        let refused = futures::future::join_all((0..3).map(|_| call(big.clone()))).await;
        // A small body fits in what is left, at once.
        let small = call(br#"{"input": {"pad": "tiny"}}"#.to_vec()).await;
        (reserved, refused, small)
    };
    let ((first, second), (_, refused, small)) = futures::future::join(held, crowded).await;
    for answer in [first, second, small] {
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    for answer in refused {
        assert_eq!(answer.status, 503, "{answer:?}");
        assert_eq!(answer.body["error"]["code"], "SERVICE_BUSY");
        assert!(answer.header("retry-after").is_some(), "{answer:?}");
    }
    let reserved = series(&gw.metrics().await, "waygate_request_body_reserved_bytes");
    assert_eq!(reserved, 0.0, "every reservation is released");
    // With room again, a large body is served.
    let answer = call(big).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn metrics_take_the_operator_key_or_their_own_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let gw = Gateway::start(&[("WAYGATE_METRICS_ADDR", &metrics_addr)]);
    let (_, key) = gw.tenant("Metrics").await;
    let get = |url: String, key: Option<&str>| {
        let mut request = gw.client.get(url);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    for key in [None, Some(key.as_str()), Some("wrong")] {
        let (status, body) = get(format!("{}/metrics", gw.url), key).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "UNAUTHORIZED");
    }
    let (status, text) = get(format!("{}/metrics", gw.url), Some(ADMIN_KEY)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("waygate_http_requests_total"), "{text}");
    // The private address: Prometheus text without a key, and nothing else.
    let (status, text) = get(format!("http://{metrics_addr}/metrics"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("waygate_http_requests_total"), "{text}");
    let (status, _) = get(format!("http://{metrics_addr}/api/v1/tenants"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Without an operator key, the main address does not serve them at all.
    let bare = Gateway::start(&[("WAYGATE_ADMIN_KEY", "")]);
    let (status, body) = bare.call(Method::GET, "/metrics", "anything", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["error"]["details"]["reason"]
            .as_str()
            .unwrap()
            .contains("WAYGATE_METRICS_ADDR")
    );
}
