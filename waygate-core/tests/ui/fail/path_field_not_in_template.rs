use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "github",
    name = "get_user",
    method = "GET",
    path = "/users/{id}"
)]
struct GetUser {
    #[action(path)]
    id: u64,
    #[action(path)]
    org: String,
    #[serde(rename = "userId")]
    #[action(path)]
    user_id: String,
}

fn main() {}
