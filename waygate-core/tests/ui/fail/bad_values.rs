use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "Slack_API",
    name = "send message",
    method = "FETCH",
    path = "/send",
    body = "xml"
)]
struct BadStrings {
    text: String,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = slack, name = "send", method = POST, path = "/send", idempotent = "yes")]
struct NotLiterals {
    text: String,
}

fn main() {}
