//! Parameters carry serde's serialised names: `rename_all`, `rename`,
//! `rename(serialize = ...)` and raw identifiers.

use schemars::JsonSchema;
use serde::Serialize;
use waygate_core::Action;

macro_rules! renamed {
    ($ty:ident, $rule:literal, $expected:literal) => {
        #[derive(Serialize, JsonSchema, Action)]
        #[serde(rename_all = $rule)]
        #[action(integration = "demo", name = "get", method = "GET", path = "/items")]
        struct $ty {
            #[action(query)]
            page_size: u32,
        }

        let def = $ty::definition();
        assert_eq!(def.parameters[0].name, $expected, "{}", $rule);
        let json = serde_json::to_value($ty { page_size: 1 }).unwrap();
        assert!(json.get($expected).is_some(), "{json}");
    };
}

#[derive(Serialize, JsonSchema, Action)]
#[serde(rename_all = "camelCase")]
#[action(
    integration = "github",
    name = "repos.get",
    method = "get",
    path = "/repos/{owner}/{repoName}/{ref}"
)]
struct GetRepo {
    #[action(path)]
    owner: String,
    #[action(path)]
    repo_name: String,
    #[action(path)]
    r#ref: String,
    #[serde(rename = "X-Api-Version")]
    #[action(header)]
    api_version: String,
    #[serde(rename(serialize = "q", deserialize = "query"))]
    #[action(query)]
    search_query: String,
}

fn main() {
    renamed!(Lower, "lowercase", "page_size");
    renamed!(Upper, "UPPERCASE", "PAGE_SIZE");
    renamed!(Pascal, "PascalCase", "PageSize");
    renamed!(Camel, "camelCase", "pageSize");
    renamed!(Snake, "snake_case", "page_size");
    renamed!(ScreamingSnake, "SCREAMING_SNAKE_CASE", "PAGE_SIZE");
    renamed!(Kebab, "kebab-case", "page-size");
    renamed!(ScreamingKebab, "SCREAMING-KEBAB-CASE", "PAGE-SIZE");

    let def = GetRepo::definition();
    assert_eq!(def.method, "GET");
    let names: Vec<_> = def
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.wire_name()))
        .collect();
    assert_eq!(
        names,
        [
            ("owner", "owner"),
            ("repoName", "repoName"),
            ("ref", "ref"),
            ("X-Api-Version", "X-Api-Version"),
            ("q", "q"),
        ]
    );
}
