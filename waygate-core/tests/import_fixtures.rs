//! The OpenAPI importer against the real-world specifications in
//! `shared/fixtures/openapi` (listed in its `MANIFEST.tsv`).

use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::Value;
use waygate_core::import::{self, ImportErrorKind, ImportOptions};
use waygate_core::model::{
    self, AuthSpec, BodyEncoding, IntegrationDef, OAuth2Flow, PaginationStrategy,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/openapi")
}

/// `(file, operations)` rows of the manifest.
fn manifest() -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(fixtures().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (file, ops) = (col("file"), col("operations"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let count: String = cells[ops]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (
                cells[file].to_owned(),
                count.parse().expect("a leading operation count"),
            )
        })
        .collect()
}

fn import_file(file: &str, options: &ImportOptions) -> import::ImportResult {
    import::from_file(fixtures().join(file), options).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_manifest_spec_imports_with_all_operations_and_passes_check() {
    let rows = manifest();
    assert!(rows.len() >= 40, "manifest rows: {}", rows.len());
    for (file, operations) in rows {
        let result = import_file(&file, &ImportOptions::default());
        let def = &result.integration;
        assert_eq!(def.actions.len(), operations, "{file}: action count");
        if let Err(e) = model::check(def) {
            let shown: Vec<String> = e
                .problems
                .iter()
                .take(5)
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect();
            panic!("{file}: {} problems, first: {shown:#?}", e.problems.len());
        }
    }
}

#[test]
fn imported_definitions_round_trip_through_json() {
    for file in [
        "slack/slack_web_openapi_v2.json",
        "twilio/twilio_api_v2010.yaml",
        "figma/openapi.yaml",
    ] {
        let def = import_file(file, &ImportOptions::default()).integration;
        let back =
            IntegrationDef::from_json(&def.to_json()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(back, def, "{file}");
    }
}

#[test]
fn slack_auth_base_url_and_wishlist() {
    let options = ImportOptions {
        wishlist: vec![
            "send message".into(),
            "list users".into(),
            "create channel".into(),
        ],
        ..ImportOptions::default()
    };
    let result = import_file("slack/slack_web_openapi_v2.json", &options);
    let def = &result.integration;
    assert_eq!(def.base_url.as_deref(), Some("https://slack.com/api"));
    let AuthSpec::Oauth2 {
        flows,
        token_url,
        authorization_url,
        scopes,
        ..
    } = &def.auth
    else {
        panic!("oauth2 expected, got {:?}", def.auth);
    };
    assert_eq!(flows, &[OAuth2Flow::AuthorizationCode]);
    assert_eq!(
        token_url.as_deref(),
        Some("https://slack.com/api/oauth.access")
    );
    assert_eq!(
        authorization_url.as_deref(),
        Some("https://slack.com/oauth/authorize")
    );
    assert!(
        scopes.len() > 50 && scopes.iter().any(|s| s == "chat:write"),
        "{scopes:?}"
    );
    assert_eq!(
        result.wished,
        ["chat_postMessage", "users_list", "conversations_create"]
    );
    let first: Vec<&str> = def
        .actions
        .iter()
        .take(3)
        .map(|a| a.slug.as_str())
        .collect();
    assert_eq!(first, result.wished);
    assert!(
        def.actions[..3]
            .iter()
            .all(|a| a.metadata.get("wished") == Some(&Value::Bool(true)))
    );
    assert!(
        def.actions[3..]
            .iter()
            .all(|a| !a.metadata.contains_key("wished"))
    );

    let post = def.action("chat_postMessage").unwrap();
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.body.as_ref().map(|b| b.encoding),
        Some(BodyEncoding::Form)
    );
    assert_eq!(
        post.input_schema["required"],
        serde_json::json!(["channel"])
    );
    let token = post.parameters.iter().find(|p| p.name == "token").unwrap();
    assert!(
        token.credential && token.required,
        "the credential supplies Slack's required token header"
    );
    assert!(
        post.input_schema["properties"].get("token").is_none(),
        "the token is not an input"
    );
    assert!(
        result
            .warnings
            .iter()
            .any(|w| w.message.contains("carry the credential"))
    );
    let list = def.action("users_list").unwrap();
    let page = list.pagination.as_ref().expect("users.list pages");
    assert_eq!(page.strategy, PaginationStrategy::Cursor);
    assert_eq!(page.cursor_param.as_deref(), Some("cursor"));
    assert_eq!(
        page.cursor_path.as_deref(),
        Some("/response_metadata/next_cursor")
    );
    assert_eq!(page.items_path.as_deref(), Some("/members"));
}

#[test]
fn digitalocean_multi_file_spec() {
    let result = import_file(
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
        &ImportOptions::default(),
    );
    let def = &result.integration;
    assert_eq!(
        def.base_url.as_deref(),
        Some("https://api.digitalocean.com")
    );
    assert_eq!(def.auth, AuthSpec::Bearer);
    let list = def.action("droplets_list").unwrap();
    assert_eq!(list.path, "/v2/droplets");
    assert_eq!(list.group.as_deref(), Some("Droplets"));
    assert_eq!(list.metadata["scopes"], serde_json::json!(["droplet:read"]));
    let page = list.pagination.as_ref().unwrap();
    assert_eq!(page.strategy, PaginationStrategy::Page);
    assert_eq!(page.limit_param.as_deref(), Some("per_page"));
    assert_eq!(page.items_path.as_deref(), Some("/droplets"));
    let create = def.action("droplets_create").unwrap();
    assert!(
        create.input_schema.get("$defs").is_some(),
        "shared schemas under $defs"
    );
}

#[test]
fn twilio_path_level_servers_and_form_bodies() {
    let def = import_file("twilio/twilio_api_v2010.yaml", &ImportOptions::default()).integration;
    assert_eq!(def.base_url.as_deref(), Some("https://api.twilio.com"));
    assert_eq!(def.auth, AuthSpec::Basic);
    let create = def.action("CreateMessage").unwrap();
    assert_eq!(
        create.body.as_ref().map(|b| b.encoding),
        Some(BodyEncoding::Form)
    );
    assert!(create.path.ends_with(".json"), "{}", create.path);
    // Twilio pages by the (relative) `next_page_uri` it returns.
    let page = def.action("ListCall").unwrap().pagination.clone().unwrap();
    assert_eq!(
        (
            page.strategy,
            page.next_url_path.as_deref(),
            page.items_path.as_deref()
        ),
        (
            PaginationStrategy::NextUrl,
            Some("/next_page_uri"),
            Some("/calls")
        )
    );
}

#[test]
fn select_keeps_only_the_named_actions() {
    let options = ImportOptions {
        select: Some(vec!["users_list".into(), "nope".into()]),
        slug: Some("slack".into()),
        name: Some("Slack".into()),
        base_url: Some("https://proxy.example.com/api".into()),
        ..ImportOptions::default()
    };
    let result = import_file("slack/slack_web_openapi_v2.json", &options);
    let def = &result.integration;
    assert_eq!((def.slug.as_str(), def.name.as_str()), ("slack", "Slack"));
    assert_eq!(
        def.base_url.as_deref(),
        Some("https://proxy.example.com/api")
    );
    assert_eq!(def.actions.len(), 1);
    assert!(result.warnings.iter().any(|w| w.message.contains("'nope'")));
}

#[test]
fn relative_refs_need_a_loader_when_imported_from_text() {
    let text = std::fs::read_to_string(
        fixtures().join("oai-examples/examples/v2.0/yaml/petstore-separate/spec/swagger.yaml"),
    )
    .unwrap();
    let err = import::from_str(&text, &ImportOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ImportErrorKind::Load);
    assert!(err.to_string().contains("not allowed"), "{err}");
}

#[test]
fn parameter_clashes_are_renamed_with_a_wire_name() {
    let spec = r#"{
      "openapi": "3.0.0", "info": {"title": "Clash", "version": "1"},
      "servers": [{"url": "https://x.example.com"}],
      "paths": {"/items/{id}": {"post": {
        "parameters": [
          {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "limit", "in": "query", "schema": {"type": "integer"}},
          {"name": "id", "in": "query", "schema": {"type": "string"}}
        ],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["limit"],
          "properties": {"limit": {"type": "integer"}, "id": {"type": "string", "readOnly": true}, "name": {"type": "string"}}
        }}}},
        "responses": {"200": {"description": "ok"}}
      }}}
    }"#;
    let def = import::from_str(spec, &ImportOptions::default())
        .unwrap()
        .integration;
    let a = &def.actions[0];
    assert_eq!(a.slug, "post_items_id");
    let names: Vec<(&str, Option<&str>)> = a
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.wire_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("id", None),
            ("query_limit", Some("limit")),
            ("query_id", Some("id"))
        ]
    );
    let props = a.input_schema["properties"].as_object().unwrap();
    assert!(
        props.contains_key("limit")
            && props.contains_key("name")
            && props.contains_key("query_limit")
    );
    assert_eq!(
        a.input_schema["required"],
        serde_json::json!(["limit", "id"])
    );
    model::check(&def).unwrap();
}

