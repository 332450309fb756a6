use waygate_core::Action;
use waygate_core::schemars::JsonSchema;

#[derive(JsonSchema, Action)]
#[schemars(crate = "waygate_core::schemars")]
#[action(integration = "demo", name = "notify", method = "POST", path = "/notify")]
struct Notify {
    text: String,
}

fn main() {}
