//! # waygate-core
//!
//! Waygate's engine: the integration model, the invocation pipeline and
//! everything it needs (auth, retries, circuit breaking, rate limiting, JSON
//! Schema validation, outbound URL policy), usable in-process without a database.
//!
//! ```no_run
//! # async fn demo() -> Result<(), waygate_core::Error> {
//! use serde_json::json;
//! use waygate_core::{Connection, Credential, IntegrationDef, Waygate};
//!
//! let def = IntegrationDef::from_json(r#"{"slug": "crm", "name": "CRM",
//!     "baseUrl": "https://crm.example.com/api", "auth": {"type": "bearer"},
//!     "actions": [{"slug": "get_contact", "method": "GET", "path": "/contacts/{id}",
//!                  "parameters": [{"name": "id", "in": "path"}]}]}"#).expect("valid");
//! let waygate = Waygate::builder()
//!     .integration(def)
//!     .connection("crm", Connection::default_with(Credential::bearer("t0ken")))
//!     .build()?;
//! let contact = waygate.invoke("crm.get_contact", json!({"id": "42"})).await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`model`]: the definition format (`IntegrationDef`, `ActionDef`, `AuthSpec`) and its checks.
//! - [`pipeline`]: the [`Executor`](pipeline::Executor) and one module per step.
//! - [`waygate`]: the embedded entry point, [`Waygate`], and its call builders.
//! - [`typed`]: the `Action` trait behind `#[derive(Action)]`; [`serde`] and [`schemars`] re-exported for it.
//! - [`connector`]: custom code in place of the request step (in the pipeline, re-exported here).
//! - [`Transport`]: which HTTP client sends upstream requests, and the tower layers around it.
//! - [`credential`]: credentials, connections, and the `ResolveCredential` port.
//! - [`oauth2`]: the OAuth2 resolver (refresh exactly once, client credentials) and the code flow.
//! - [`storage`]: storage ports and their in-memory implementation.
//! - [`schema`]: JSON Schema validators cached by hash, agent-readable violations.
//! - [`policy`]: effective retry, breaker and rate-limit policies.
//! - [`url_policy`]: which upstream addresses may be reached.
//! - [`import`]: OpenAPI and Swagger import.
//! - [`error`]: the one error type with codes and suggested resolutions.
//! - [`invocation`]: the successful result.
//! - [`clock`]: injected time.
//!
//! # Cargo features
//! All on by default; `default-features = false` leaves each out.
//! - `derive`: `#[derive(Action)]`.
//! - `import`: the OpenAPI/Swagger importer ([`import`]).
//! - `yaml`: YAML definitions and YAML specs (JSON always works).
//! - `oauth2`: the OAuth2 resolver and code flow ([`oauth2`]); without it an
//!   `oauth2_tokens` credential sends its access token unrefreshed.

pub mod clock;
pub mod credential;
pub mod error;
#[cfg(feature = "import")]
pub mod import;
pub mod invocation;
pub mod limits;
pub mod model;
#[cfg(feature = "oauth2")]
pub mod oauth2;
pub mod pipeline;
pub mod policy;
pub mod schema;
pub mod storage;
mod time;
pub mod tools;
pub mod ttl;
pub mod typed;
pub mod url_policy;
pub mod waygate;

// The README's Rust snippets compile as doc tests: what a new user copies builds.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub use credential::{Connection, Credential};
pub use error::{Error, ErrorKind};
pub use invocation::{Invocation, InvocationMeta};
pub use model::{ActionDef, IntegrationDef};
pub use pipeline::connector;
pub use pipeline::transport::Transport;
pub use typed::Action;
pub use url_policy::UrlPolicy;
pub use waygate::{Waygate, WaygateBuilder};
#[cfg(feature = "derive")]
pub use waygate_macros::Action;

/// serde, as typed actions' inputs and outputs derive it: with
/// `#[serde(crate = "waygate_core::serde")]` on a type, nothing needs adding
/// to your `Cargo.toml` (see [`typed`]).
pub use serde;

/// schemars, as typed actions' inputs and outputs derive it: with
/// `#[schemars(crate = "waygate_core::schemars")]` on a type, nothing needs
/// adding to your `Cargo.toml` (see [`typed`]).
pub use schemars;

#[doc(hidden)]
pub mod __workspace {
    //! What the gateway and the MCP server share with the engine: not API (no
    //! stability promise, hidden from the docs).

    /// A fresh request id, as the engine makes them: the gateway's
    /// `x-request-id` and the MCP server's call ids have the same form, so
    /// the request log's index stays time-ordered whoever made the id.
    pub use crate::pipeline::request_id::new_request_id;
}
