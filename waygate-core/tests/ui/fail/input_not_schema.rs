use waygate_core::Action;
use waygate_core::serde::Serialize;

#[derive(Serialize, Action)]
#[serde(crate = "waygate_core::serde")]
#[action(integration = "demo", name = "notify", method = "POST", path = "/notify")]
struct Notify {
    text: String,
}

fn main() {}
