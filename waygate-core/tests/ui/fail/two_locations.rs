use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(integration = "github", name = "list", method = "GET", path = "/items")]
struct List {
    #[action(query, header)]
    page: u32,
    #[action(query)]
    #[action(cookie = "c")]
    cursor: String,
}

fn main() {}
