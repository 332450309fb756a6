use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[action(
    integration = "demo",
    name = "get",
    method = "GET",
    path = "/items/{id}"
)]
struct Get {
    #[action(path = "item_id")]
    id: u64,
    #[action(header = "X Request Id")]
    request_id: String,
    #[action(query = "")]
    empty: String,
    #[action(query = "page")]
    page: u32,
    #[action(query)]
    #[serde(rename = "page")]
    page_number: u32,
    #[action(header = "x-trace")]
    trace: String,
    #[action(header = "X-Trace")]
    trace_again: String,
    #[serde(skip)]
    #[action(query)]
    local: String,
    #[serde(flatten)]
    #[action(query)]
    filters: std::collections::BTreeMap<String, String>,
}

fn main() {}
