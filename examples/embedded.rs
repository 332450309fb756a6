//! Run with: cargo run --example embedded
//!
//! Waygate embedded in an application: a declarative integration, a bearer
//! credential, and calls through the full pipeline (validation, auth, retries,
//! breaker) against a small JSON API this example serves on 127.0.0.1.

use std::error::Error;

use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, extract::Path, routing::get};
use serde_json::{Value, json};
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let base_url = serve_demo_api().await?;

    let def = IntegrationDef::from_yaml(&format!(
        r#"
slug: demo
name: Demo users API
baseUrl: {base_url}
auth: {{type: bearer}}
defaults:
  retry: {{maxAttempts: 3, baseDelayMs: 50}}
actions:
  - slug: get_user
    description: Fetch one user by id.
    method: GET
    path: /users/{{id}}
    parameters: [{{name: id, in: path}}]
    inputSchema:
      type: object
      required: [id]
      properties: {{id: {{type: string, pattern: "^[0-9]+$"}}}}
"#
    ))?;

    let waygate = Waygate::builder()
        .integration(def)
        .connection(
            "demo",
            Connection::default_with(Credential::bearer("demo-token")),
        )
        // The demo API runs on loopback, which the default policy refuses.
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()?;

    let user = waygate.invoke("demo.get_user", json!({"id": "42"})).await?;
    println!("user: {}", user.data);
    println!("meta: {}", serde_json::to_string(&user.meta)?);

    // Bad input never reaches the API; the error tells an agent how to fix it.
    let err = waygate
        .invoke("demo.get_user", json!({"id": "forty-two"}))
        .await
        .unwrap_err();
    println!("error: {}", serde_json::to_string_pretty(&err.to_json())?);
    Ok(())
}

/// `GET /users/{id}`, answering only requests with the demo bearer token.
async fn serve_demo_api() -> std::io::Result<String> {
    async fn user(Path(id): Path<String>, headers: HeaderMap) -> Result<Json<Value>, StatusCode> {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            Some("Bearer demo-token") => Ok(Json(json!({"id": id, "name": "Ada Lovelace"}))),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }
    let app = Router::new().route("/users/{id}", get(user));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
