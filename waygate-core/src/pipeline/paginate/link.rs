//! The `rel="next"` target of RFC 8288 `Link` headers.
//!
//! Hand-written (decision 61): the crates that parse `Link` pull in a regex
//! engine for a grammar this small. The grammar is followed where naive
//! splitting goes wrong: commas inside `<…>` and inside quoted parameter
//! values, several `Link` headers, several relation types in one `rel`, and
//! case-insensitive names and relation types.

use http::HeaderMap;
use http::header::LINK;

/// The target of the first link whose relation types include `next`.
pub(super) fn next(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|value| {
            links(value)
                .find(|(_, rels)| rels.iter().any(|r| r.eq_ignore_ascii_case("next")))
                .map(|(target, _)| target.to_owned())
        })
}

/// Each `<target>; params` of one header value with its `rel` types; parsing
/// stops at the first malformed link.
fn links(value: &str) -> impl Iterator<Item = (&str, Vec<String>)> {
    let mut rest = value;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let after_open = rest.strip_prefix('<')?;
        let close = after_open.find('>')?;
        let target = &after_open[..close];
        rest = &after_open[close + 1..];
        let mut rels = Vec::new();
        loop {
            rest = rest.trim_start();
            let Some(after_semicolon) = rest.strip_prefix(';') else {
                break;
            };
            let (name, value, remainder) = param(after_semicolon.trim_start());
            rest = remainder;
            if name.eq_ignore_ascii_case("rel") {
                rels.extend(value.split_whitespace().map(str::to_owned));
            }
        }
        Some((target, rels))
    })
}

/// One `name[=value]` parameter (value a token or a quoted string); returns
/// the name, the unquoted value and the text after it.
fn param(text: &str) -> (&str, String, &str) {
    let name_end = text.find(['=', ';', ',']).unwrap_or(text.len());
    let name = text[..name_end].trim();
    let Some(after_eq) = text[name_end..].strip_prefix('=') else {
        return (name, String::new(), &text[name_end..]);
    };
    let after_eq = after_eq.trim_start();
    if let Some(quoted) = after_eq.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (name, value, &quoted[i + 1..]),
                _ => value.push(c),
            }
        }
        return (name, value, "");
    }
    let end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
    (name, after_eq[..end].trim().to_owned(), &after_eq[end..])
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(LINK, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn github_style() {
        let h = headers(&[
            r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#,
        ]);
        assert_eq!(
            next(&h).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
    }

    #[test]
    fn commas_quotes_case_and_several_headers() {
        let h = headers(&[
            r#"<https://x.example/a,b>; title="a, rel=next"; rel="prev""#,
            r#"</p?x=1,2>; REL="last NEXT"; title=plain"#,
        ]);
        assert_eq!(next(&h).as_deref(), Some("/p?x=1,2"));
        let h = headers(&[r#"<a>; rel=next"#]);
        assert_eq!(next(&h).as_deref(), Some("a"));
        let h = headers(&[r#"<a>; rel="nextish""#, "garbage", r#"<b"#]);
        assert_eq!(next(&h), None);
        let h = headers(&[r#"<a>; rel="prev"; title="x\"; rel=next", <b>; rel=next"#]);
        assert_eq!(next(&h).as_deref(), Some("b"));
    }
}
