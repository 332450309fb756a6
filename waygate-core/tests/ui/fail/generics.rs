use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "demo",
    name = "create",
    method = "POST",
    path = "/items"
)]
struct Create<T> {
    item: T,
}

fn main() {}
