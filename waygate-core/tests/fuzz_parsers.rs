//! Property tests over every parser of user input (issue 13): random and
//! structured-random text at RFC 3339 date-times, definition files (YAML and
//! JSON, then `check`), the OpenAPI importer, path templates and the URL policy.
//! Each asserts no panic, a bounded time per input, and what must hold of the
//! answers. Case counts keep the whole file to a few seconds in a debug build
//! (it runs under `cargo test --workspace` in CI); raise them locally with
//! `PROPTEST_CASES=100000`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{Value, json};
use waygate_core::import::{self, ImportOptions};
use waygate_core::model::{PathTemplate, check};
use waygate_core::{Credential, IntegrationDef, UrlPolicy};

/// The most one small input may cost, with room for a debug build on a busy machine.
const PER_INPUT: Duration = Duration::from_millis(1500);

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn within_bound<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < PER_INPUT, "one input took {took:?}");
    out
}

/// Pieces of YAML and JSON syntax, joined at random: nesting of both kinds,
/// anchors and aliases, quotes, block scalars, tags, comments, odd characters.
fn yaml_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just(", "),
        Just(": "),
        Just("- "),
        Just("? "),
        Just("\n"),
        Just("\n  "),
        Just("\n    "),
        Just("&a "),
        Just("*a"),
        Just("&b "),
        Just("*b"),
        Just("<<: "),
        Just("'"),
        Just("\""),
        Just("\\"),
        Just("|\n"),
        Just(">-\n"),
        Just("!tag "),
        Just("!!str "),
        Just("# c\n"),
        Just("---\n"),
        Just("..."),
        Just("slug"),
        Just("name"),
        Just("actions"),
        Just("path"),
        Just("method"),
        Just("inputSchema"),
        Just("$ref"),
        Just("#/components"),
        Just("x"),
        Just("1"),
        Just("-1.5e400"),
        Just("0x1F"),
        Just("~"),
        Just(".inf"),
        Just("é"),
        Just("\u{feff}"),
        Just("\t"),
        Just("\r\n"),
        Just("\u{0}"),
        Just("{a}"),
        Just("/"),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|pieces| pieces.concat())
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z$/{}#]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z$]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const SPEC: &str = r#"openapi: 3.0.3
info: {title: Pets, version: "1.0"}
servers: [{url: "https://pets.example.com/v1"}]
components:
  securitySchemes: {key: {type: apiKey, in: header, name: X-Key}}
  schemas:
    Pet: {type: object, required: [id], properties: {id: {type: integer}, tags: {type: array, items: {$ref: '#/components/schemas/Pet'}}}}
security: [{key: []}]
paths:
  /pets/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: getPet
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}}
    put:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
      responses: {default: {description: x}}
"#;

