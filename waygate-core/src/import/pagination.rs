//! Pagination hints: a guess at how an action pages, from its query parameters, its
//! response schema and its response headers, with a confidence from 0 to 1.

use serde_json::Value;

use crate::model::{ActionDef, PaginationSpec, PaginationStrategy, ParamLocation};
use crate::schema::pointer_token;

const CURSOR_PARAMS: [&str; 8] = [
    "cursor",
    "next_cursor",
    "page_token",
    "pagetoken",
    "continuation_token",
    "next_token",
    "nexttoken",
    "after",
];
/// Parameters that take the last item's id (Stripe's `starting_after`).
const ITEM_CURSOR_PARAMS: [&str; 1] = ["starting_after"];
const HAS_MORE_FIELDS: [&str; 2] = ["has_more", "hasmore"];
const CURSOR_FIELDS: [&str; 7] = [
    "next_cursor",
    "nextcursor",
    "next_page_token",
    "nextpagetoken",
    "next_token",
    "nexttoken",
    "cursor",
];
const NEXT_URL_FIELDS: [&str; 4] = ["next", "next_url", "next_page_url", "next_page_uri"];
const OFFSET_PARAMS: [&str; 3] = ["offset", "skip", "start"];
const PAGE_PARAMS: [&str; 3] = ["page", "page_number", "pagenumber"];
const LIMIT_PARAMS: [&str; 7] = [
    "limit",
    "per_page",
    "page_size",
    "pagesize",
    "count",
    "max_results",
    "maxresults",
];
const ITEM_NAMES: [&str; 6] = ["data", "items", "results", "entries", "records", "values"];

/// The most likely pagination of `action`, if any; `link_header` says whether a
/// success response declares a `Link` header.
pub(super) fn detect(action: &ActionDef, link_header: bool) -> Option<PaginationSpec> {
    // Reads page; writes that return lists are rare enough not to guess at.
    if action.method != "GET" {
        return None;
    }
    let query = |names: &[&str]| {
        action
            .parameters
            .iter()
            .filter(|p| p.location == ParamLocation::Query)
            .find(|p| names.iter().any(|n| n.eq_ignore_ascii_case(p.wire_name())))
            .map(|p| p.name.clone())
    };
    let output = action.output_schema.as_ref();
    let field = |names: &[&str]| output.and_then(|s| find_field(s, s, names, "string", 0));
    let boolean = |names: &[&str]| output.and_then(|s| find_field(s, s, names, "boolean", 0));
    let items_path = output.and_then(|s| items(s, s, 0));
    let limit_param = query(&LIMIT_PARAMS);
    let spec = |strategy| PaginationSpec {
        strategy,
        items_path: items_path.clone(),
        cursor_path: None,
        cursor_header: None,
        cursor_item_path: None,
        cursor_param: None,
        offset_param: None,
        page_param: None,
        limit_param: limit_param.clone(),
        next_url_path: None,
        has_more_path: None,
        page_size: None,
        confidence: None,
    };
    let mut candidates = Vec::new();
    if let (Some(param), Some(path)) = (query(&CURSOR_PARAMS), field(&CURSOR_FIELDS)) {
        candidates.push(PaginationSpec {
            cursor_param: Some(param),
            cursor_path: Some(path),
            confidence: Some(0.9),
            ..spec(PaginationStrategy::Cursor)
        });
    }
    // Stripe: the cursor is the last item's id, `has_more` says whether to go on.
    if let (Some(param), Some(has_more)) = (query(&ITEM_CURSOR_PARAMS), boolean(&HAS_MORE_FIELDS))
        && items_path.is_some()
    {
        candidates.push(PaginationSpec {
            cursor_param: Some(param),
            cursor_item_path: Some("/id".to_owned()),
            has_more_path: Some(has_more),
            confidence: Some(0.85),
            ..spec(PaginationStrategy::Cursor)
        });
    }
    if link_header {
        candidates.push(PaginationSpec {
            confidence: Some(0.85),
            ..spec(PaginationStrategy::Link)
        });
    }
    if let Some(page) = query(&PAGE_PARAMS) {
        let confidence = if limit_param.is_some() { 0.8 } else { 0.5 };
        candidates.push(PaginationSpec {
            page_param: Some(page),
            confidence: Some(confidence),
            ..spec(PaginationStrategy::Page)
        });
    }
    if let Some(offset) = query(&OFFSET_PARAMS) {
        let confidence = if limit_param.is_some() { 0.8 } else { 0.5 };
        candidates.push(PaginationSpec {
            offset_param: Some(offset),
            confidence: Some(confidence),
            ..spec(PaginationStrategy::Offset)
        });
    }
    if let Some(path) = field(&NEXT_URL_FIELDS) {
        // A next-page URL the upstream builds itself beats a page number we
        // would build (Twilio's `Page` works only with its `PageToken`).
        let confidence = if limit_param.is_some() { 0.85 } else { 0.6 };
        candidates.push(PaginationSpec {
            next_url_path: Some(path),
            confidence: Some(confidence),
            ..spec(PaginationStrategy::NextUrl)
        });
    }
    // The first of the most confident.
    let best = candidates
        .iter()
        .map(|c| c.confidence.unwrap_or(0.0))
        .fold(0.0, f64::max);
    candidates.into_iter().find(|c| c.confidence == Some(best))
}

/// The schema behind `schema`'s local `$ref` (and the first `allOf` member), if any.
fn deref<'s>(root: &'s Value, schema: &'s Value) -> &'s Value {
    let mut current = schema;
    for _ in 0..8 {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(pointer) => current = root.pointer(pointer).unwrap_or(&Value::Null),
            None => break,
        }
    }
    current
}

