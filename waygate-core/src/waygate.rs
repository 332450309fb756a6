//! [`Waygate`]: the embedded entry point. Integrations and connections live in
//! memory; calls run through the full pipeline in-process.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use serde_json::Value;

use crate::clock::SharedClock;
use crate::connector::Connector;
use crate::credential::{Connection, ResolveCredential};
use crate::error::{Error, ErrorKind};
use crate::invocation::Invocation;
use crate::model::{ActionDef, IntegrationDef, check};
use crate::pipeline::transport::Transport;
use crate::pipeline::{
    Call, CallOptions, Executor, ExecutorBuilder, FetchAll, LogSink, Page, RequestPreview,
};
use crate::policy::RetryPolicy;
use crate::storage::MemoryStore;
use crate::tools::{ToolExport, ToolFormat, ToolSet};
use crate::typed::{Action, OutputType as _};
use crate::url_policy::UrlPolicy;

/// The tenant of embedded use: one application, one tenant.
const EMBEDDED_TENANT: &str = "embedded";

/// Waygate in-process. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), waygate_core::Error> {
/// use serde_json::json;
/// use waygate_core::{Connection, Credential, IntegrationDef, Waygate};
///
/// let def = IntegrationDef::from_yaml(r#"
/// slug: echo
/// name: Echo
/// baseUrl: https://echo.example.com
/// auth: {type: bearer}
/// actions:
///   - {slug: ping, method: GET, path: /ping}
/// "#).expect("a valid definition");
/// let waygate = Waygate::builder()
///     .integration(def)
///     .connection("echo", Connection::default_with(Credential::bearer("t0ken")))
///     .build()?;
/// let result = waygate.invoke("echo.ping", json!({})).await?;
/// println!("{} after {} attempt(s)", result.data, result.meta.attempts);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Waygate {
    executor: Executor,
    store: Arc<MemoryStore>,
}

impl fmt::Debug for Waygate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waygate")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Waygate {
    /// Starts building.
    pub fn builder() -> WaygateBuilder {
        WaygateBuilder::default()
    }

    /// Calls `integration.action` (e.g. `"slack.chat_postMessage"`) with a JSON input.
    /// Await it, or set options first.
    pub fn invoke(&self, id: &str, input: Value) -> InvokeCall<'_> {
        let (integration, action) = id.split_once('.').unwrap_or((id, ""));
        InvokeCall {
            waygate: self,
            call: Call {
                tenant: EMBEDDED_TENANT.to_owned(),
                integration: integration.to_owned(),
                action: action.to_owned(),
                input,
                options: CallOptions::default(),
            },
        }
    }

    /// Calls a typed action; the result is its `Output` type.
    pub fn call<A: Action>(&self, input: A) -> TypedCall<'_, A> {
        TypedCall {
            waygate: self,
            input,
            options: CallOptions::default(),
        }
    }

    /// Adds or replaces an integration at run time.
    ///
    /// # Errors
    /// `INVALID_DEFINITION` naming each problem.
    pub fn put_integration(&self, def: IntegrationDef) -> Result<(), Error> {
        check(&def)?;
        self.store.insert_integration(EMBEDDED_TENANT, def)?;
        Ok(())
    }

    /// Adds or replaces a connection of an integration at run time.
    ///
    /// # Errors
    /// `NOT_FOUND` when the integration does not exist; the error a call would
    /// meet when the credential does not fit the integration's auth (see
    /// [`WaygateBuilder::build`]).
    pub fn put_connection(&self, integration: &str, connection: Connection) -> Result<(), Error> {
        add_connection(&self.store, integration, connection)
    }

    /// Every action as an LLM tool definition in `format` (portable names; see
    /// [`crate::tools`]), strict schemas where the vendor's rules allow them
    /// when `strict` is set. Call the tools back with [`Waygate::call_tool`],
    /// which takes the portable name or the canonical id.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when two actions have the same portable name.
    pub fn tools(&self, format: ToolFormat, strict: bool) -> Result<ToolExport, Error> {
        Ok(self.tool_set()?.export(format, strict))
    }

    /// Calls a tool by its portable name (or canonical id) with the arguments a
    /// model produced; the call runs like [`Waygate::invoke`], which drops the
    /// `null`s sent for optional fields (see
    /// [`drop_optional_nulls`](crate::tools::drop_optional_nulls)).
    ///
    /// # Errors
    /// `NOT_FOUND` for an unknown tool; otherwise what the invocation returns.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<Invocation, Error> {
        let set = self.tool_set()?;
        let tool = set
            .get(name)
            .ok_or_else(|| Error::not_found(format!("tool '{name}'")))?;
        self.invoke(&tool.id, arguments).await
    }

    fn tool_set(&self) -> Result<ToolSet, Error> {
        let stored = self.store.integrations_now(EMBEDDED_TENANT)?;
        Ok(ToolSet::build(stored.iter().map(|s| s.def.as_ref()))?)
    }

    /// A `NOT_FOUND` for a typed action that was never registered: names the
    /// action and its type, and says how to register it (and its integration,
    /// when that is missing too), which is what was forgotten.
    fn unregistered_hint<A: Action>(&self, e: Error) -> Error {
        if e.code() != "NOT_FOUND" {
            return e;
        }
        let (integration, action, ty) = (A::INTEGRATION, A::NAME, std::any::type_name::<A>());
        let what = match self.store.integration_now(EMBEDDED_TENANT, integration) {
            Ok(Some(stored)) if stored.def.action(action).is_none() => format!(
                "typed action '{integration}.{action}' (the type {ty} was never registered: \
                 add .action::<{ty}>() to Waygate::builder())"
            ),
            Ok(None) => format!(
                "integration '{integration}' of typed action '{integration}.{action}' (register \
                 its definition with .integration(def) and the action with .action::<{ty}>() \
                 on Waygate::builder())"
            ),
            _ => return e,
        };
        let hint = Error::not_found(what);
        match e.meta() {
            Some(meta) => hint.with_meta(meta.clone()),
            None => hint,
        }
    }

    /// The engine, for callers that manage tenants themselves.
    pub fn executor(&self) -> &Executor {
        &self.executor
    }
}

