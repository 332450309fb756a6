//! Tool export on the real vendor specifications in `shared/fixtures/openapi`:
//! Slack, Twilio and DigitalOcean imported, then exported in every format.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::{Map, Value, json};
use waygate_core::import::{self, ImportOptions};
use waygate_core::model::IntegrationDef;
use waygate_core::schema::{compile, example};
use waygate_core::tools::{MAX_NAME_LEN, ToolFormat, ToolSet, drop_optional_nulls, is_portable};

const FIXTURES: [&str; 3] = [
    "slack/slack_web_openapi_v2.json",
    "twilio/twilio_api_v2010.yaml",
    "digitalocean/specification/DigitalOcean-public.v2.yaml",
];

fn import(file: &str) -> IntegrationDef {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/openapi")
        .join(file);
    import::from_file(path, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .integration
}

fn defs() -> Vec<IntegrationDef> {
    FIXTURES.iter().map(|f| import(f)).collect()
}

#[test]
fn every_fixture_action_has_a_unique_portable_name() {
    let defs = defs();
    let set = ToolSet::build(defs.iter()).expect("no collisions");
    let total: usize = defs.iter().map(|d| d.actions.len()).sum();
    assert_eq!(set.len(), total);
    let mut seen = HashSet::new();
    for tool in set.tools() {
        assert!(is_portable(&tool.name), "{}", tool.name);
        assert!(tool.name.len() <= MAX_NAME_LEN, "{}", tool.name);
        assert!(seen.insert(tool.name.clone()));
        assert_eq!(set.get(&tool.id).map(|t| &t.name), Some(&tool.name));
    }
    let names: Vec<&str> = set.tools().iter().map(|t| t.name.as_str()).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted");
}

#[test]
fn no_tool_schema_has_a_credential_field() {
    for def in defs() {
        let set = ToolSet::build([&def]).unwrap();
        for action in &def.actions {
            let tool = set.get(&format!("{}.{}", def.slug, action.slug)).unwrap();
            for p in action.parameters.iter().filter(|p| p.credential) {
                assert!(
                    tool.input_schema["properties"].get(&p.name).is_none(),
                    "{}: {}",
                    tool.id,
                    p.name
                );
            }
        }
    }
    // Slack's `token` is the known case.
    let slack = import(FIXTURES[0]);
    let set = ToolSet::build([&slack]).unwrap();
    let post = set
        .get(&format!("{}.chat_postMessage", slack.slug))
        .expect("chat_postMessage");
    assert!(post.input_schema["properties"].get("token").is_none());
    assert!(post.input_schema["properties"].get("channel").is_some());
}

/// An instance of the strict schema as a model would send it: every optional
/// field that the example leaves out is sent as `null`.
fn with_nulls(strict: &Value, mut value: Value) -> Value {
    if let (Some(props), Some(obj)) = (
        strict.get("properties").and_then(Value::as_object),
        value.as_object_mut(),
    ) {
        for (name, schema) in props {
            match obj.get_mut(name) {
                None => {
                    obj.insert(name.clone(), Value::Null);
                }
                Some(v) => *v = with_nulls(schema, v.take()),
            }
        }
    }
    value
}

#[test]
fn strict_exports_validate_model_style_arguments_that_round_trip_to_the_action_schema() {
    let mut strict_count = 0;
    let mut non_strict = 0;
    let mut round_trips = 0;
    for def in defs() {
        let set = ToolSet::build([&def]).unwrap();
        let export = set.export(ToolFormat::OpenAi, true);
        let noted: HashSet<&str> = export.notes.iter().map(|n| n.tool.as_str()).collect();
        for (tool, exported) in set.tools().iter().zip(&export.tools) {
            let function = &exported["function"];
            assert_eq!(function["name"], json!(tool.name));
            assert!(function["description"].as_str().unwrap().chars().count() <= 1024);
            let params = &function["parameters"];
            if function["strict"] != json!(true) {
                assert!(noted.contains(tool.name.as_str()), "{}: no reason", tool.id);
                non_strict += 1;
                continue;
            }
            strict_count += 1;
            check_strict_object(params, &tool.id, "");
            let strict_validator = compile(params).unwrap_or_else(|e| panic!("{}: {e}", tool.id));
            let original = compile(&tool.input_schema).unwrap();
            let sample = example(&tool.input_schema);
            if !original.is_valid(&sample) {
                continue; // the example generator could not satisfy it
            }
            // Nested objects stay as the example built them; top-level nulls are what models send.
            let sent = with_nulls(params, sample.clone());
            if !strict_validator.is_valid(&sent) {
                continue;
            }
            let back = drop_optional_nulls(&tool.input_schema, sent);
            assert!(original.is_valid(&back), "{}: {back}", tool.id);
            round_trips += 1;
        }
    }
    assert!(strict_count > 500, "strict: {strict_count}");
    assert!(round_trips > 300, "round trips: {round_trips}");
    eprintln!("strict {strict_count}, non-strict {non_strict}, round trips {round_trips}");
}

fn check_strict_object(schema: &Value, id: &str, at: &str) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if map.get("type").is_some_and(|t| {
        t == "object" || t.as_array().is_some_and(|a| a.contains(&json!("object")))
    }) {
        assert_eq!(
            map.get("additionalProperties"),
            Some(&json!(false)),
            "{id}{at}"
        );
        let props: Vec<&String> = map["properties"].as_object().unwrap().keys().collect();
        let required: Vec<&str> = map["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(props.len(), required.len(), "{id}{at}: all required");
    }
    for (k, v) in map {
        match v {
            Value::Object(_) => check_strict_object(v, id, &format!("{at}/{k}")),
            Value::Array(a) => a
                .iter()
                .for_each(|v| check_strict_object(v, id, &format!("{at}/{k}"))),
            _ => {}
        }
    }
}

#[test]
fn every_format_exports_every_fixture_tool() {
    for def in defs() {
        let set = ToolSet::build([&def]).unwrap();
        for format in ToolFormat::ALL {
            let export = set.export(format, true);
            assert_eq!(export.tools.len(), set.len(), "{} {format}", def.slug);
            for tool in &export.tools {
                let text = tool.to_string();
                if format == ToolFormat::Gemini {
                    assert!(!text.contains("\"$ref\""), "{text}");
                    assert!(!text.contains("additionalProperties"), "{text}");
                    if let Some(p) = tool.get("parameters") {
                        assert_eq!(p["type"], json!("OBJECT"));
                    }
                }
                if format == ToolFormat::Anthropic && tool.get("strict") == Some(&json!(true)) {
                    check_anthropic(&tool["input_schema"]);
                }
            }
        }
    }
}

fn check_anthropic(schema: &Value) {
    let Some(map) = schema.as_object() else {
        return;
    };
    for k in ["minimum", "maximum", "minLength", "maxLength", "multipleOf"] {
        assert!(!map.contains_key(k), "{k} in {schema}");
    }
    if map.contains_key("properties") {
        assert_eq!(map.get("additionalProperties"), Some(&json!(false)));
    }
    map.values().for_each(|v| match v {
        Value::Object(_) => check_anthropic(v),
        Value::Array(a) => a.iter().for_each(check_anthropic),
        _ => {}
    });
    let _: Option<&Map<String, Value>> = None;
}

#[tokio::test]
async fn the_embedded_library_exports_tools_and_calls_them_by_name_with_model_nulls() {
    let def = IntegrationDef::from_yaml(
        r#"
slug: echo
name: Echo
baseUrl: https://echo.invalid
auth: {type: none}
actions:
  - slug: post.message
    method: POST
    path: /messages
    inputSchema:
      type: object
      properties:
        text: {type: string}
        thread: {type: string}
      required: [text]
"#,
    )
    .unwrap();
    let waygate = waygate_core::Waygate::builder()
        .integration(def)
        .build()
        .unwrap();
    let export = waygate.tools(ToolFormat::OpenAi, true).unwrap();
    assert_eq!(
        export.tools[0]["function"]["name"],
        json!("echo__post__message")
    );
    assert_eq!(
        export.tools[0]["function"]["parameters"]["properties"]["thread"]["type"],
        json!(["string", "null"])
    );
    // What a strict model sends: `thread: null`. The pipeline drops the null
    // of an optional field whose schema takes none, on every path (decision
    // 52): the call gets past validation (and fails later, on the unreachable
    // upstream), invoked directly as by its tool name. A null for the
    // required field stays and is refused.
    let raw = waygate
        .invoke("echo.post.message", json!({"text": "hi", "thread": null}))
        .await
        .unwrap_err();
    assert_eq!(raw.code(), "UPSTREAM_UNREACHABLE", "{raw}");
    let required = waygate
        .invoke("echo.post.message", json!({"text": null}))
        .await
        .unwrap_err();
    assert_eq!(required.code(), "VALIDATION_ERROR");
    for name in ["echo__post__message", "echo.post.message"] {
        let e = waygate
            .call_tool(name, json!({"text": "hi", "thread": null}))
            .await
            .unwrap_err();
        assert_ne!(e.code(), "VALIDATION_ERROR", "{e}");
    }
    let unknown = waygate
        .call_tool("echo__nope", json!({}))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "NOT_FOUND");
}
