use waygate_core::Action;
use waygate_core::schemars::JsonSchema;
use waygate_core::serde::Serialize;

#[derive(JsonSchema)]
#[schemars(crate = "waygate_core::schemars")]
struct Reply {
    ok: bool,
}

#[derive(Serialize, JsonSchema, Action)]
#[serde(crate = "waygate_core::serde")]
#[schemars(crate = "waygate_core::schemars")]
#[action(integration = "demo", name = "notify", method = "POST", path = "/notify", output = Reply)]
struct Notify {
    text: String,
}

fn main() {}
