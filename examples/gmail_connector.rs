//! Run with: cargo run --example gmail_connector
//!
//! A `Connector` for an action no declarative binding can express: Gmail's
//! `users.messages.send` wants an RFC 2822 message, base64url-encoded, in a
//! `raw` field. The connector builds the message; Waygate still validates the
//! input, applies the OAuth bearer token, and guards and retries the request.
//! The action is typed (`#[derive(Action)]`): its input and output derive
//! serde and schemars through waygate-core's re-exports, so a program like
//! this one needs neither crate in its own `Cargo.toml`.
//!
//! The example serves a stand-in for Gmail's endpoint on 127.0.0.1 that decodes
//! and checks the message the way Gmail would, since this machine has no internet.

use std::error::Error;

use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, routing::post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use waygate_core::connector::{Connector, ConnectorContext, Method, async_trait};
use waygate_core::pipeline::RequestBody;
use waygate_core::schemars::JsonSchema;
use waygate_core::serde::{Deserialize, Serialize};
use waygate_core::{Action, Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

/// Send a plain-text e-mail from the connected account.
#[derive(Serialize, Deserialize, JsonSchema, Action)]
#[serde(crate = "waygate_core::serde")]
#[schemars(crate = "waygate_core::schemars")]
#[action(integration = "gmail", name = "send_email", method = "POST",
         path = "/gmail/v1/users/me/messages/send", output = Sent)]
struct SendEmail {
    from: String,
    to: String,
    subject: String,
    text: String,
}

/// Gmail's answer: the message's id, thread and labels (and, from the
/// stand-in, the recipient it read from the message).
#[derive(Deserialize, JsonSchema)]
#[serde(crate = "waygate_core::serde", rename_all = "camelCase")]
#[schemars(crate = "waygate_core::schemars")]
struct Sent {
    id: String,
    thread_id: String,
    label_ids: Vec<String>,
    to: String,
}

/// Builds an RFC 2822 message from a [`SendEmail`] and sends it.
struct Rfc2822Sender;

#[async_trait]
impl Connector for Rfc2822Sender {
    async fn execute(
        &self,
        ctx: &mut ConnectorContext<'_>,
        input: &Value,
    ) -> Result<Value, waygate_core::Error> {
        // Validated against the action's schema before the connector runs.
        let email = SendEmail::deserialize(input)
            .map_err(|e| waygate_core::Error::connector(format!("input: {e}")))?;
        let message = rfc2822(&email.from, &email.to, &email.subject, &email.text)?;
        let mut request = ctx.request(Method::POST, "/gmail/v1/users/me/messages/send")?;
        request.body = RequestBody::Json(json!({ "raw": URL_SAFE_NO_PAD.encode(message) }));
        Ok(ctx.send(request).await?.data())
    }
}

/// An RFC 2822 message with a UTF-8 text body; non-ASCII subjects become
/// RFC 2047 encoded words. Line breaks in header fields are refused: they
/// would let an input inject headers (a Bcc, say).
fn rfc2822(from: &str, to: &str, subject: &str, text: &str) -> Result<String, waygate_core::Error> {
    for (name, value) in [("from", from), ("to", to), ("subject", subject)] {
        if value.contains(['\r', '\n']) {
            return Err(waygate_core::Error::connector(format!(
                "'{name}' must not contain line breaks"
            )));
        }
    }
    let subject = if subject.is_ascii() {
        subject.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(subject))
    };
    let body = STANDARD.encode(text);
    let wrapped: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    Ok(format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        wrapped.join("\r\n")
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let base_url = serve_fake_gmail().await?;
    let def = IntegrationDef::from_json(
        &json!({
            "slug": "gmail",
            "name": "Gmail",
            "baseUrl": base_url,
            "auth": {"type": "oauth2", "flows": ["authorization_code"],
                     "authorizationUrl": "https://accounts.google.com/o/oauth2/v2/auth",
                     "tokenUrl": "https://oauth2.googleapis.com/token",
                     "scopes": ["https://www.googleapis.com/auth/gmail.send"]}
        })
        .to_string(),
    )?;
    let tokens: Credential = serde_json::from_value(json!({
        "type": "oauth2_tokens", "clientId": "demo-client", "clientSecret": "demo-secret",
        "accessToken": "ya29.demo-access-token"
    }))?;
    let waygate = Waygate::builder()
        .integration(def)
        .connection("gmail", Connection::default_with(tokens))
        .action::<SendEmail>()
        .connector("gmail", "send_email", Rfc2822Sender)
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()?;

    let email = |to: &str, subject: &str, text: &str| SendEmail {
        from: "me@example.com".into(),
        to: to.into(),
        subject: subject.into(),
        text: text.into(),
    };
    let sent: Sent = waygate
        .call(email(
            "ada@example.com",
            "Grüße from Waygate",
            "Sent through a connector.",
        ))
        .await?;
    println!(
        "sent: message {} in thread {} to {} ({})",
        sent.id,
        sent.thread_id,
        sent.to,
        sent.label_ids.join(", ")
    );

    let injected = email("ada@example.com\r\nBcc: eve@example.com", "hi", "x");
    let Err(refused) = waygate.call(injected).await else {
        return Err("a recipient with a line break was sent".into());
    };
    println!("refused: {refused}");
    Ok(())
}

/// `POST /gmail/v1/users/me/messages/send`: checks the token, decodes `raw`,
/// and answers like Gmail with the headers it parsed.
async fn serve_fake_gmail() -> std::io::Result<String> {
    async fn send(
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Result<Json<Value>, (StatusCode, String)> {
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some("Bearer ya29.demo-access-token")
        {
            return Err((StatusCode::UNAUTHORIZED, "invalid credentials".into()));
        }
        let raw = body["raw"].as_str().unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD
            .decode(raw)
            .or_else(|_| URL_SAFE.decode(raw))
            .map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("raw is not base64url: {e}"),
                )
            })?;
        let message =
            String::from_utf8(bytes).map_err(|_| (StatusCode::BAD_REQUEST, "not UTF-8".into()))?;
        let (head, _) = message.split_once("\r\n\r\n").ok_or((
            StatusCode::BAD_REQUEST,
            "no header/body separator".to_owned(),
        ))?;
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
        };
        let to = header("To").ok_or((StatusCode::BAD_REQUEST, "no To header".to_owned()))?;
        Ok(Json(
            json!({"id": "18c1f0a2b3", "threadId": "18c1f0a2b3", "labelIds": ["SENT"],
                       "to": to, "subject": header("Subject")}),
        ))
    }
    let app = Router::new().route("/gmail/v1/users/me/messages/send", post(send));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
