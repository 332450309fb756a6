//! Hostile documents (issue 13): every parser of user input refuses what is
//! over its limits quickly, names the limit, and never panics.
//!
//! The CPU figures of the issue (any document ≤ 16 MiB refused or read in under
//! 2 s) hold for release builds: `cargo test --release -p waygate-core --test
//! hostile_input -- --include-ignored --nocapture` prints them. Debug builds
//! (CI's `cargo test --workspace`) run the same inputs against a looser bound.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use waygate_core::IntegrationDef;
use waygate_core::import::{self, ImportErrorKind, ImportOptions};
use waygate_core::limits;

/// The bound in release; debug code is up to ~15 times slower.
fn bound() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(2)
    }
}

/// CPU time this thread has run, where Linux tells it (the bound is CPU,
/// and this machine's cores are shared: wall time would count other work).
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Runs `f`, prints its CPU time (wall time where that is unknown) under
/// `label`, and checks the bound.
fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    let out = f();
    let took = match (cpu, thread_cpu()) {
        (Some(before), Some(after)) => after - before,
        _ => wall.elapsed(),
    };
    println!("{label}: {took:?} CPU ({:?} wall)", wall.elapsed());
    assert!(took < bound(), "{label} took {took:?}");
    out
}

fn nested_flow(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

/// A billion laughs: ten levels of ten aliases each.
fn laughs() -> String {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10u8 {
        let (prev, cur) = ((b'a' + level - 1) as char, (b'a' + level) as char);
        let refs = vec![format!("*{prev}"); 10].join(", ");
        text.push_str(&format!("{cur}: &{cur} [{refs}]\n"));
    }
    text
}

#[test]
fn deep_nesting_is_refused_before_the_parser_spends_time_on_it() {
    // The input: 100,000 nested flow sequences under a key cost libyaml
    // 40 s; the same after a mapping key, as a flow mapping, and in JSON.
    let n = 100_000;
    for (label, nested) in [
        ("yaml flow sequences", nested_flow(n)),
        ("yaml flow mappings", "{a: ".repeat(n)),
        ("yaml block sequences", format!("\n    {}x", "- ".repeat(n))),
    ] {
        // Where a definition holds free-form JSON: an action's input schema.
        let text = format!(
            "slug: a\nname: A\nactions:\n- slug: x\n  method: GET\n  path: /x\n  inputSchema: {nested}"
        );
        let e = timed(label, || IntegrationDef::from_yaml(&text)).unwrap_err();
        assert!(
            e.to_string().contains("more than 64 levels"),
            "{label}: {e}"
        );
        assert!(e.line().is_some(), "{label}: {e}");
        let e = timed(label, || import::from_str(&text, &ImportOptions::default())).unwrap_err();
        assert_eq!(e.kind(), ImportErrorKind::TooLarge, "{label}: {e}");
    }
    let json_text = format!("{{\"slug\": \"a\", \"actions\": {}}}", nested_flow(n));
    let e = timed("json", || IntegrationDef::from_json(&json_text)).unwrap_err();
    assert!(e.to_string().contains("more than 128 levels"), "{e}");
    assert_eq!(e.line(), Some(1));
    let e = timed("json import", || {
        import::from_str(&json_text, &ImportOptions::default())
    })
    .unwrap_err();
    assert_eq!(e.kind(), ImportErrorKind::TooLarge);
    assert!(limits::check_json_text(&json_text).is_err());

    let mut deep = Value::Null;
    for _ in 0..1000 {
        deep = json!({"a": deep});
    }
    let e = import::from_value(
        json!({"openapi": "3.0.0", "x": deep}),
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ImportErrorKind::TooLarge);
}

#[test]
fn alias_expansion_is_bounded() {
    let in_schema = format!(
        "slug: a\nname: A\nactions:\n- slug: x\n  method: GET\n  path: /x\n  inputSchema:\n{}",
        laughs()
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    let e = timed("billion laughs", || IntegrationDef::from_yaml(&in_schema)).unwrap_err();
    assert!(e.to_string().contains("aliases would replay"), "{e}");
    let e = timed("billion laughs import", || {
        import::from_str(&laughs(), &ImportOptions::default())
    })
    .unwrap_err();
    assert_eq!(e.kind(), ImportErrorKind::TooLarge);
    // One wide anchor replayed many times.
    let items = vec!["x"; 10_000].join(", ");
    let refs = vec!["*a"; 10_000].join(", ");
    let wide = format!("a: &a [{items}]\nb: [{refs}]\n");
    let e = timed("wide alias", || {
        import::from_str(&wide, &ImportOptions::default())
    })
    .unwrap_err();
    assert!(e.message().contains("aliases would replay"), "{e}");
    // Aliases within the budget still work.
    let def = IntegrationDef::from_yaml("slug: a\nname: &n A\ntags: [*n, *n]\n").unwrap();
    assert_eq!(def.tags, ["A", "A"]);
}

#[test]
fn an_import_whose_output_multiplies_its_input_is_refused() {
    // A chain of 300 shared schemas of 30 properties, each referring to the next,
    // used by 2,000 operations: every action's schema would carry a copy of all
    // 300 ($defs), 2,000 × ~20,000 nodes.
    let mut schemas = serde_json::Map::new();
    for i in 0..300 {
        let next = if i + 1 < 300 {
            json!({"$ref": format!("#/components/schemas/S{}", i + 1)})
        } else {
            json!({"type": "string"})
        };
        let mut properties: serde_json::Map<String, Value> = (0..30)
            .map(|p| (format!("p{p}"), json!({"type": "integer"})))
            .collect();
        properties.insert("next".into(), next);
        schemas.insert(
            format!("S{i}"),
            json!({"type": "object", "properties": properties}),
        );
    }
    let ok = json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}});
    let mut paths = serde_json::Map::new();
    for i in 0..2_000 {
        paths.insert(format!("/p{i}"), json!({"get": {"responses": ok}}));
    }
    let doc = json!({"openapi": "3.0.0", "info": {"title": "T", "version": "1"},
        "paths": paths, "components": {"schemas": schemas}});
    let e = timed("multiplying import", || {
        import::from_value(doc, &ImportOptions::default())
    })
    .unwrap_err();
    assert_eq!(e.kind(), ImportErrorKind::TooLarge);
    assert!(e.message().contains("2000000 nodes"), "{e}");
}

