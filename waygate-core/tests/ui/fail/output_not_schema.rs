use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use waygate_core::Action;

#[derive(Deserialize)]
struct Reply {
    ok: bool,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "demo", name = "send", method = "POST", path = "/send", output = Reply)]
struct Send {
    text: String,
}

fn main() {}
