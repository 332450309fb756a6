//! Every kind of binding: path, query, header, cookie (with and without wire
//! names), and the body.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use waygate_core::Action;
use waygate_core::model::{ParamLocation, Parameter};

/// Posts a message to a channel.
#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "slack",
    name = "chat_postMessage",
    method = "POST",
    path = "/channels/{channel_id}/messages",
    output = PostMessageOutput
)]
struct SendMessage {
    #[action(path)]
    channel_id: String,
    #[action(query)]
    limit: Option<u32>,
    #[action(query = "per-page")]
    per_page: Option<u32>,
    #[action(header = "X-Slack-User")]
    user: Option<String>,
    #[action(header)]
    trace: Option<String>,
    #[action(cookie)]
    session: Option<String>,
    #[action(cookie = "sid")]
    session_id: Option<String>,
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct PostMessageOutput {
    ok: bool,
}

fn param(name: &str, location: ParamLocation, wire: Option<&str>) -> Parameter {
    let mut p = Parameter::new(name, location);
    p.wire_name = wire.map(str::to_owned);
    p
}

fn main() {
    assert_eq!(SendMessage::INTEGRATION, "slack");
    assert_eq!(SendMessage::NAME, "chat_postMessage");
    let def = SendMessage::definition();
    assert_eq!(def.method, "POST");
    assert_eq!(def.path, "/channels/{channel_id}/messages");
    assert_eq!(
        def.parameters,
        [
            param("channel_id", ParamLocation::Path, None),
            param("limit", ParamLocation::Query, None),
            param("per_page", ParamLocation::Query, Some("per-page")),
            param("user", ParamLocation::Header, Some("X-Slack-User")),
            param("trace", ParamLocation::Header, None),
            param("session", ParamLocation::Cookie, None),
            param("session_id", ParamLocation::Cookie, Some("sid")),
        ]
    );
    assert_eq!(def.body, None);
    let output: <SendMessage as Action>::Output = serde_json::from_str(r#"{"ok":true}"#).unwrap();
    assert!(output.ok);
}
