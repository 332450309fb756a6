//! Typed actions: a Rust struct is the input, `#[derive(Action)]` binds it to an
//! HTTP operation, and it runs through the same pipeline as a declarative action.
//!
//! The input and output types derive `Serialize`/`Deserialize` and
//! `JsonSchema` too. Nothing needs adding to your `Cargo.toml` for that:
//! waygate-core re-exports both crates ([`crate::serde`], [`crate::schemars`]),
//! and two attributes point the derives at them:
//!
//! ```
//! use waygate_core::Action;
//! use waygate_core::schemars::JsonSchema;
//! use waygate_core::serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, JsonSchema, Action)]
//! #[serde(crate = "waygate_core::serde")]
//! #[schemars(crate = "waygate_core::schemars")]
//! #[action(integration = "crm", name = "archive", method = "POST", path = "/archive/{id}",
//!          output = Archived)]
//! struct Archive {
//!     #[action(path)]
//!     id: String,
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(crate = "waygate_core::serde")]
//! #[schemars(crate = "waygate_core::schemars")]
//! struct Archived {
//!     archived: bool,
//! }
//! # assert_eq!(Archive::definition().slug, "archive");
//! ```
//!
//! (With `serde` and `schemars` in your own `Cargo.toml`, plain
//! `use serde::Serialize;` works too and the attributes are not needed.) A
//! type without a derive it needs is a compile error that says which derive
//! and how to add it:
//!
//! ```compile_fail,E0277
//! use waygate_core::Action;
//! use waygate_core::schemars::JsonSchema;
//!
//! #[derive(JsonSchema, Action)] // no Serialize
//! #[schemars(crate = "waygate_core::schemars")]
//! #[action(integration = "crm", name = "archive", method = "POST", path = "/archive")]
//! struct Archive {
//!     id: String,
//! }
//! ```

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
/// use waygate_core::Action;
/// use waygate_core::schemars::JsonSchema;
/// use waygate_core::serde::{Deserialize, Serialize};
///
/// /// Posts a message to a channel.
/// #[derive(Serialize, JsonSchema, Action)]
/// #[serde(crate = "waygate_core::serde")]
/// #[schemars(crate = "waygate_core::schemars")]
/// #[action(integration = "slack", name = "chat_postMessage", method = "POST",
///          path = "/chat.postMessage", output = PostMessageOutput)]
/// struct SendMessage {
///     channel: String,
///     text: String,
/// }
///
/// #[derive(Deserialize, JsonSchema)]
/// #[serde(crate = "waygate_core::serde")]
/// #[schemars(crate = "waygate_core::schemars")]
/// struct PostMessageOutput {
///     ok: bool,
/// }
///
/// let def = SendMessage::definition();
/// assert_eq!(def.slug, "chat_postMessage");
/// assert_eq!(def.method, "POST");
/// ```
pub trait Action: InputType + Send + Sync + 'static {
    /// What a successful call returns.
    type Output: OutputType;
    /// The integration's slug.
    const INTEGRATION: &'static str;
    /// The action's slug.
    const NAME: &'static str;
    /// The action as data: the same [`ActionDef`] a definition file would hold.
    fn definition() -> ActionDef;
}

/// The output of a typed action that names no `output` type: any JSON value.
pub type AnyOutput = Value;

/// A typed action's input: what serialises to the JSON sent through the
/// pipeline. Implemented for every `Serialize` type; a trait of its own (not
/// `Serialize` itself, nor a subtrait of it) so that a missing derive is
/// reported in these words, with the re-export to take it from.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is the input of a typed action, so it must implement `Serialize`",
    label = "add `#[derive(Serialize)]` to `{Self}`",
    note = "with nothing added to Cargo.toml: `use waygate_core::serde::Serialize;` and `#[serde(crate = \"waygate_core::serde\")]` on `{Self}`"
)]
pub trait InputType {
    /// The input as JSON.
    ///
    /// # Errors
    /// What `serde_json` says when the value does not serialise (a map with
    /// keys that are not strings, a failing `Serialize` impl).
    fn to_input_json(&self) -> Result<Value, serde_json::Error>;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> InputType for T {
    fn to_input_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }
}

/// A typed action's output: decoded from the response data. Implemented for
/// every `DeserializeOwned` type, for the same reason as [`InputType`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is the output of a typed action, so it must implement `Deserialize`",
    label = "add `#[derive(Deserialize)]` to `{Self}`",
    note = "with nothing added to Cargo.toml: `use waygate_core::serde::Deserialize;` and `#[serde(crate = \"waygate_core::serde\")]` on `{Self}`"
)]
pub trait OutputType: Sized {
    /// Decodes a successful call's data.
    ///
    /// # Errors
    /// What `serde_json` says when the data does not fit the type.
    fn from_output_json(data: &Value) -> Result<Self, serde_json::Error>;
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> OutputType for T {
    fn from_output_json(data: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(data)
    }
}

/// A derived action's input or output: `JsonSchema`, for the action's
/// `inputSchema` and `outputSchema`. Implemented for every such type.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is the input or output of a derived action, so it must implement `JsonSchema`",
    label = "add `#[derive(JsonSchema)]` to `{Self}`",
    note = "with nothing added to Cargo.toml: `use waygate_core::schemars::JsonSchema;` and `#[schemars(crate = \"waygate_core::schemars\")]` on `{Self}`"
)]
pub trait SchemaType: JsonSchema {}

#[diagnostic::do_not_recommend]
impl<T: JsonSchema + ?Sized> SchemaType for T {}

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
pub fn definition<I: SchemaType, O: SchemaType>(spec: TypedSpec) -> ActionDef {
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
