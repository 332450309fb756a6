use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "slack", method = "POST")]
struct SendMessage {
    text: String,
}

#[derive(Serialize, JsonSchema, Action)]
struct NoAttribute {
    text: String,
}

fn main() {}
