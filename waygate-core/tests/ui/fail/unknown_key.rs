use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "slack",
    name = "send",
    method = "POST",
    path = "/send",
    retries = 3,
    query
)]
struct SendMessage {
    #[action(qurey)]
    limit: u32,
    #[action(body = "json")]
    text: String,
}

fn main() {}
