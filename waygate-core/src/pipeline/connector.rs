//! Connectors: Rust code that replaces the request step of an action, for APIs
//! a declarative binding cannot express (an RFC 2822 e-mail, a multipart upload
//! assembled from parts, several calls in a row).
//!
//! A connector still gets everything around it: input validation before, and
//! through [`ConnectorContext::send`] the URL policy, credential, rate limit,
//! circuit breaker, retries and request log of every request it makes.

/// The attribute a [`Connector`] implementation carries, re-exported so a
/// connector needs no other crate for it.
pub use async_trait::async_trait;
/// The HTTP method of [`ConnectorContext::request`].
pub use http::Method;
use serde_json::Value;
use url::Url;

use super::send::Scope;
use super::{Executor, HttpRequest, Run, UpstreamResponse};
use crate::credential::Credential;
use crate::error::Error;
use crate::model::{ActionDef, IntegrationDef};

/// Custom code for one action. Register it with
/// [`ExecutorBuilder::connector`](super::ExecutorBuilder::connector) or
/// [`WaygateBuilder::connector`](crate::WaygateBuilder::connector).
///
/// ```
/// use serde_json::{Value, json};
/// use waygate_core::connector::{Connector, ConnectorContext, Method, async_trait};
///
/// /// Creates a record, then fetches it back in a second call.
/// struct CreateThenFetch;
///
/// #[async_trait]
/// impl Connector for CreateThenFetch {
///     async fn execute(&self, ctx: &mut ConnectorContext<'_>, input: &Value) -> Result<Value, waygate_core::Error> {
///         let mut create = ctx.request(Method::POST, "/records")?;
///         create.body = waygate_core::pipeline::RequestBody::Json(input.clone());
///         let created = ctx.send(create).await?.data();
///         let id = created["id"].as_str().unwrap_or_default();
///         Ok(ctx.send(ctx.request(Method::GET, &format!("/records/{id}"))?).await?.data())
///     }
/// }
/// ```
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// Runs the action for a validated `input` and returns its data.
    ///
    /// # Errors
    /// Errors of [`ConnectorContext::send`], or [`Error::connector`] for the
    /// connector's own failures.
    async fn execute(&self, ctx: &mut ConnectorContext<'_>, input: &Value) -> Result<Value, Error>;
}

/// What a connector can use: the action, its integration, the credential, and
/// a guarded way to send requests.
pub struct ConnectorContext<'a> {
    exec: &'a Executor,
    scope: Scope<'a>,
    run: &'a mut Run,
}

impl std::fmt::Debug for ConnectorContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorContext")
            .field("integration", &self.scope.target.integration.def.slug)
            .field("action", &self.scope.target.action.def.slug)
            .field("connection", &self.scope.target.connection.name)
            .finish_non_exhaustive()
    }
}

impl<'a> ConnectorContext<'a> {
    pub(crate) fn new(exec: &'a Executor, scope: Scope<'a>, run: &'a mut Run) -> Self {
        Self { exec, scope, run }
    }

    /// The action being run.
    pub fn action(&self) -> &ActionDef {
        &self.scope.target.action.def
    }

    /// Its integration.
    pub fn integration(&self) -> &IntegrationDef {
        &self.scope.target.integration.def
    }

    /// The credential that [`send`](Self::send) applies, for connectors that
    /// must sign something themselves.
    pub fn credential(&self) -> &Credential {
        self.scope.credential.unwrap_or(&Credential::None)
    }

    /// The base URL: the connection's override, else the integration's.
    pub fn base_url(&self) -> Option<&str> {
        self.scope.target.base_url()
    }

    /// A request to `path` under the base URL, without headers or body.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` without a base URL or when the result is no URL.
    pub fn request(&self, method: Method, path: &str) -> Result<HttpRequest, Error> {
        let base = self
            .base_url()
            .ok_or_else(|| Error::config("the connector's integration has no base URL"))?;
        let url = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let url =
            Url::parse(&url).map_err(|e| Error::config(format!("'{url}' is not a URL: {e}")))?;
        Ok(HttpRequest::new(method, url))
    }

    /// Sends a request the way the pipeline does: URL policy, idempotency key,
    /// credential, rate limit, circuit breaker, retries. A non-2xx answer is an
    /// error.
    ///
    /// # Errors
    /// The pipeline's errors: `UPSTREAM_ERROR`, `CIRCUIT_OPEN`, `UPSTREAM_TIMEOUT`…
    pub async fn send(&mut self, request: HttpRequest) -> Result<UpstreamResponse, Error> {
        self.exec.send(&self.scope, request, self.run).await
    }
}