#[test]
fn oversized_text_is_refused_by_its_length() {
    let big = "x".repeat(limits::MAX_DOCUMENT_BYTES + 1);
    let e = IntegrationDef::from_yaml(&big).unwrap_err();
    assert!(e.to_string().contains("the limit is 16777216"), "{e}");
    assert!(IntegrationDef::from_json(&big).is_err());
    let e = import::from_str(&big, &ImportOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ImportErrorKind::TooLarge);
}

/// 16 MiB documents of the cheapest nodes: read or refused within the bound.
/// Heavy in debug builds; run in release for the figures.
#[test]
#[ignore = "16 MiB documents: run with --release for the figures"]
fn sixteen_mib_documents_are_read_or_refused_within_the_bound() {
    let fill = |head: &str, item: &str, tail: &str| {
        let mut text = String::from(head);
        while text.len() + item.len() + tail.len() < limits::MAX_DOCUMENT_BYTES {
            text.push_str(item);
        }
        text.push_str(tail);
        text
    };
    let flow = fill("slug: a\nname: A\ntags: [", "x,", "x]\n");
    let r = timed("16 MiB YAML flow", || IntegrationDef::from_yaml(&flow));
    assert!(r.unwrap_err().to_string().contains("nodes"));
    let block = fill("slug: a\nname: A\ntags:\n", "- x\n", "");
    let r = timed("16 MiB YAML block", || IntegrationDef::from_yaml(&block));
    assert!(r.is_err());
    let deep = fill(
        &format!("slug: a\nname: A\ntags: {}", "[".repeat(120)),
        "x,",
        &format!("x{}\n", "]".repeat(120)),
    );
    let r = timed("16 MiB YAML at depth 120", || {
        IntegrationDef::from_yaml(&deep)
    });
    assert!(r.is_err());
    let keys = fill("slug: a\nname: A\nx: {", "k: v, ", "}\n");
    let r = timed("16 MiB YAML flow mapping", || {
        IntegrationDef::from_yaml(&keys)
    });
    assert!(r.is_err());
    let json_text = fill(
        "{\"slug\": \"a\", \"name\": \"A\", \"tags\": [",
        "\"x\",",
        "\"x\"]}",
    );
    let def = timed("16 MiB JSON", || IntegrationDef::from_json(&json_text)).unwrap();
    timed("16 MiB JSON check", || waygate_core::model::check(&def)).unwrap();
    // As many actions as 16 MiB holds, each with its own schema to compile.
    let mut actions = Vec::new();
    let mut size = 0;
    while size < limits::MAX_DOCUMENT_BYTES - 1024 {
        let i = actions.len();
        let action = json!({"slug": format!("a{i}"), "method": "POST", "path": format!("/a/{i}"),
            "inputSchema": {"type": "object", "required": [format!("p{i}")],
                "properties": {format!("p{i}"): {"type": "string", "pattern": format!("^x{i}$")}}}});
        size += action.to_string().len() + 1;
        actions.push(action);
    }
    let count = actions.len();
    let many =
        json!({"slug": "many", "name": "Many", "baseUrl": "https://x.example", "actions": actions})
            .to_string();
    let def = timed(
        &format!("16 MiB JSON definition of {count} actions"),
        || IntegrationDef::from_json(&many),
    )
    .unwrap();
    timed(&format!("check of {count} actions"), || {
        waygate_core::model::check(&def)
    })
    .unwrap();
    let spec = fill(
        "{\"openapi\": \"3.0.0\", \"info\": {\"title\": \"T\", \"version\": \"1\"}, \"paths\": {\"/a\": {\"get\": {\"responses\": {\"200\": {\"description\": \"ok\"}}}}}, \"x\": [",
        "1,",
        "1]}",
    );
    timed("16 MiB JSON import", || {
        import::from_str(&spec, &ImportOptions::default())
    })
    .unwrap();
    let yaml_spec = fill(
        "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {}\nx: [",
        "1,",
        "1]\n",
    );
    let e = timed("16 MiB YAML import", || {
        import::from_str(&yaml_spec, &ImportOptions::default())
    })
    .unwrap_err();
    assert_eq!(e.kind(), ImportErrorKind::TooLarge, "{e}");
}