/// Days in `month` of `year` (proleptic Gregorian), the reference for dates.
fn days_in(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn expires_at(text: &str) -> Result<Credential, String> {
    let body = json!({"type": "oauth2_tokens", "clientId": "c", "clientSecret": "s",
        "accessToken": "a", "expiresAt": text});
    serde_json::from_value(body).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn rfc3339_text_of_any_kind_is_answered_without_panic(text in "\\PC{0,40}") {
        if let Err(e) = within_bound(|| expires_at(&text)) {
            prop_assert!(e.starts_with("expiresAt: "), "{}", e);
        }
    }

    #[test]
    fn rfc3339_dates_are_accepted_exactly_when_they_exist(
        year in 1i32..=9998, month in 0u32..=13, day in 0u32..=32,
        hour in 0u32..=25, minute in 0u32..=61, second in 0u32..=61,
        offset_hours in 0u32..=30, offset_minutes in 0u32..=61, negative in any::<bool>(),
    ) {
        let sign = if negative { '-' } else { '+' };
        let text = format!(
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{sign}{offset_hours:02}:{offset_minutes:02}"
        );
        let exists = (1..=12).contains(&month)
            && day >= 1 && day <= days_in(year, month)
            && hour <= 23 && minute <= 59 && second <= 60
            && offset_hours <= 25 && offset_minutes <= 59;
        prop_assert_eq!(expires_at(&text).is_ok(), exists, "{}", text);
    }

    #[test]
    fn definition_text_never_panics_and_check_answers(text in yaml_soup()) {
        within_bound(|| {
            if let Ok(def) = IntegrationDef::from_yaml(&text) {
                let _ = check(&def);
            }
            if let Ok(def) = IntegrationDef::from_json(&text) {
                let _ = check(&def);
            }
        });
    }

    #[test]
    fn definition_shaped_json_never_panics(
        slug in "[a-z-]{0,5}", actions in prop::collection::vec(json_value(), 0..4),
        auth in json_value(), path in "[a-z/{}.%]{0,12}",
    ) {
        let mut actions = actions;
        actions.push(json!({"slug": "a", "method": "GET", "path": path}));
        let text = json!({"slug": slug, "name": "N", "baseUrl": "https://x.example",
            "auth": auth, "actions": actions}).to_string();
        within_bound(|| {
            if let Ok(def) = IntegrationDef::from_json(&text) {
                let _ = check(&def);
                // What reads back writes out and reads back the same.
                let yaml = def.to_yaml().unwrap();
                prop_assert_eq!(IntegrationDef::from_yaml(&yaml).unwrap(), def);
            }
            Ok(())
        })?;
    }

    #[test]
    fn openapi_text_of_any_shape_never_panics(text in yaml_soup()) {
        let _ = within_bound(|| import::from_str(&text, &ImportOptions::default()));
    }

    #[test]
    fn mutated_openapi_text_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, yaml_soup()), 1..4),
    ) {
        let mut text = SPEC.to_owned();
        for (at, op, piece) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match op {
                0 => text.insert_str(i, &piece),
                1 => {
                    let mut end = (i + piece.len()).min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.replace_range(i..end, "");
                }
                _ => text.truncate(i),
            }
        }
        if let Ok(result) = within_bound(|| import::from_str(&text, &ImportOptions::default())) {
            // Whatever imports is a definition the checker can judge.
            let _ = check(&result.integration);
        }
    }

    #[test]
    fn path_templates_never_panic_and_keep_their_placeholders(
        text in "[a-z/{}%.~é]{0,30}",
        names in prop::collection::vec("[a-z_]{1,6}", 0..4),
    ) {
        let _ = within_bound(|| PathTemplate::parse(&text));
        let built: String = names.iter().map(|n| format!("/x/{{{n}}}")).collect();
        let parsed = PathTemplate::parse(&built).unwrap();
        prop_assert_eq!(parsed.placeholders().collect::<Vec<_>>(), names.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn url_text_never_panics_the_policy(text in "(https?://)?\\PC{0,30}") {
        if let Ok(url) = url::Url::parse(&text) {
            let _ = UrlPolicy::strict().check_url(&url);
        }
    }

    #[test]
    fn ipv6_forms_are_judged_by_the_ipv4_they_embed(raw in any::<u32>(), any_v6 in any::<u128>()) {
        let strict = UrlPolicy::strict();
        let _ = strict.check_ip(IpAddr::V6(Ipv6Addr::from(any_v6)));
        let v4 = Ipv4Addr::from(raw);
        let refused = strict.check_ip(IpAddr::V4(v4)).is_err();
        let [a, b] = [(raw >> 16) as u16, raw as u16];
        for v6 in [
            Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, a, b),
            Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, a, b),
            Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, a, b),
            Ipv6Addr::new(0x2002, a, b, 0, 0, 0, 0, 1),
            Ipv6Addr::new(0x2001, 0, 0x5db8, 0xd822, 0, 0, !a, !b),
        ] {
            prop_assert_eq!(strict.check_ip(IpAddr::V6(v6)).is_err(), refused, "{} for {}", v6, v4);
        }
    }
}
