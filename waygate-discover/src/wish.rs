//! The wishlist: phrases matched to the draft's actions, wished actions first and
//! flagged `metadata.wished`. Lexical (core's `import::wish_matches`) always;
//! with an LLM configured, one bounded question asks the model to match by
//! meaning ("remove a customer" → `DELETE /customers/{id}`), and any failure
//! falls back to the lexical match with a warning (decision 100).

use serde::Deserialize;
use serde_json::{Value, json};
use waygate_core::import;
use waygate_core::model::ActionDef;

use crate::llm::{LlmProvider, Task};

/// Actions shown to the model at most: the prompt stays within one chunk's
/// budget whatever the draft's size.
pub const MAX_CANDIDATES: usize = 200;

/// Wishlist phrases sent at most (the API accepts no more).
pub const MAX_WISHES: usize = 50;

/// Actions the model may name per phrase.
const MAX_PER_WISH: usize = 5;

/// Characters of one candidate line (method, path, name) at most.
const MAX_LINE: usize = 160;

const INSTRUCTIONS: &str = "You match what a user wants from an API to the API's actions. \
The user message lists wishes and actions, each with a number. For each wish give its number \
and the numbers of the actions that do what it asks, best first, at most 5; an empty list when \
no action does. Judge by meaning, not by shared words. \
Answer with JSON only: {\"matches\": [{\"wish\": 0, \"actions\": [3, 1]}]}.";

#[derive(Deserialize)]
struct Answer {
    matches: Vec<Match>,
}

#[derive(Deserialize)]
struct Match {
    wish: usize,
    actions: Vec<usize>,
}

/// The answer's JSON Schema for `wishes` phrases and `candidates` actions.
fn schema(wishes: usize, candidates: usize) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["matches"],
        "properties": {"matches": {"type": "array", "maxItems": wishes, "items": {
            "type": "object",
            "additionalProperties": false,
            "required": ["wish", "actions"],
            "properties": {
                "wish": {"type": "integer", "minimum": 0, "maximum": wishes.saturating_sub(1)},
                "actions": {"type": "array", "maxItems": MAX_PER_WISH, "items":
                    {"type": "integer", "minimum": 0, "maximum": candidates.saturating_sub(1)}}
            }
        }}}
    })
}

/// Puts the actions the wishlist asks for first and flags them; returns their
/// slugs. With `llm` (and its budget not spent) the model matches by meaning in
/// one question; phrases it leaves out, and every phrase when it fails, are
/// matched lexically, the failure reported in `warnings`.
pub async fn rank(
    wishlist: &[String],
    actions: &mut Vec<ActionDef>,
    llm: Option<&dyn LlmProvider>,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let wishlist = &wishlist[..wishlist.len().min(MAX_WISHES)];
    if wishlist.is_empty() || actions.is_empty() {
        return Vec::new();
    }
    let lexical = import::wish_matches(wishlist, actions);
    let picked: Vec<usize> = match llm {
        None => lexical.into_iter().flatten().collect(),
        Some(model) => match semantic(model, wishlist, actions, &lexical).await {
            Ok(per_wish) => per_wish
                .into_iter()
                .zip(lexical)
                .flat_map(|(model, word)| model.unwrap_or_else(|| word.into_iter().collect()))
                .collect(),
            Err(e) => {
                warnings.push(format!("the wishlist was matched by words only: {e}"));
                lexical.into_iter().flatten().collect()
            }
        },
    };
    import::put_wished_first(&picked, actions)
}

/// The model's matches per phrase, as indexes into `actions`; `None` for a phrase
/// the answer leaves out.
async fn semantic(
    model: &dyn LlmProvider,
    wishlist: &[String],
    actions: &[ActionDef],
    lexical: &[Option<usize>],
) -> Result<Vec<Option<Vec<usize>>>, crate::llm::LlmError> {
    // The lexical matches are always among the candidates, then the draft's
    // order (best first) until the bound.
    let mut candidates: Vec<usize> = Vec::new();
    for i in lexical.iter().flatten().copied().chain(0..actions.len()) {
        if candidates.len() == MAX_CANDIDATES {
            break;
        }
        if !candidates.contains(&i) {
            candidates.push(i);
        }
    }
    let mut user = String::from("Wishes:\n");
    for (n, w) in wishlist.iter().enumerate() {
        user.push_str(&format!("{n}. {}\n", clip(w)));
    }
    user.push_str("\nActions:\n");
    for (n, &i) in candidates.iter().enumerate() {
        let a = &actions[i];
        let about = a.name.as_deref().or(a.description.as_deref()).unwrap_or("");
        user.push_str(&format!(
            "{n}. {}\n",
            clip(&format!("{} {} {about}", a.method, a.path))
        ));
    }
    let task = Task {
        name: "match_wishes",
        purpose: "Records which actions do what each wish asks.",
        instructions: INSTRUCTIONS,
        user,
        schema: schema(wishlist.len(), candidates.len()),
    };
    let answer: Answer = serde_json::from_value(model.ask(&task).await?).map_err(|e| {
        crate::llm::fail(
            model.name(),
            format!("the model's JSON does not fit the schema: {e}"),
        )
    })?;
    let mut per_wish: Vec<Option<Vec<usize>>> = vec![None; wishlist.len()];
    for m in answer.matches {
        // Numbers outside the lists are the model's mistakes: left out.
        let Some(slot) = per_wish.get_mut(m.wish) else {
            continue;
        };
        let found: Vec<usize> = m
            .actions
            .iter()
            .filter_map(|&n| candidates.get(n).copied())
            .take(MAX_PER_WISH)
            .collect();
        slot.get_or_insert_with(Vec::new).extend(found);
    }
    Ok(per_wish)
}