#[test]
fn non_object_bodies_go_under_the_body_field_and_slugs_are_unique() {
    let spec = r#"
swagger: "2.0"
info: {title: Arrays, version: "1"}
host: api.example.com
paths:
  /tags:
    put:
      operationId: setTags
      parameters:
        - {name: tags, in: body, required: true, schema: {type: array, items: {type: string}}}
      responses: {"204": {description: done}}
    post:
      operationId: setTags
      responses: {"201": {description: made, schema: {type: object, properties: {id: {type: integer, x-nullable: true}}}}}
"#;
    let def = import::from_str(spec, &ImportOptions::default())
        .unwrap()
        .integration;
    let slugs: Vec<&str> = def.actions.iter().map(|a| a.slug.as_str()).collect();
    assert_eq!(slugs, ["setTags", "setTags_2"]);
    let put = def.actions.iter().find(|a| a.method == "PUT").unwrap();
    assert_eq!(
        put.body.as_ref().and_then(|b| b.field.as_deref()),
        Some("body")
    );
    assert_eq!(put.input_schema["properties"]["body"]["type"], "array");
    let post = def.actions.iter().find(|a| a.method == "POST").unwrap();
    assert_eq!(
        post.output_schema.as_ref().unwrap()["properties"]["id"]["type"],
        serde_json::json!(["integer", "null"])
    );
    model::check(&def).unwrap();
}