fn properties<'s>(
    root: &'s Value,
    schema: &'s Value,
) -> impl Iterator<Item = (&'s String, &'s Value)> {
    let schema = deref(root, schema);
    let own = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    // Members of compositions (and Slack's tuple-`items` on objects) add alternatives.
    let inherited = ["allOf", "anyOf", "oneOf", "prefixItems"]
        .into_iter()
        .filter_map(move |k| schema.get(k).and_then(Value::as_array))
        .flatten()
        .filter_map(move |member| {
            deref(root, member)
                .get("properties")
                .and_then(Value::as_object)
        })
        .flatten();
    own.chain(inherited)
}

/// JSON pointer to a property of type `kind` (or untyped) named like one of
/// `names`, at most two levels deep.
fn find_field(
    root: &Value,
    schema: &Value,
    names: &[&str],
    kind: &str,
    depth: usize,
) -> Option<String> {
    for (name, sub) in properties(root, schema) {
        let sub = deref(root, sub);
        let is_kind = sub.get("type").is_some_and(|t| {
            t == kind || t.as_array().is_some_and(|a| a.contains(&Value::from(kind)))
        });
        if names.iter().any(|n| n.eq_ignore_ascii_case(name))
            && (is_kind || sub.get("type").is_none())
        {
            return Some(format!("/{}", pointer_token(name)));
        }
    }
    if depth >= 1 {
        return None;
    }
    properties(root, schema).find_map(|(name, sub)| {
        let found = find_field(root, sub, names, kind, depth + 1)?;
        Some(format!("/{}{found}", pointer_token(name)))
    })
}

/// JSON pointer to the array of items: the response itself, or its array property
/// (a conventional name preferred).
fn items(root: &Value, schema: &Value, depth: usize) -> Option<String> {
    let schema = deref(root, schema);
    if depth == 0 && schema.get("type").and_then(Value::as_str) == Some("array") {
        return Some(String::new());
    }
    let arrays: Vec<&String> = properties(root, schema)
        .filter(|(_, sub)| deref(root, sub).get("type").and_then(Value::as_str) == Some("array"))
        .map(|(name, _)| name)
        .collect();
    let pick = arrays
        .iter()
        .find(|n| ITEM_NAMES.contains(&n.as_str()))
        .or_else(|| arrays.first());
    pick.map(|name| format!("/{}", pointer_token(name)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Parameter;

    fn action(params: &[&str], output: Value) -> ActionDef {
        let mut a = ActionDef::new("list", "GET", "/items");
        a.parameters = params
            .iter()
            .map(|p| Parameter::new(*p, ParamLocation::Query))
            .collect();
        a.output_schema = Some(output);
        a
    }

    #[test]
    fn slack_style_cursor() {
        let out = json!({"type": "object", "properties": {
            "members": {"type": "array", "items": {}},
            "response_metadata": {"$ref": "#/$defs/meta"},
        }, "$defs": {"meta": {"type": "object", "properties": {"next_cursor": {"type": "string"}}}}});
        let p = detect(&action(&["cursor", "limit"], out), false).unwrap();
        assert_eq!(p.strategy, PaginationStrategy::Cursor);
        assert_eq!(
            p.cursor_path.as_deref(),
            Some("/response_metadata/next_cursor")
        );
        assert_eq!(p.items_path.as_deref(), Some("/members"));
        assert_eq!(p.limit_param.as_deref(), Some("limit"));
    }

    #[test]
    fn stripe_style_last_item_cursor() {
        let out = json!({"type": "object", "properties": {
            "object": {"type": "string"},
            "data": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
            "has_more": {"type": "boolean"},
            "url": {"type": "string"},
        }});
        let p = detect(
            &action(&["ending_before", "limit", "starting_after"], out),
            false,
        )
        .unwrap();
        assert_eq!(
            (
                p.strategy,
                p.cursor_param.as_deref(),
                p.cursor_item_path.as_deref(),
                p.has_more_path.as_deref(),
                p.items_path.as_deref(),
                p.confidence,
            ),
            (
                PaginationStrategy::Cursor,
                Some("starting_after"),
                Some("/id"),
                Some("/has_more"),
                Some("/data"),
                Some(0.85),
            )
        );
        // Every hint is an executable setting: it passes the definition check.
        let mut def = crate::model::IntegrationDef::new("x", "X");
        let mut a = action(&["starting_after", "limit"], json!({"type": "array"}));
        a.pagination = Some(p);
        def.actions.push(a);
        crate::model::check(&def).unwrap();
    }

    #[test]
    fn page_offset_link_and_next_url() {
        let list = json!({"type": "array"});
        assert_eq!(
            detect(&action(&["page", "per_page"], list.clone()), false)
                .unwrap()
                .strategy,
            PaginationStrategy::Page
        );
        assert_eq!(
            detect(&action(&["offset", "limit"], list.clone()), false)
                .unwrap()
                .items_path
                .as_deref(),
            Some("")
        );
        assert_eq!(
            detect(&action(&[], list.clone()), true).unwrap().strategy,
            PaginationStrategy::Link
        );
        let next = json!({"properties": {"links": {"properties": {"next": {"type": "string"}}}, "data": {"type": "array"}}});
        let p = detect(&action(&[], next), false).unwrap();
        assert_eq!(
            (p.strategy, p.next_url_path.as_deref()),
            (PaginationStrategy::NextUrl, Some("/links/next"))
        );
        assert!(detect(&action(&["q"], list), false).is_none());
    }
}