/// A pending untyped call; `.await` runs it.
#[must_use = "a call does nothing until awaited"]
#[derive(Debug)]
pub struct InvokeCall<'a> {
    waygate: &'a Waygate,
    call: Call,
}

impl InvokeCall<'_> {
    /// Uses this connection instead of `default`.
    pub fn connection(mut self, name: impl Into<String>) -> Self {
        self.call.options.connection = Some(name.into());
        self
    }

    /// Sends this idempotency key; writes become safe to retry.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.call.options.idempotency_key = Some(key.into());
        self
    }

    /// Skips response validation: the data comes back as the upstream sent
    /// it. Input validation always runs.
    pub fn bypass_validation(mut self) -> Self {
        self.call.options.bypass_validation = true;
        self
    }

    /// Retries this call by `policy` instead of the action's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.call.options.retry = Some(policy.as_config());
        self
    }

    /// Sends this call once, whatever the action's retry policy.
    pub fn no_retry(self) -> Self {
        self.retry(RetryPolicy::once())
    }

    /// Gives each attempt of this call `timeout` instead of the action's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.call.options.timeout = Some(timeout);
        self
    }

    /// Follows the action's pages into one array within `options`' limits;
    /// `meta.pagination` says how it went and carries the continuation when
    /// a limit cut it.
    pub fn fetch_all(mut self, options: FetchAll) -> Self {
        self.call.options.fetch_all = Some(options);
        self
    }

    /// The action's pages as a stream, fetched as it is polled (see
    /// [`Executor::pages`]).
    pub fn pages(self) -> BoxStream<'static, Result<Page, Error>> {
        self.waygate.executor.pages(self.call)
    }

    /// The action's items, page after page, as a stream (see [`Executor::items`]).
    pub fn items(self) -> BoxStream<'static, Result<Value, Error>> {
        self.waygate.executor.items(self.call)
    }

    /// The request this call would send, secrets redacted; sends nothing.
    ///
    /// # Errors
    /// The errors of the steps up to building the request.
    pub async fn preview(self) -> Result<RequestPreview, Error> {
        self.waygate.executor.preview(&self.call).await
    }
}

impl<'a> IntoFuture for InvokeCall<'a> {
    type Output = Result<Invocation, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.waygate.executor.invoke(&self.call).await })
    }
}

/// A pending typed call; `.await` runs it and decodes the output.
#[must_use = "a call does nothing until awaited"]
#[derive(Debug)]
pub struct TypedCall<'a, A> {
    waygate: &'a Waygate,
    input: A,
    options: CallOptions,
}

impl<A: Action> TypedCall<'_, A> {
    /// Uses this connection instead of `default`.
    pub fn on(mut self, connection: impl Into<String>) -> Self {
        self.options.connection = Some(connection.into());
        self
    }

    /// Sends this idempotency key; writes become safe to retry.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.options.idempotency_key = Some(key.into());
        self
    }

    /// Retries this call by `policy` instead of the action's.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = Some(policy.as_config());
        self
    }

    /// Sends this call once, whatever the action's retry policy.
    pub fn no_retry(self) -> Self {
        self.retry(RetryPolicy::once())
    }

    /// Gives each attempt of this call `timeout` instead of the action's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }
}

impl<'a, A: Action> IntoFuture for TypedCall<'a, A> {
    type Output = Result<A::Output, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let input = self.input.to_input_json().map_err(|e| {
                Error::input(
                    "",
                    "serialize",
                    format!("the input does not serialise to JSON: {e}"),
                )
            })?;
            let call = Call {
                tenant: EMBEDDED_TENANT.to_owned(),
                integration: A::INTEGRATION.to_owned(),
                action: A::NAME.to_owned(),
                input,
                options: self.options,
            };
            let invocation = self
                .waygate
                .executor
                .invoke(&call)
                .await
                .map_err(|e| self.waygate.unregistered_hint::<A>(e))?;
            // Decoding borrows the data, so a failure keeps the body: the
            // upstream has already acted on the request.
            A::Output::from_output_json(&invocation.data).map_err(|e| {
                Error::new(ErrorKind::InvalidResponse {
                    message: format!("{}.{} output does not decode: {e}", A::INTEGRATION, A::NAME),
                    body: Some(invocation.data),
                })
                .sent()
                .with_meta(invocation.meta)
            })
        })
    }
}

