//! `#[derive(Action)]`: compile-time checks (trybuild) and the `ActionDef` it builds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use waygate_core::model::{self, BodyEncoding, BodySpec, ParamLocation, Parameter};
use waygate_core::{Action, ActionDef, IntegrationDef};

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

/// Posts a message to a channel.
#[derive(Serialize, JsonSchema, Action)]
#[serde(rename_all = "camelCase")]
#[action(
    integration = "slack",
    name = "chat_postMessage",
    method = "post",
    path = "/channels/{channelId}/messages",
    output = PostMessageOutput,
    body = "form",
    idempotent = false
)]
struct SendMessage {
    #[action(path)]
    channel_id: String,
    #[action(query)]
    limit: Option<u32>,
    #[action(header = "X-Slack-User")]
    user: Option<String>,
    #[action(cookie)]
    session: Option<String>,
    /// The message, in mrkdwn.
    text: String,
    #[serde(rename = "thread_ts")]
    thread: Option<String>,
}

/// What Slack answers.
#[derive(Debug, Deserialize, JsonSchema)]
struct PostMessageOutput {
    ok: bool,
}

fn parameter(name: &str, location: ParamLocation, wire: Option<&str>) -> Parameter {
    let mut p = Parameter::new(name, location);
    p.wire_name = wire.map(str::to_owned);
    p
}

#[test]
fn builds_the_action_definition() {
    assert_eq!(SendMessage::INTEGRATION, "slack");
    assert_eq!(SendMessage::NAME, "chat_postMessage");

    let def = SendMessage::definition();
    let mut expected = ActionDef::new("chat_postMessage", "POST", "/channels/{channelId}/messages");
    expected.name = Some("SendMessage".into());
    expected.description = Some("Posts a message to a channel.".into());
    expected.parameters = vec![
        parameter("channelId", ParamLocation::Path, None),
        parameter("limit", ParamLocation::Query, None),
        parameter("user", ParamLocation::Header, Some("X-Slack-User")),
        parameter("session", ParamLocation::Cookie, None),
    ];
    expected.body = Some(BodySpec {
        encoding: BodyEncoding::Form,
        field: None,
        content_type: None,
        required: false,
    });
    expected.idempotent = Some(false);
    expected.input_schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Posts a message to a channel.",
        "type": "object",
        "properties": {
            "channelId": {"type": "string"},
            "limit": {"type": ["integer", "null"], "format": "uint32", "minimum": 0},
            "user": {"type": ["string", "null"]},
            "session": {"type": ["string", "null"]},
            "text": {"type": "string", "description": "The message, in mrkdwn."},
            "thread_ts": {"type": ["string", "null"]}
        },
        "required": ["channelId", "text"]
    });
    expected.output_schema = Some(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PostMessageOutput",
        "description": "What Slack answers.",
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"]
    }));
    assert_eq!(def, expected);
    assert!(def.parameters[0].required, "path parameters are required");
}

#[test]
fn parameters_name_the_serialized_fields() {
    let message = SendMessage {
        channel_id: "C1".into(),
        limit: Some(5),
        user: Some("U1".into()),
        session: Some("s".into()),
        text: "hi".into(),
        thread: Some("1.2".into()),
    };
    let json = serde_json::to_value(&message).unwrap();
    let def = SendMessage::definition();
    for p in &def.parameters {
        assert!(json.get(&p.name).is_some(), "{} not in {json}", p.name);
        assert!(
            def.input_schema["properties"].get(&p.name).is_some(),
            "{} not in the schema",
            p.name
        );
    }
}

#[test]
fn check_accepts_a_derived_action() {
    let mut integration = IntegrationDef::new(SendMessage::INTEGRATION, "Slack");
    integration.base_url = Some("https://slack.com/api".into());
    integration.actions.push(SendMessage::definition());
    model::check(&integration).unwrap();
}

#[test]
fn output_deserializes() {
    let out: <SendMessage as Action>::Output = serde_json::from_value(json!({"ok": true})).unwrap();
    assert!(out.ok);
}
