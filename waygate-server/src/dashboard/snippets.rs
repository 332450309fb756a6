//! Copy-paste code for calling an action through the gateway: curl,
//! TypeScript `fetch`, Python `requests` and Rust `reqwest`. The key is read
//! from `WAYGATE_API_KEY`, never written into a snippet.

use serde_json::Value;

/// One snippet: its tab label, an id for the page, and the code.
pub struct Snippet {
    /// The tab's label.
    pub label: &'static str,
    /// A short id (element ids on the page).
    pub id: &'static str,
    /// The code.
    pub code: String,
}

/// The snippets that invoke `integration.action` on the gateway at `origin`
/// (`http://127.0.0.1:8080`) with `input`.
pub fn all(origin: &str, integration: &str, action: &str, input: &Value) -> Vec<Snippet> {
    let url = format!("{origin}/api/v1/actions/{integration}/{action}");
    let body = serde_json::json!({ "input": input });
    let pretty = serde_json::to_string_pretty(&body).unwrap_or_default();
    let compact = body.to_string();
    let input_pretty = serde_json::to_string_pretty(input).unwrap_or_default();
    vec![
        Snippet {
            label: "curl",
            id: "curl",
            code: format!(
                "curl -X POST '{url}' \\\n  -H \"Authorization: Bearer $WAYGATE_API_KEY\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{}'",
                compact.replace('\'', "'\\''")
            ),
        },
        Snippet {
            label: "TypeScript",
            id: "ts",
            code: format!(
                "const response = await fetch(\"{url}\", {{\n  method: \"POST\",\n  headers: {{\n    Authorization: `Bearer ${{process.env.WAYGATE_API_KEY}}`,\n    \"Content-Type\": \"application/json\",\n  }},\n  body: JSON.stringify({}),\n}});\nconst {{ data, meta }} = await response.json();\nconsole.log(response.status, data, meta);",
                indent(&pretty, 2)
            ),
        },
        Snippet {
            label: "Python",
            id: "python",
            code: format!(
                "import json, os\nimport requests\n\nresponse = requests.post(\n    \"{url}\",\n    headers={{\"Authorization\": f\"Bearer {{os.environ['WAYGATE_API_KEY']}}\"}},\n    json=json.loads({}),\n    timeout=60,\n)\nprint(response.status_code, response.json())",
                python_string(&pretty)
            ),
        },
        Snippet {
            label: "Rust",
            id: "rust",
            code: format!(
                "// reqwest = {{ version = \"0.13\", features = [\"json\"] }}, serde_json = \"1\", tokio = {{ version = \"1\", features = [\"full\"] }}\n#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    let key = std::env::var(\"WAYGATE_API_KEY\")?;\n    let answer: serde_json::Value = reqwest::Client::new()\n        .post(\"{url}\")\n        .bearer_auth(key)\n        .json(&serde_json::json!({{ \"input\": {} }}))\n        .send()\n        .await?\n        .json()\n        .await?;\n    println!(\"{{answer:#}}\");\n    Ok(())\n}}",
                indent(&input_pretty, 8)
            ),
        },
    ]
}

/// `text` with every line after the first indented by `by` spaces.
fn indent(text: &str, by: usize) -> String {
    text.replace('\n', &format!("\n{}", " ".repeat(by)))
}

/// A Python string literal of `text`: triple-quoted when that is safe, else escaped.
fn python_string(text: &str) -> String {
    if text.contains("'''") || text.contains('\\') {
        serde_json::to_string(text).unwrap_or_default()
    } else {
        format!("'''{text}'''")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn curl_quotes_single_quotes_for_the_shell() {
        let s = all("http://h", "i", "a", &json!({"q": "it's"}));
        assert!(
            s[0].code.contains(r#"-d '{"input":{"q":"it'\''s"}}'"#),
            "{}",
            s[0].code
        );
        assert!(s[0].code.contains("http://h/api/v1/actions/i/a"));
    }

    #[test]
    fn python_falls_back_to_an_escaped_literal() {
        assert_eq!(python_string("{}"), "'''{}'''");
        assert_eq!(python_string(r#"{"a": "\\"}"#), r#""{\"a\": \"\\\\\"}""#);
    }

    #[test]
    fn no_snippet_holds_a_key() {
        for s in all("http://h", "i", "a", &json!({})) {
            assert!(s.code.contains("WAYGATE_API_KEY"), "{}", s.label);
            assert!(!s.code.contains("wg_live_"), "{}", s.label);
        }
    }
}