/// A definition whose one action has `input_schema`.
fn with_schema(input_schema: Value) -> IntegrationDef {
    IntegrationDef::from_json(
        &json!({"slug": "a", "name": "A", "baseUrl": "https://x.example",
            "actions": [{"slug": "x", "method": "POST", "path": "/x", "inputSchema": input_schema}]})
        .to_string(),
    )
    .unwrap()
}

#[test]
fn user_schemas_compile_in_bounded_time() {
    // References doubling at each of 40 levels: 2^40 paths if expanded.
    let mut defs = serde_json::Map::new();
    for i in 0..40 {
        let next = format!("#/$defs/d{}", i + 1);
        defs.insert(
            format!("d{i}"),
            json!({"allOf": [{"$ref": next}, {"$ref": next}]}),
        );
    }
    defs.insert("d40".into(), json!({"type": "string"}));
    let doubling = with_schema(json!({"$defs": defs, "$ref": "#/$defs/d0"}));
    timed("doubling $refs", || waygate_core::model::check(&doubling)).unwrap();
    let recursive =
        with_schema(json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}));
    let _ = timed("self $ref", || waygate_core::model::check(&recursive));
    // Counted repetitions that expand to a huge automaton are refused, not built.
    let patterns: Vec<Value> = (0..200)
        .map(|i| json!({"pattern": format!("(a{{1000}}){{1000}}{i}")}))
        .collect();
    let heavy = with_schema(json!({"allOf": patterns}));
    let r = timed("huge regexes", || waygate_core::model::check(&heavy));
    println!("huge regexes: {r:?}");
}
