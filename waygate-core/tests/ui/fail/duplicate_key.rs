use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "slack", name = "send", method = "POST", path = "/send")]
#[action(method = "PUT")]
struct SendMessage {
    text: String,
}

fn main() {}
