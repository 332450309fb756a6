use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "github",
    name = "get_user",
    method = "GET",
    path = "/users/{id"
)]
struct Unclosed {
    #[action(path)]
    id: u64,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "github",
    name = "get_user",
    method = "GET",
    path = "/users/id}"
)]
struct Stray {
    id: u64,
}

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "github",
    name = "get_user",
    method = "GET",
    path = "/users/{}"
)]
struct Empty {}

fn main() {}