/// A node somewhere in a document, by its path of keys and indices.
fn paths(value: &Value, here: Vec<String>, out: &mut Vec<Vec<String>>, depth: usize) {
    out.push(here.clone());
    if depth > 12 {
        return;
    }
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            let mut p = here.clone();
            p.push(k.clone());
            paths(v, p, out, depth + 1);
        }),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
            let mut p = here.clone();
            p.push(i.to_string());
            paths(v, p, out, depth + 1);
        }),
        _ => {}
    }
}

fn node_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Small documents to mutate, each with the paths of all its nodes.
static SOURCES: LazyLock<Vec<(Value, Vec<Vec<String>>)>> = LazyLock::new(|| {
    [
        "oai-examples/examples/v3.0/petstore-expanded.yaml",
        "oai-examples/examples/v2.0/json/uber.json",
        "oai-examples/examples/v3.1/tictactoe.json",
        "oai-examples/examples/v3.0/link-example.json",
    ]
    .iter()
    .map(|f| {
        let text = std::fs::read_to_string(fixtures().join(f)).unwrap();
        let value: Value = if f.ends_with(".json") {
            serde_json::from_str(&text).unwrap()
        } else {
            serde_saphyr::from_str(&text).unwrap()
        };
        let mut all = Vec::new();
        paths(&value, Vec::new(), &mut all, 0);
        (value, all)
    })
    .collect()
});