/// One line of the prompt: no line breaks, at most [`MAX_LINE`] characters.
fn clip(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_LINE)
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::llm::OpenAiCompatible;
    use crate::llm::testing::{only, vendor};

    fn actions() -> Vec<ActionDef> {
        let mut list = vec![
            ActionDef::new("list_parcels", "GET", "/parcels"),
            ActionDef::new("cancel_parcel", "DELETE", "/parcels/{parcel}"),
            ActionDef::new("get_rates", "GET", "/rates"),
        ];
        list[1].name = Some("Cancel a parcel".into());
        list
    }

    fn wishes() -> Vec<String> {
        vec!["stop a shipment before it leaves".into(), "rates".into()]
    }

    /// A fake OpenAI-compatible vendor answering `content` as the model's JSON.
    async fn model(content: Value) -> (OpenAiCompatible, crate::llm::testing::Seen) {
        let (base, seen) = vendor(
            "/v1/chat/completions",
            StatusCode::OK,
            json!({"choices": [{"message": {"role": "assistant", "content": content.to_string()}}]}),
        )
        .await;
        let model = OpenAiCompatible::new(reqwest::Client::new(), format!("{base}/v1"), "m", None);
        (model, seen)
    }

    fn order(actions: &[ActionDef]) -> Vec<(&str, bool)> {
        actions
            .iter()
            .map(|a| {
                (
                    a.slug.as_str(),
                    a.metadata.get("wished") == Some(&json!(true)),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn the_model_matches_by_meaning_in_one_bounded_question() {
        // Wish 0 shares no word with "cancel"; the model names candidate 2 (the
        // lexical match for "rates" is candidate 0, then the draft's order).
        // Wish 1 is left out of the answer, so it is matched by words; numbers
        // outside the lists are ignored.
        let (model, seen) = model(json!({"matches": [
            {"wish": 0, "actions": [2, 99]},
            {"wish": 7, "actions": [0]}
        ]}))
        .await;
        let mut list = actions();
        let mut warnings = Vec::new();
        let slugs = rank(&wishes(), &mut list, Some(&model), &mut warnings).await;
        assert_eq!(slugs, ["cancel_parcel", "get_rates"]);
        assert_eq!(
            order(&list),
            [
                ("cancel_parcel", true),
                ("get_rates", true),
                ("list_parcels", false)
            ]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, body) = only(&seen);
        let format = &body["response_format"]["json_schema"];
        assert_eq!(format["name"], "match_wishes");
        assert_eq!(
            format["schema"]["properties"]["matches"]["maxItems"],
            json!(2)
        );
        let user = body["messages"][1]["content"].as_str().unwrap();
        assert!(
            user.contains("0. stop a shipment before it leaves\n"),
            "{user}"
        );
        assert!(
            user.contains(
                "0. GET /rates\n1. GET /parcels\n2. DELETE /parcels/{parcel} Cancel a parcel\n"
            ),
            "{user}"
        );
        assert_eq!(body["messages"][0]["content"], INSTRUCTIONS);
    }

    #[tokio::test]
    async fn a_failing_or_confused_model_leaves_the_lexical_match() {
        let mut warnings = Vec::new();
        let (base, _) = vendor("/v1/chat/completions", StatusCode::BAD_GATEWAY, json!({})).await;
        let down = OpenAiCompatible::new(reqwest::Client::new(), format!("{base}/v1"), "m", None);
        let mut list = actions();
        let slugs = rank(&wishes(), &mut list, Some(&down), &mut warnings).await;
        assert_eq!(slugs, ["get_rates"]);
        assert_eq!(
            warnings,
            ["the wishlist was matched by words only: openai-compatible: HTTP 502 Bad Gateway"]
        );
        // An answer in another shape (an extraction, say) is the same failure.
        let (confused, _) = model(json!({"actions": []})).await;
        let mut list = actions();
        warnings.clear();
        rank(&wishes(), &mut list, Some(&confused), &mut warnings).await;
        assert_eq!(order(&list)[0], ("get_rates", true));
        assert!(
            warnings[0].contains("does not fit the schema"),
            "{warnings:?}"
        );
        // Without a model there is no question and no warning.
        let mut list = actions();
        warnings.clear();
        assert_eq!(
            rank(&wishes(), &mut list, None, &mut warnings).await,
            ["get_rates"]
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn the_question_is_bounded() {
        let long = "word ".repeat(500);
        assert_eq!(clip(&format!("a\nb {long}")).chars().count(), MAX_LINE);
        let s = schema(3, 250);
        assert_eq!(
            s["properties"]["matches"]["items"]["properties"]["actions"]["items"]["maximum"],
            249
        );
    }
}
