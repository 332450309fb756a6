use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "demo", name = "a", method = "GET", path = "/a")]
enum Choice {
    A,
    B,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "demo", name = "b", method = "GET", path = "/b")]
struct Tuple(String, u32);

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "demo", name = "c", method = "GET", path = "/c")]
struct Unit;

fn main() {}
