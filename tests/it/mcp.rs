//! MCP over the real `waygate` binary: `/mcp` (streamable HTTP, stateless,
//! JSON) with cursors, calls, error results, protocol errors, tenant isolation
//! and the 401 challenge; `waygate mcp` over stdio; `GET /api/v1/tools` and
//! `waygate export tools`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use axum::Json;
use axum::extract::Path as UrlPath;
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Gateway, openapi_fixture_text, serve_upstream};

fn petstore_yaml() -> String {
    openapi_fixture_text("oai-examples/examples/v3.0/petstore.yaml")
}

async fn upstream() -> String {
    let router = axum::Router::new()
        .route(
            "/pets",
            get(|| async { Json(json!([{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom"}])) }),
        )
        .route(
            "/pets/{id}",
            get(|UrlPath(id): UrlPath<String>| async move {
                match id.as_str() {
                    "404" => (
                        axum::http::StatusCode::NOT_FOUND,
                        Json(json!({"message": "no such pet"})),
                    ),
                    _ => (
                        axum::http::StatusCode::OK,
                        Json(json!({"id": 7, "name": id})),
                    ),
                }
            }),
        );
    serve_upstream(router).await
}

/// An integration with `n` actions, to make `tools/list` span pages.
fn many(n: usize, upstream: &str) -> Value {
    let actions: Vec<Value> = (0..n)
        .map(|i| {
            json!({"slug": format!("op_{i:03}"), "method": "GET", "path": format!("/pets/{i}"),
                   "description": format!("Operation number {i}")})
        })
        .collect();
    json!({"slug": "bulk", "name": "Bulk", "baseUrl": upstream, "auth": {"type": "none"}, "actions": actions})
}

/// A tenant with the petstore (3 actions) and `bulk` (150): its id and key.
async fn tenant_with_tools(gw: &Gateway, upstream: &str) -> (String, String) {
    let (id, key) = gw.tenant("Agents").await;
    gw.created(
        "/api/v1/integrations/import",
        &key,
        json!({"openapi": petstore_yaml(), "slug": "pets", "baseUrl": upstream}),
    )
    .await;
    gw.created("/api/v1/integrations", &key, many(150, upstream))
        .await;
    (id, key)
}

/// One JSON-RPC request to `/mcp{query}` in the 2025-11-25 era; the HTTP status and body.
async fn rpc(
    gw: &Gateway,
    query: &str,
    key: Option<&str>,
    method: &str,
    params: Value,
) -> (StatusCode, Value) {
    let mut request = gw
        .client
        .post(format!("{}/mcp{query}", gw.url))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    )
}

/// Every tool of `/mcp{query}`, following cursors; and the number of pages.
async fn list_all(gw: &Gateway, query: &str, key: &str) -> (Vec<Value>, usize) {
    let (mut tools, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let (status, body) = rpc(gw, query, Some(key), "tools/list", params).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let result = &body["result"];
        assert_eq!(result["cacheScope"], "private", "{result}");
        assert!(result["ttlMs"].is_u64());
        tools.extend(result["tools"].as_array().unwrap().iter().cloned());
        pages += 1;
        match result["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (tools, pages),
        }
    }
}

#[tokio::test]
async fn mcp_over_http_lists_pages_calls_and_reports_errors() {
    let upstream = upstream().await;
    let gw = Gateway::start(&[]);
    let (_, key) = tenant_with_tools(&gw, &upstream).await;

    // The legacy handshake works statelessly.
    let (status, init) = rpc(&gw, "", Some(&key), "initialize", json!({
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}
    })).await;
    assert_eq!(status, StatusCode::OK, "{init}");
    assert_eq!(init["result"]["capabilities"]["tools"]["listChanged"], true);

    // 153 tools over two pages, sorted, unique, portable names.
    let (tools, pages) = list_all(&gw, "", &key).await;
    assert_eq!(tools.len(), 153);
    assert_eq!(pages, 2);
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    let list = tools
        .iter()
        .find(|t| t["name"] == "pets__listPets")
        .unwrap();
    assert_eq!(list["_meta"]["dev.waygate/id"], "pets.listPets");
    assert_eq!(list["annotations"]["readOnlyHint"], true);
    assert_eq!(list["outputSchema"]["type"], "object");
    assert!(
        list["outputSchema"]["properties"]["result"].is_object(),
        "an array output is wrapped"
    );
    let create = tools
        .iter()
        .find(|t| t["name"] == "pets__createPets")
        .unwrap();
    assert_eq!(create["annotations"]["readOnlyHint"], false);
    assert_eq!(create["annotations"]["destructiveHint"], false);

    // A call: structured content wrapped as the output schema says.
    let (_, called) = rpc(
        &gw,
        "",
        Some(&key),
        "tools/call",
        json!({"name": "pets__listPets", "arguments": {"limit": null}}),
    )
    .await;
    let result = &called["result"];
    assert_eq!(result["isError"], false, "{called}");
    assert_eq!(result["structuredContent"]["result"][1]["name"], "Tom");
    assert!(
        result["_meta"]["dev.waygate/invocation"]["requestId"]
            .as_str()
            .unwrap()
            .starts_with("mcp-")
    );
    // The canonical id is accepted too; an object output is not wrapped.
    let (_, shown) = rpc(
        &gw,
        "",
        Some(&key),
        "tools/call",
        json!({"name": "pets.showPetById", "arguments": {"petId": "Rex"}}),
    )
    .await;
    assert_eq!(
        shown["result"]["structuredContent"],
        json!({"id": 7, "name": "Rex"}),
        "{shown}"
    );

    // Input the action's schema refuses: an error result the model can act on.
    let (_, invalid) = rpc(
        &gw,
        "",
        Some(&key),
        "tools/call",
        json!({"name": "pets__listPets", "arguments": {"limit": "ten"}}),
    )
    .await;
    assert_eq!(invalid["result"]["isError"], true, "{invalid}");
    let text = invalid["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("VALIDATION_ERROR"), "{text}");
    assert!(
        text.contains("/limit") && text.contains("RETRY_WITH_MODIFIED_INPUT"),
        "{text}"
    );
    // An upstream failure: also an error result, with the upstream's answer.
    let (_, failed) = rpc(
        &gw,
        "",
        Some(&key),
        "tools/call",
        json!({"name": "pets__showPetById", "arguments": {"petId": "404"}}),
    )
    .await;
    assert_eq!(failed["result"]["isError"], true, "{failed}");
    let text = failed["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("UPSTREAM_ERROR") && text.contains("no such pet"),
        "{text}"
    );

    // Protocol errors: an unknown tool, a bad cursor, an unknown method.
    let (_, unknown) = rpc(
        &gw,
        "",
        Some(&key),
        "tools/call",
        json!({"name": "pets__nope"}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let (_, bad_cursor) = rpc(
        &gw,
        "",
        Some(&key),
        "tools/list",
        json!({"cursor": "not-ours"}),
    )
    .await;
    assert_eq!(bad_cursor["error"]["code"], -32602, "{bad_cursor}");
    let (_, no_method) = rpc(&gw, "", Some(&key), "tools/nope", json!({})).await;
    assert_eq!(no_method["error"]["code"], -32601, "{no_method}");

    // Scopes: some integrations only; meta mode.
    let (only, _) = list_all(&gw, "?integrations=pets", &key).await;
    assert_eq!(only.len(), 3);
    let (_, out_of_scope) = rpc(
        &gw,
        "?integrations=pets",
        Some(&key),
        "tools/call",
        json!({"name": "bulk__op_001"}),
    )
    .await;
    assert_eq!(out_of_scope["error"]["code"], -32602);
    let (meta, _) = list_all(&gw, "?mode=meta", &key).await;
    let meta_names: Vec<&str> = meta.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        meta_names,
        ["call_action", "get_action_schema", "search_actions"]
    );
    let (_, found) = rpc(
        &gw,
        "?mode=meta",
        Some(&key),
        "tools/call",
        json!({"name": "search_actions", "arguments": {"query": "pets list"}}),
    )
    .await;
    assert_eq!(
        found["result"]["structuredContent"]["results"][0]["id"], "pets.listPets",
        "{found}"
    );
    let (_, schema) = rpc(
        &gw,
        "?mode=meta",
        Some(&key),
        "tools/call",
        json!({"name": "get_action_schema", "arguments": {"name": "pets__showPetById"}}),
    )
    .await;
    assert!(
        schema["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\"petId\""),
        "{schema}"
    );
    let (_, via_meta) = rpc(&gw, "?mode=meta", Some(&key), "tools/call", json!({"name": "call_action", "arguments": {"name": "pets.showPetById", "arguments": {"petId": "Tom"}}})).await;
    assert_eq!(
        via_meta["result"]["structuredContent"]["name"], "Tom",
        "{via_meta}"
    );
    let (status, bad_scope) = rpc(&gw, "?mode=fast", Some(&key), "tools/list", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad_scope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown mode")
    );

    // MCP calls are in the request log, marked by their request id.
    let mut marked = 0;
    for _ in 0..50 {
        let (_, logs) = gw
            .call(Method::GET, "/api/v1/logs?integration=pets", &key, None)
            .await;
        marked = logs["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| {
                l["requestId"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("mcp-"))
            })
            .count();
        if marked >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(marked >= 5, "{marked} MCP calls logged");
}

#[tokio::test]
async fn mcp_over_http_is_per_tenant_and_challenges_without_a_key() {
    let upstream = upstream().await;
    let gw = Gateway::start(&[]);
    let _owner = tenant_with_tools(&gw, &upstream).await;
    let (_, other) = gw.tenant("Other").await;

    let (tools, _) = list_all(&gw, "", &other).await;
    assert!(tools.is_empty(), "{tools:?}");
    for name in ["pets__listPets", "pets.listPets"] {
        let (_, call) = rpc(&gw, "", Some(&other), "tools/call", json!({"name": name})).await;
        assert_eq!(call["error"]["code"], -32602, "{call}");
    }
    let (_, meta) = rpc(
        &gw,
        "?mode=meta",
        Some(&other),
        "tools/call",
        json!({"name": "call_action", "arguments": {"name": "pets.listPets"}}),
    )
    .await;
    assert_eq!(meta["result"]["isError"], true, "{meta}");

    let response = gw
        .client
        .post(format!("{}/mcp", gw.url))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let (status, _) = rpc(
        &gw,
        "",
        Some("wg_live_0000000000000000000000000000000000000000"),
        "tools/list",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A foreign Host (DNS rebinding) and a foreign browser Origin are refused.
    let response = gw
        .client
        .post(format!("{}/mcp", gw.url))
        .bearer_auth(&other)
        .header("host", "attacker.example")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let response = gw
        .client
        .post(format!("{}/mcp", gw.url))
        .bearer_auth(&other)
        .header("origin", "https://attacker.example")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}

#[tokio::test]
async fn tools_export_over_the_api_and_the_cli() {
    let upstream = upstream().await;
    let mut gw = Gateway::start(&[]);
    let (_, key) = tenant_with_tools(&gw, &upstream).await;

    let (status, openai) = gw
        .call(
            Method::GET,
            "/api/v1/tools?format=openai&strict=true&integrations=pets",
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{openai}");
    assert_eq!(openai["tools"].as_array().unwrap().len(), 3);
    let create = &openai["tools"][0]["function"];
    assert_eq!(create["name"], "pets__createPets");
    assert_eq!(create["strict"], true);
    assert_eq!(create["parameters"]["additionalProperties"], false);
    assert_eq!(
        create["parameters"]["properties"]["tag"]["type"],
        json!(["string", "null"])
    );
    let (_, gemini) = gw
        .call(Method::GET, "/api/v1/tools?format=gemini", &key, None)
        .await;
    assert_eq!(gemini["tools"].as_array().unwrap().len(), 153);
    let (status, bad) = gw
        .call(Method::GET, "/api/v1/tools?format=langchain", &key, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("langchain"),
        "{bad}"
    );

    gw.stop();
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args([
            "export",
            "tools",
            "--format",
            "anthropic",
            "--strict",
            "--integrations",
            "pets",
            "--data-dir",
        ])
        .arg(gw.dir.0.join("data"))
        .env_remove("WAYGATE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let export: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(export["format"], "anthropic");
    assert_eq!(export["tools"][0]["name"], "pets__createPets");
    assert_eq!(export["tools"][0]["strict"], true);
    assert_eq!(
        export["tools"][0]["input_schema"]["required"],
        json!(["id", "name"])
    );
}

/// `waygate mcp --tenant T` on the stopped gateway's data directory, its
/// stdin and stdout piped.
fn stdio_server(gw: &Gateway, tenant: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_waygate"));
    command
        .args(["mcp", "--tenant", tenant, "--data-dir"])
        .arg(gw.dir.0.join("data"))
        .env_remove("WAYGATE_DATABASE_URL")
        .env_remove("WAYGATE_MASTER_KEY")
        .env("WAYGATE_ALLOW_PRIVATE_NETWORKS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    command
}

// Multi-threaded: this test reads the child's stdout blocking while the
// upstream is served on the runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_stdio_speaks_only_protocol_on_stdout() {
    let upstream = upstream().await;
    let mut gw = Gateway::start(&[]);
    let (agents, _) = tenant_with_tools(&gw, &upstream).await;
    gw.tenant("Second").await; // several tenants: --tenant picks one
    gw.stop();

    let mut child = stdio_server(&gw, &agents)
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = move |v: Value| writeln!(stdin, "{v}").unwrap();
    let mut read = move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line)
            .unwrap_or_else(|_| panic!("not JSON-RPC on stdout: {line:?}"))
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}}),
    );
    assert_eq!(read()["result"]["serverInfo"]["name"], "waygate");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let page = read();
    assert_eq!(
        page["result"]["tools"].as_array().unwrap().len(),
        100,
        "{page}"
    );
    assert!(page["result"]["nextCursor"].is_string());
    send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "pets__listPets", "arguments": {}}}),
    );
    let called = read();
    assert_eq!(
        called["result"]["structuredContent"]["result"][0]["name"], "Rex",
        "{called}"
    );
    send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "missing"}}));
    assert_eq!(read()["error"]["code"], -32602);
    drop(send); // closes stdin: the server ends
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(!logs.is_empty(), "logs go to stderr");
}

