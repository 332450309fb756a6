//! Steps 3, 10 and 11 embedded: response validation in each mode, drift, and
//! field mappings in both directions, against a real upstream on 127.0.0.1.

mod support;

use serde_json::{Value, json};
use support::{Reply, Upstream};
use waygate_core::model::{FieldMapping, Mappings, Transform, check, check_mappings};
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

fn schema() -> Value {
    json!({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "integer"},
        "active": {"type": "boolean"},
        "name": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object", "properties": {"price": {"type": "number"}}}}
    }})
}

/// One action per validation setting, plus mapped ones.
fn definition(base_url: &str) -> IntegrationDef {
    let get = |slug: &str, validation: Value| json!({"slug": slug, "method": "GET", "path": "/item", "outputSchema": schema(), "validation": validation});
    IntegrationDef::from_json(
        &json!({
            "slug": "shop", "name": "Shop", "baseUrl": base_url,
            "actions": [
                {"slug": "plain", "method": "GET", "path": "/item", "outputSchema": schema()},
                get("strict", json!("strict")),
                get("warn", json!("warn")),
                get("lenient", json!("lenient")),
                get("stripped", json!({"mode": "warn", "stripUnknown": true})),
                {"slug": "append", "method": "POST", "path": "/values",
                 "inputSchema": {"type": "object", "required": ["values", "emailAddress"], "properties": {
                     "values": {"type": "array", "items": {"type": "array"}},
                     "emailAddress": {"type": "string"},
                     "count": {"type": "number"}, "flag": {"type": "boolean"},
                     "id": {"type": "string"}, "day": {"type": "string"}}},
                 "mappings": {
                    "input": [
                        {"from": "/user/email", "to": "/emailAddress"},
                        {"from": "/values", "transform": "wrap"},
                        {"from": "/count", "transform": "number"},
                        {"from": "/flag", "transform": "boolean"},
                        {"from": "/id", "transform": "string"},
                        {"from": "/day", "transform": {"date": "%Y-%m-%d"}},
                        {"from": "/debug", "transform": "omit"},
                        {"from": "/nickname", "to": "/nick", "default": "anon"}
                    ],
                    "output": [
                        {"from": "/members/*/profile/email", "to": "/members/*/email"},
                        {"from": "/members/*/profile", "transform": "omit"},
                        {"from": "/missing", "to": "/found"}
                    ]}}
            ]
        })
        .to_string(),
    )
    .unwrap()
}

async fn setup() -> (Upstream, Waygate) {
    let upstream = Upstream::start().await;
    let waygate = Waygate::builder()
        .integration(definition(&upstream.url()))
        .connection("shop", Connection::default_with(Credential::None))
        .url_policy(UrlPolicy::strict().allow_loopback())
        .build()
        .unwrap();
    (upstream, waygate)
}

fn meta(result: &waygate_core::Invocation) -> Value {
    serde_json::to_value(&result.meta).unwrap()
}

#[tokio::test]
async fn warn_is_the_default_returns_the_data_and_lists_the_issues() {
    let (upstream, waygate) = setup().await;
    for action in ["plain", "warn"] {
        upstream.script([Reply::json(200, json!({"id": "seven", "extra": 1}))]);
        let result = waygate
            .invoke(&format!("shop.{action}"), json!({}))
            .await
            .unwrap();
        assert_eq!(result.data, json!({"id": "seven", "extra": 1}), "{action}");
        let v = &meta(&result)["validation"];
        assert_eq!(v["mode"], "warn");
        assert_eq!(v["valid"], false);
        assert_eq!(v["issues"][0]["pointer"], "/id");
        assert_eq!(v["issues"][0]["rule"], "type");
    }
    upstream.script([Reply::json(200, json!({"id": 7}))]);
    let result = waygate.invoke("shop.warn", json!({})).await.unwrap();
    assert_eq!(
        meta(&result)["validation"],
        json!({"mode": "warn", "valid": true})
    );
}

#[tokio::test]
async fn strict_refuses_a_mismatch_with_pointers_and_rules() {
    let (upstream, waygate) = setup().await;
    upstream.script([Reply::json(200, json!({"name": 5}))]);
    let e = waygate.invoke("shop.strict", json!({})).await.unwrap_err();
    assert_eq!(e.code(), "RESPONSE_VALIDATION_ERROR");
    assert!(e.may_have_been_sent());
    let details = e.details();
    let pointers: Vec<&str> = details["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pointer"].as_str().unwrap())
        .collect();
    assert!(
        pointers.contains(&"/id") && pointers.contains(&"/name"),
        "{details}"
    );
    assert!(details["violations"][0]["rule"].is_string());
    assert_eq!(
        e.suggested_resolution().action,
        waygate_core::error::ResolutionAction::CheckIntegrationConfig
    );
    upstream.script([Reply::json(200, json!({"id": 1}))]);
    let ok = waygate.invoke("shop.strict", json!({})).await.unwrap();
    assert_eq!(ok.data, json!({"id": 1}));
}

