//! Typed actions: a Rust struct is the input, `#[derive(Action)]` binds it to an
//! HTTP operation, and it runs through the same pipeline as a declarative action.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model::{ActionDef, BodyEncoding, BodySpec, ParamLocation, Parameter};

/// An input type bound to one action of one integration.
///
/// Usually derived:
///
/// ```
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
/// use waygate_core::Action;
///
/// /// Posts a message to a channel.
/// #[derive(Serialize, JsonSchema, Action)]
/// #[action(integration = "slack", name = "chat_postMessage", method = "POST",
///          path = "/chat.postMessage", output = PostMessageOutput)]
/// struct SendMessage {
///     channel: String,
///     text: String,
/// }
///
/// #[derive(Deserialize, JsonSchema)]
/// struct PostMessageOutput {
///     ok: bool,
/// }
///
/// let def = SendMessage::definition();
/// assert_eq!(def.slug, "chat_postMessage");
/// assert_eq!(def.method, "POST");
/// ```
pub trait Action: Serialize + Send + Sync + 'static {
    /// What a successful call returns.
    type Output: DeserializeOwned;
    /// The integration's slug.
    const INTEGRATION: &'static str;
    /// The action's slug.
    const NAME: &'static str;
    /// The action as data: the same [`ActionDef`] a definition file would hold.
    fn definition() -> ActionDef;
}

/// The output of a typed action that names no `output` type: any JSON value.
pub type AnyOutput = Value;

/// What `#[derive(Action)]` knows about an action; turned into an [`ActionDef`]
/// by [`definition`]. Public for the derive's generated code, not for direct use.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct TypedSpec {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    /// `(input field, location, wire name)` for fields that are not in the body.
    pub params: &'static [(&'static str, ParamLocation, &'static str)],
    /// `None` = JSON.
    pub body: Option<BodyEncoding>,
    pub idempotent: Option<bool>,
}

/// Builds the [`ActionDef`] of a typed action: schemas from `schemars`, bindings
/// from the spec, the description from the input type's doc comment.
#[doc(hidden)]
pub fn definition<I: JsonSchema, O: JsonSchema>(spec: TypedSpec) -> ActionDef {
    let mut input: Value = schemars::schema_for!(I).into();
    let output: Value = schemars::schema_for!(O).into();
    let mut def = ActionDef::new(spec.name, spec.method, spec.path);
    if let Some(obj) = input.as_object_mut() {
        def.description = obj
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        def.name = obj
            .remove("title")
            .and_then(|t| t.as_str().map(str::to_owned));
    }
    def.input_schema = input;
    def.output_schema = Some(output);
    def.parameters = spec
        .params
        .iter()
        .map(|&(field, location, wire)| {
            let mut p = Parameter::new(field, location);
            if wire != field {
                p.wire_name = Some(wire.to_owned());
            }
            p
        })
        .collect();
    def.body = spec.body.map(|encoding| BodySpec {
        encoding,
        field: None,
        content_type: None,
        required: false,
    });
    def.idempotent = spec.idempotent;
    def
}