/// Sets the flag when dropped: an upstream handler dropped before it answered
/// means the gateway closed the request.
struct DropFlag(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_mcp_call_stops_the_upstream_request() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (started, dropped) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (s, d) = (started.clone(), dropped.clone());
    let router = axum::Router::new().route(
        "/slow",
        get(move || {
            let (s, d) = (s.clone(), d.clone());
            async move {
                s.store(true, Ordering::SeqCst);
                let _flag = DropFlag(d);
                tokio::time::sleep(std::time::Duration::from_secs(20)).await;
                Json(json!({"late": true}))
            }
        }),
    );
    let upstream = serve_upstream(router).await;
    let mut gw = Gateway::start(&[]);
    let (tenant, key) = gw.tenant("Cancel").await;
    gw.created(
        "/api/v1/integrations",
        &key,
        json!({"slug": "slow", "name": "Slow", "baseUrl": upstream, "auth": {"type": "none"},
               "actions": [{"slug": "wait", "method": "GET", "path": "/slow"}]}),
    )
    .await;
    gw.stop();

    let mut child = stdio_server(&gw, &tenant)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "slow__wait"}}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    stdout.read_line(&mut line).unwrap(); // the initialize answer
    for _ in 0..100 {
        if started.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        started.load(Ordering::SeqCst),
        "the call reached the upstream"
    );
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 2, "reason": "user stopped it"}})
    )
    .unwrap();
    for _ in 0..100 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the upstream request was closed after the cancel"
    );
    // The server goes on serving.
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
    )
    .unwrap();
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let answer: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["id"], 3, "{answer}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