/// Builds a [`Waygate`]. Setters store; [`build`](Self::build) checks everything.
#[must_use]
#[derive(Default)]
pub struct WaygateBuilder {
    integrations: Vec<IntegrationDef>,
    typed: Vec<(&'static str, ActionDef)>,
    connections: Vec<(String, Connection)>,
    executor: ExecutorBuilder,
}

impl fmt::Debug for WaygateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaygateBuilder")
            .field("integrations", &self.integrations.len())
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl WaygateBuilder {
    /// Registers an integration.
    pub fn integration(mut self, def: IntegrationDef) -> Self {
        self.integrations.push(def);
        self
    }

    /// Adds a typed action to its integration (which must be registered too).
    pub fn action<A: Action>(mut self) -> Self {
        self.typed.push((A::INTEGRATION, A::definition()));
        self
    }

    /// Adds a connection to an integration.
    pub fn connection(mut self, integration: impl Into<String>, connection: Connection) -> Self {
        self.connections.push((integration.into(), connection));
        self
    }

    /// Runs `connector` instead of the request step of `integration.action`.
    pub fn connector(mut self, integration: &str, action: &str, connector: impl Connector) -> Self {
        self.executor = self
            .executor
            .connector(integration, action, Arc::new(connector));
        self
    }

    /// Which upstream addresses may be reached (strict by default).
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.executor = self.executor.url_policy(policy);
        self
    }

    /// Where request log entries go.
    pub fn log_sink(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.executor = self.executor.log_sink(sink);
        self
    }

    /// The source of time.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.executor = self.executor.clock(clock);
        self
    }

    /// How stored credentials become the ones applied.
    pub fn credential_resolver(mut self, resolver: Arc<dyn ResolveCredential>) -> Self {
        self.executor = self.executor.credential_resolver(resolver);
        self
    }

    /// Where responses of actions with `cache: {ttlSeconds}` are kept (64 MiB
    /// in this process by default).
    pub fn response_cache(mut self, cache: Arc<dyn crate::pipeline::ResponseCache>) -> Self {
        self.executor = self.executor.response_cache(cache);
        self
    }

    /// Time allowed to connect (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.executor = self.executor.connect_timeout(timeout);
        self
    }

    /// Largest response body read (16 MiB by default), whatever the transport.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.executor = self.executor.max_response_bytes(bytes);
        self
    }

    /// Which HTTP client sends upstream requests, and the tower layers around
    /// it: [`Transport::general`] by default (HTTP/2, proxies from the
    /// environment). See [`Transport`] for a proxy, root certificates and layers.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.executor = self.executor.transport(transport);
        self
    }

    /// Checks every definition and connection and builds.
    ///
    /// # Errors
    /// `INVALID_DEFINITION` naming each problem of each integration;
    /// `NOT_FOUND` for a typed action or connection of an unregistered integration;
    /// for a credential that does not fit its integration's auth (an API key
    /// where OAuth2 is expected, no credential where one is), the error every
    /// call with it would meet: `CONFIGURATION_ERROR` or `CREDENTIALS_ERROR`.
    pub fn build(self) -> Result<Waygate, Error> {
        let mut integrations = self.integrations;
        for (slug, action) in self.typed {
            let def = integrations.iter_mut().find(|d| d.slug == slug).ok_or_else(|| {
                Error::not_found(format!("integration '{slug}' (register it with .integration() before its typed actions)"))
            })?;
            def.actions.retain(|a| a.slug != action.slug);
            def.actions.push(action);
        }
        let store = Arc::new(MemoryStore::new());
        for def in integrations {
            check(&def)?;
            store.insert_integration(EMBEDDED_TENANT, def)?;
        }
        for (integration, connection) in self.connections {
            add_connection(&store, &integration, connection)?;
        }
        let executor = self
            .executor
            .integration_store(store.clone())
            .connection_store(store.clone())
            .build()?;
        Ok(Waygate { executor, store })
    }
}

/// Stores a connection of a registered integration whose auth its credential fits.
fn add_connection(
    store: &MemoryStore,
    integration: &str,
    connection: Connection,
) -> Result<(), Error> {
    let Some(stored) = store.integration_now(EMBEDDED_TENANT, integration)? else {
        return Err(Error::not_found(format!(
            "integration '{integration}' of connection '{}' (register it with .integration())",
            connection.name
        )));
    };
    crate::pipeline::credential_fits(
        &stored.def,
        connection.auth_scheme.as_deref(),
        &connection.credential,
    )
    .map_err(|e| {
        e.in_context(&format!(
            "connection '{}' of integration '{integration}'",
            connection.name
        ))
    })?;
    store.insert_connection(EMBEDDED_TENANT, integration, connection)?;
    Ok(())
}
