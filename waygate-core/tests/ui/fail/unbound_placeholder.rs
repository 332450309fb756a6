use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

#[derive(Serialize, JsonSchema, Action)]
#[serde(rename_all = "camelCase")]
#[action(
    integration = "github",
    name = "get_file",
    method = "GET",
    path = "/repos/{owner}/{repo}/{file_path}/{ref}"
)]
struct GetFile {
    owner: String,
    #[action(query)]
    repo: String,
    #[action(path)]
    file_path: String,
}

fn main() {}
