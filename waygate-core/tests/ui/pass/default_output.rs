//! Without `output`, a call returns any JSON value; an input may have no fields.

use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "status-page",
    name = "ping",
    method = "HEAD",
    path = "/"
)]
struct Ping {}

fn takes_value(_: Option<serde_json::Value>) {}

fn main() {
    takes_value(None::<<Ping as Action>::Output>);
    let def = Ping::definition();
    assert!(def.output_schema.is_some());
    assert!(def.parameters.is_empty());
    assert!(def.is_idempotent());
}
