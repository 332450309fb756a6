// Input and output derive serde and schemars through waygate-core's
// re-exports only: no `serde` or `schemars` path is named.
use waygate_core::Action;
use waygate_core::schemars::JsonSchema;
use waygate_core::serde::{Deserialize, Serialize};

/// Archives a record.
#[derive(Serialize, JsonSchema, Action)]
#[serde(crate = "waygate_core::serde", rename_all = "camelCase")]
#[schemars(crate = "waygate_core::schemars")]
#[action(integration = "crm", name = "archive", method = "POST", path = "/records/{recordId}/archive",
         output = Archived)]
struct Archive {
    #[action(path)]
    record_id: String,
    #[action(query)]
    reason: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(crate = "waygate_core::serde")]
#[schemars(crate = "waygate_core::schemars")]
struct Archived {
    archived: bool,
}

fn main() {
    let def = Archive::definition();
    assert_eq!(def.description.as_deref(), Some("Archives a record."));
    assert_eq!(def.parameters[0].name, "recordId");
    assert_eq!(def.input_schema["properties"]["reason"]["type"][0], "string");
    assert!(def.output_schema.unwrap()["properties"]["archived"].is_object());
}