fn replacement() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        Just(Some(serde_json::json!({"$ref": "#/nowhere"}))),
        Just(Some(serde_json::json!({"$ref": "#"}))),
        Just(Some(serde_json::json!({"$ref": "other.yaml#/x"}))),
        Just(Some(serde_json::json!([1, "two", {}]))),
        Just(Some(
            serde_json::json!({"type": "file", "nullable": true, "items": [true]})
        )),
        Just(Some(serde_json::json!("{broken"))),
        any::<i64>().prop_map(|n| Some(Value::from(n))),
        "[a-z{}/~#]{0,8}".prop_map(|s| Some(Value::String(s))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_documents_never_panic(
        doc in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), replacement()), 1..6),
    ) {
        let (mut value, all) = SOURCES[doc].clone();
        for (index, new) in edits {
            let path = index.get(&all);
            let Some((last, parent)) = path.split_last() else { continue };
            match (node_mut(&mut value, parent), new) {
                (Some(Value::Object(map)), None) => { map.remove(last); }
                (Some(Value::Array(items)), None) => {
                    if let Ok(i) = last.parse::<usize>() && i < items.len() { items.remove(i); }
                }
                (Some(_), Some(new)) => {
                    if let Some(slot) = node_mut(&mut value, path) { *slot = new; }
                }
                _ => {}
            }
        }
        if let Ok(result) = import::from_value(value, &ImportOptions { wishlist: vec!["list pets".into()], ..ImportOptions::default() }) {
            let _ = model::check(&result.integration);
        }
    }
}

#[test]
fn vendor_specs_get_suggested_tags_for_what_they_do() {
    for (file, expected) in [
        ("slack/slack_web_openapi_v2.json", &["communication"][..]),
        ("twilio/twilio_api_v2010.yaml", &["communication"]),
        ("figma/openapi.yaml", &["design"]),
        (
            "digitalocean/specification/DigitalOcean-public.v2.yaml",
            &["cloud", "devops"],
        ),
    ] {
        let def = import_file(file, &ImportOptions::default()).integration;
        let tags = import::suggest_tags(&def);
        assert!(
            expected.contains(&tags.first().map_or("", String::as_str)),
            "{file}: suggested {tags:?}, expected first one of {expected:?}"
        );
        assert!(tags.len() <= 3, "{file}: {tags:?}");
    }
    // A spec about pets is none of these categories.
    let def = import_file(
        "oai-examples/examples/v3.0/petstore.yaml",
        &ImportOptions::default(),
    )
    .integration;
    assert_eq!(import::suggest_tags(&def), Vec::<String>::new());
}

/// The importer reads a JSON file's shared parts only when a `$ref` reaches
/// them (decision 115): the definition must be exactly the one a whole parse of
/// the same text gives (`from_value` reads a tree parsed up front).
#[test]
fn deferred_parts_import_exactly_as_a_whole_parse() {
    let mut compared = 0;
    for (file, _) in manifest()
        .into_iter()
        .filter(|(file, _)| file.ends_with(".json"))
    {
        let text = std::fs::read_to_string(fixtures().join(&file)).unwrap();
        let whole: Value = serde_json::from_str(&text).unwrap();
        // Multi-file specifications need a loader, which `from_value` has not.
        let Ok(expected) = import::from_value(whole, &ImportOptions::default()) else {
            continue;
        };
        let deferred = import_file(&file, &ImportOptions::default());
        assert_eq!(deferred.integration, expected.integration, "{file}");
        compared += 1;
    }
    assert!(compared >= 15, "compared {compared} specifications");
}