#[tokio::test]
async fn lenient_coerces_and_reports_each_change() {
    let (upstream, waygate) = setup().await;
    upstream.script([Reply::json(
        200,
        json!({"id": "42", "active": "true", "items": [{"price": "9.5"}]}),
    )]);
    let result = waygate.invoke("shop.lenient", json!({})).await.unwrap();
    assert_eq!(
        result.data,
        json!({"id": 42, "active": true, "name": null, "items": [{"price": 9.5}]})
    );
    let v = &meta(&result)["validation"];
    assert_eq!(v["valid"], true);
    assert_eq!(
        v["coerced"],
        json!([
            {"pointer": "/active", "from": "string", "to": "boolean"},
            {"pointer": "/id", "from": "string", "to": "integer"},
            {"pointer": "/items/0/price", "from": "string", "to": "number"},
            {"pointer": "/name", "from": "missing", "to": "null"}
        ])
    );
    // What cannot be coerced stays and is listed.
    upstream.script([Reply::json(200, json!({"id": "many"}))]);
    let result = waygate.invoke("shop.lenient", json!({})).await.unwrap();
    assert_eq!(result.data["id"], "many");
    assert_eq!(meta(&result)["validation"]["issues"][0]["pointer"], "/id");
}

#[tokio::test]
async fn unknown_fields_are_kept_unless_stripping_is_asked_for() {
    let (upstream, waygate) = setup().await;
    let body = json!({"id": 1, "secret": "x", "items": [{"price": 1, "internal": true}]});
    upstream.script([
        Reply::json(200, body.clone()),
        Reply::json(200, body.clone()),
    ]);
    let kept = waygate.invoke("shop.warn", json!({})).await.unwrap();
    assert_eq!(kept.data, body);
    let stripped = waygate.invoke("shop.stripped", json!({})).await.unwrap();
    assert_eq!(stripped.data, json!({"id": 1, "items": [{"price": 1}]}));
    assert_eq!(
        meta(&stripped)["validation"]["stripped"],
        json!(["/secret", "/items/0/internal"])
    );
}

#[tokio::test]
async fn non_json_bodies_and_bypassed_calls_skip_response_validation() {
    let (upstream, waygate) = setup().await;
    upstream.script([Reply {
        status: 200,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: "hello".into(),
        delay: std::time::Duration::ZERO,
    }]);
    let text = waygate.invoke("shop.strict", json!({})).await.unwrap();
    assert_eq!(text.data, "hello");
    assert_eq!(meta(&text)["validation"]["skipped"], "not JSON");
    upstream.script([Reply::json(200, json!({"id": "x"}))]);
    let bypassed = waygate
        .invoke("shop.strict", json!({}))
        .bypass_validation()
        .await
        .unwrap();
    assert_eq!(bypassed.data, json!({"id": "x"}));
    assert_eq!(meta(&bypassed)["validation"]["skipped"], "bypassed");
    // Input validation is not bypassed.
    let e = waygate
        .invoke("shop.append", json!({"values": "not an array"}))
        .bypass_validation()
        .await
        .unwrap_err();
    assert_eq!(e.code(), "VALIDATION_ERROR");
}

#[tokio::test]
async fn drift_is_flagged_after_a_systematic_change_not_after_one_odd_response() {
    let (upstream, waygate) = setup().await;
    let exec = waygate.executor();
    let call = || waygate.invoke("shop.warn", json!({}));
    for _ in 0..9 {
        upstream.script([Reply::json(200, json!({"id": 1, "items": [{"price": 1}]}))]);
        call().await.unwrap();
    }
    upstream.script([Reply::json(
        200,
        json!({"id": 1, "items": [{"price": "odd"}]}),
    )]);
    let odd = call().await.unwrap();
    assert_eq!(meta(&odd)["validation"]["valid"], false);
    assert!(meta(&odd)["validation"].get("drifting").is_none());
    let verdict = &exec.drift("embedded", "shop")[0];
    assert!(!verdict.drifting && verdict.failed == 1, "{verdict:?}");
    // The upstream now sends prices as objects: most calls fail on one path.
    let mut last = None;
    for i in 0..11 {
        let items: Vec<Value> = (0..=i).map(|_| json!({"price": {"amount": 1}})).collect();
        upstream.script([Reply::json(200, json!({"id": 1, "items": items}))]);
        last = Some(call().await.unwrap());
    }
    assert_eq!(meta(&last.unwrap())["validation"]["drifting"], true);
    let verdict = &exec.drift("embedded", "shop")[0];
    assert!(verdict.drifting, "{verdict:?}");
    assert_eq!(verdict.path.as_deref(), Some("/items/*/price"));
}

