//! `#[derive(Action)]` for Waygate: binds a Rust input struct to one HTTP
//! operation of an integration.
//!
//! Use it through `waygate-core` (its default `derive` feature re-exports it), so
//! that `use waygate_core::Action;` brings both the trait and the derive. The
//! derive only reads attributes and checks them; the generated
//! `impl waygate_core::Action` hands everything to
//! `waygate_core::typed::definition`, which builds the `ActionDef` at run time.
//!
//! # Example
//!
//! ```rust,ignore
//! use waygate_core::Action;
//! use waygate_core::schemars::JsonSchema;
//! use waygate_core::serde::{Deserialize, Serialize};
//!
//! /// Posts a message to a channel.
//! #[derive(Serialize, JsonSchema, Action)]
//! #[serde(crate = "waygate_core::serde", rename_all = "camelCase")]
//! #[schemars(crate = "waygate_core::schemars")]
//! #[action(integration = "slack", name = "chat_postMessage", method = "POST",
//!          path = "/channels/{channelId}/messages", output = PostMessageOutput)]
//! struct SendMessage {
//!     #[action(path)]
//!     channel_id: String,              // fills {channelId}
//!     #[action(query)]
//!     limit: Option<u32>,              // ?limit=…
//!     #[action(header = "X-Slack-User")]
//!     user: Option<String>,            // X-Slack-User: …
//!     #[action(cookie)]
//!     session: Option<String>,         // Cookie: session=…
//!     text: String,                    // everything else is the body
//! }
//!
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(crate = "waygate_core::serde")]
//! #[schemars(crate = "waygate_core::schemars")]
//! struct PostMessageOutput {
//!     ok: bool,
//! }
//!
//! let def = SendMessage::definition();
//! assert_eq!(def.description.as_deref(), Some("Posts a message to a channel."));
//! ```
//!
//! # Struct attributes: `#[action(...)]`
//!
//! | key | required | value |
//! | --- | --- | --- |
//! | `integration` | yes | the integration's slug, `[a-z0-9-]+` (at most 64 characters) |
//! | `name` | yes | the action's slug: letters, digits, `_`, `-` and `.` |
//! | `method` | yes | `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD` or `OPTIONS`, in any case |
//! | `path` | yes | path template starting with `/`, with `{placeholder}`s |
//! | `output` | no | the type a successful call returns (`DeserializeOwned + JsonSchema`); `serde_json::Value` when omitted |
//! | `body` | no | `"json"` (the default), `"form"` or `"multipart"` |
//! | `idempotent` | no | `true` or `false`; decided by the method when omitted |
//!
//! The struct must derive `Serialize` and `JsonSchema` too (the output type
//! `Deserialize` and `JsonSchema`): waygate-core re-exports both crates, so
//! with `#[serde(crate = "waygate_core::serde")]` and
//! `#[schemars(crate = "waygate_core::schemars")]` on the type nothing needs
//! adding to `Cargo.toml`; a missing derive is a compile error naming it. Its doc comment
//! becomes the action's description and its name the action's display name.
//!
//! # Field attributes
//!
//! | attribute | the field goes to |
//! | --- | --- |
//! | `#[action(path)]` | the `{placeholder}` of the path with the field's name |
//! | `#[action(query)]`, `#[action(query = "wire")]` | the query string |
//! | `#[action(header)]`, `#[action(header = "X-Wire")]` | a request header |
//! | `#[action(cookie)]`, `#[action(cookie = "wire")]` | the `Cookie` header |
//! | none | the body |
//!
//! A field's name is its *serialised* name: `#[serde(rename = "...")]` and the
//! struct's `#[serde(rename_all = "...")]` apply, so parameters match the JSON that
//! serde produces. Without `= "wire"`, that name is also sent on the wire. A path
//! parameter takes no wire name: the placeholder is its name.
//!
//! # Checked at compile time
//!
//! Missing, unknown or repeated keys; the method; the path's leading `/` and its
//! braces; every placeholder having exactly one `#[action(path)]` field and every
//! such field a placeholder; a field bound to two places; header and cookie names;
//! two fields sending the same parameter; `#[serde(skip)]` or `flatten` on a
//! parameter; and that the input is a non-generic struct with named fields.
//!
//! # Layout
//! - `attr`: reading `#[action(...)]` and the serde attributes that name fields.
//! - `case`: serde's `rename_all` rules.
//! - `expand`: the checks across attributes and fields, and the generated impl.

mod attr;
mod case;
mod expand;

use proc_macro::TokenStream;

/// Derives `waygate_core::Action` for a struct with named fields; see the
/// [crate documentation](crate) for the attributes.
#[proc_macro_derive(Action, attributes(action))]
pub fn derive_action(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