#[tokio::test]
async fn input_mappings_reshape_what_is_sent_with_each_transform() {
    let (upstream, waygate) = setup().await;
    let result = waygate
        .invoke(
            "shop.append",
            json!({"user": {"email": "a@example.com"}, "values": [1, 2, 3], "count": "12.5",
                   "flag": "TRUE", "id": 42, "day": "2026-12-03T07:30:00Z", "debug": true}),
        )
        .await
        .unwrap();
    let sent: Value = serde_json::from_slice(&upstream.received()[0].body).unwrap();
    assert_eq!(
        sent,
        json!({"user": {}, "emailAddress": "a@example.com", "values": [[1, 2, 3]], "count": 12.5,
               "flag": true, "id": "42", "day": "2026-12-03", "nick": "anon"})
    );
    let skipped = &meta(&result)["mappings"]["skipped"];
    assert!(
        skipped
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["direction"] == "output"),
        "every input mapping applied: {skipped}"
    );
}

#[tokio::test]
async fn output_mappings_move_through_arrays_and_report_absent_sources() {
    let (upstream, waygate) = setup().await;
    upstream.script([Reply::json(
        200,
        json!({"members": [{"profile": {"email": "a@x"}}, {"profile": {}}]}),
    )]);
    let result = waygate
        .invoke("shop.append", json!({"values": [1], "emailAddress": "e"}))
        .await
        .unwrap();
    assert_eq!(result.data, json!({"members": [{"email": "a@x"}, {}]}));
    let skipped = &meta(&result)["mappings"]["skipped"];
    let pointers: Vec<&str> = skipped
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/user/email",
            "/count",
            "/flag",
            "/id",
            "/day",
            "/members/1/profile/email",
            "/missing"
        ],
        "{skipped}"
    );
    assert_eq!(skipped[0]["direction"], "input");
}

#[tokio::test]
async fn a_connections_own_mappings_replace_the_definitions() {
    let (upstream, waygate) = setup().await;
    let mut connection = Connection::new("team", Credential::None);
    connection.mappings.insert(
        "append".into(),
        Mappings {
            input: vec![FieldMapping {
                from: "/mail".into(),
                to: Some("/emailAddress".into()),
                transform: None,
                default: None,
            }],
            output: vec![],
        },
    );
    waygate.put_connection("shop", connection).unwrap();
    upstream.script([Reply::json(200, json!({"members": []}))]);
    let result = waygate
        .invoke("shop.append", json!({"mail": "m@x", "values": [[1]]}))
        .connection("team")
        .await
        .unwrap();
    let sent: Value = serde_json::from_slice(&upstream.received()[0].body).unwrap();
    assert_eq!(sent, json!({"emailAddress": "m@x", "values": [[1]]}));
    assert_eq!(result.data, json!({"members": []}), "no output mapping ran");
}

#[test]
fn the_definition_format_reads_both_validation_forms_and_checks_mappings() {
    let def = definition("http://127.0.0.1:1");
    assert!(check(&def).is_ok(), "{:?}", check(&def));
    let text = def.to_json();
    assert!(text.contains("\"validation\": \"strict\""), "{text}");
    assert!(text.contains("\"stripUnknown\": true"), "{text}");
    assert_eq!(IntegrationDef::from_json(&text).unwrap(), def);
    #[cfg(feature = "yaml")]
    {
        let yaml = def.to_yaml().unwrap();
        assert_eq!(IntegrationDef::from_yaml(&yaml).unwrap(), def);
    }
    let bad = text.replace("\"stripUnknown\"", "\"stripUnknwn\"");
    let e = IntegrationDef::from_json(&bad).unwrap_err().to_string();
    assert!(e.contains("stripUnknwn"), "{e}");
    let bad = text.replace("\"lenient\"", "\"loose\"");
    let e = IntegrationDef::from_json(&bad).unwrap_err().to_string();
    assert!(e.contains("loose"), "{e}");
    let wrong = Mappings {
        input: vec![
            FieldMapping {
                from: "user".into(),
                to: Some("/a/*".into()),
                transform: None,
                default: None,
            },
            FieldMapping {
                from: "/d".into(),
                to: None,
                transform: Some(Transform::Date("%Y-%".into())),
                default: None,
            },
        ],
        output: vec![FieldMapping {
            from: "/x".into(),
            to: Some("/y".into()),
            transform: Some(Transform::Omit),
            default: None,
        }],
    };
    let fields: Vec<String> = check_mappings(&wrong)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.field)
        .collect();
    assert_eq!(
        fields,
        [
            "input[0].from",
            "input[0].to",
            "input[1].transform.date",
            "output[0].to"
        ]
    );
}
