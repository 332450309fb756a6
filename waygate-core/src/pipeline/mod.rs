//! The invocation pipeline (DESIGN.md §3). [`Executor::invoke`] reads top to
//! bottom in the order of the steps; each step is a module with one job.

mod authorize;
mod breaker;
mod cache;
pub mod connector;
mod drift;
mod limiter;
pub(crate) mod mapping;
mod paginate;
mod record;
pub(crate) mod request;
pub(crate) mod request_id;
pub(crate) mod resolve;
pub(crate) mod retry;
mod send;
mod trace;
pub mod transport;
mod validate;
mod validate_response;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderValue;
use serde_json::Value;
use tracing::Instrument as _;

pub use authorize::{auth_scheme, fits as credential_fits};
pub use breaker::BreakerState;
pub use cache::{CacheKey, CacheMeta, CachedResponse, MemoryResponseCache, ResponseCache};
pub use drift::ActionDrift;
pub use mapping::{Direction, MappingReport, SkippedMapping};
pub use paginate::{
    DEFAULT_MAX_CHARACTERS, DEFAULT_MAX_ITEMS, DEFAULT_MAX_PAGES, FetchAll, MAX_CHARACTERS_LIMIT,
    MAX_ITEMS_LIMIT, MAX_PAGES_LIMIT, Page, PageFailure, PaginationMeta, StopReason,
};
pub use record::{LogEntry, LogSink, MemoryLogSink, REDACTED, RequestPreview};
pub use request::{HttpRequest, Part, RequestBody};
pub use transport::UpstreamResponse;
pub use validate_response::{Coercion, ValidationReport};

use self::breaker::Breakers;
use self::cache::{Cacheable, DEFAULT_RESPONSE_CACHE_BYTES};
use self::connector::{Connector, ConnectorContext};
pub use self::limiter::RateLimiters;
use self::record::Redactor;
use self::request_id::new_request_id;
use self::resolve::{Registry, Target};
use self::send::Scope;
use self::transport::{Exchange, Transport};
use crate::clock::{SharedClock, SystemClock};
use crate::credential::{
    Connection, ConnectionStatus, Credential, ResolveCredential, StoredCredential,
};
use crate::error::Error;
use crate::invocation::{Invocation, InvocationMeta};
use crate::model::RetryConfig;
use crate::schema::{SCHEMA_CACHE_BYTES, SchemaCache};
use crate::storage::{ConnectionStore, IntegrationStore, MemoryStore};
use crate::url_policy::UrlPolicy;

/// The token a dry run puts where a client-credentials connection's token
/// would go; it never leaves the process unredacted.
const DRY_RUN_TOKEN: &str = "waygate-dry-run-token";

/// What [`Executor::dry_run`] shows: the request, and what a real call would
/// do that the dry run did not.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct DryRun {
    /// The request that would be sent, secrets redacted.
    pub request: RequestPreview,
    /// What a call would do first (refresh an expired token, fetch a
    /// client-credentials token); empty when it would send this request as is.
    pub notes: Vec<String>,
}

/// One call of an action.
#[derive(Debug, Clone)]
pub struct Call {
    /// The tenant making it.
    pub tenant: String,
    /// Integration slug.
    pub integration: String,
    /// Action slug.
    pub action: String,
    /// The input object.
    pub input: Value,
    /// Per-call options.
    pub options: CallOptions,
}

/// Per-call options (the `options` of the invoke endpoint).
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Connection name; `default` when unset.
    pub connection: Option<String>,
    /// Sent in the idempotency header; makes writes safe to retry.
    pub idempotency_key: Option<String>,
    /// Skip response validation: the data is returned as the upstream sent
    /// it (`options.bypassValidation`, `X-Waygate-Bypass-Validation: true`).
    /// Input validation is never skipped (decision 63).
    pub bypass_validation: bool,
    /// The invocation's request id, when the caller has one already (the
    /// gateway's `x-request-id`): it is sent upstream, logged and returned,
    /// so one id follows the call everywhere. A fresh one otherwise.
    pub request_id: Option<String>,
    /// Follow pages into one array (`options.fetchAll` and its limits).
    pub fetch_all: Option<FetchAll>,
    /// This call's retry settings, the last layer (defaults < integration <
    /// action < call): the fields it sets replace the action's, the others
    /// stay the action's. A whole [`RetryPolicy`](crate::policy::RetryPolicy)
    /// sets every field ([`as_config`](crate::policy::RetryPolicy::as_config)).
    pub retry: Option<RetryConfig>,
    /// This call's timeout per attempt, in place of the action's.
    pub timeout: Option<Duration>,
}

/// Runs invocations. Cheap to clone; clones share caches, breakers and limiters.
#[derive(Clone)]
pub struct Executor {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) integrations: Arc<dyn IntegrationStore>,
    pub(crate) connections: Arc<dyn ConnectionStore>,
    credentials: Arc<dyn ResolveCredential>,
    log_sink: Option<Arc<dyn LogSink>>,
    pub(crate) clock: SharedClock,
    exchange: Exchange,
    url_policy: UrlPolicy,
    pub(crate) registry: Registry,
    breakers: Breakers,
    limiters: RateLimiters,
    schemas: SchemaCache,
    responses: Arc<dyn ResponseCache>,
    connectors: HashMap<(String, String), Arc<dyn Connector>>,
    /// Signs pagination continuations; never printed.
    continuation_key: [u8; 32],
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("url_policy", &self.inner.url_policy)
            .field("connectors", &self.inner.connectors.len())
            .finish_non_exhaustive()
    }
}

/// What one invocation gathered on its way, reported on success and failure.
pub(crate) struct Run {
    pub(crate) request_id: String,
    request_id_header: HeaderValue,
    pub(crate) attempts: u32,
    pub(crate) upstream_status: Option<u16>,
    connection: Option<String>,
    request: Option<RequestPreview>,
    response: Option<String>,
    /// The last response's body as JSON, when logging it parsed it already.
    data: Option<Value>,
    /// What the response cache did, for a cacheable action.
    cache: Option<CacheMeta>,
    /// What following pages did, for `fetchAll` calls.
    pagination: Option<PaginationMeta>,
    /// Step 10's report.
    validation: Option<ValidationReport>,
    /// What steps 3 and 11 skipped.
    mappings: MappingReport,
}

impl Run {
    fn new(options: &CallOptions) -> Self {
        let (request_id, request_id_header) = request_id_for(options);
        Self {
            request_id_header,
            request_id,
            attempts: 0,
            upstream_status: None,
            connection: None,
            request: None,
            response: None,
            data: None,
            cache: None,
            pagination: None,
            validation: None,
            mappings: MappingReport::default(),
        }
    }
}

impl Executor {
    /// A builder with in-memory storage, the system clock and the strict URL policy.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    /// The clock this executor reads (for caches kept beside it, so that they
    /// run on the same time).
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Invokes an action.
    ///
    /// # Errors
    /// Any step's [`Error`], carrying the invocation's [`InvocationMeta`].
    pub async fn invoke(&self, call: &Call) -> Result<Invocation, Error> {
        let started_at = self.inner.clock.now();
        let start = self.inner.clock.instant();
        let mut run = Run::new(&call.options);
        let span = trace::invoke(call, &run.request_id);
        let result = self.run(call, &mut run).instrument(span.clone()).await;
        let meta = InvocationMeta {
            request_id: run.request_id.clone(),
            attempts: run.attempts,
            duration: self.inner.clock.instant().duration_since(start),
            upstream_status: run.upstream_status,
            resolved: run.connection.is_some(),
            cache: run.cache,
            pagination: run.pagination.take(),
            validation: run.validation.take(),
            mappings: (!run.mappings.is_empty()).then(|| std::mem::take(&mut run.mappings)),
        };
        trace::invoked(&span, &meta, result.as_ref().err());
        if let Some(sink) = &self.inner.log_sink {
            sink.record(LogEntry {
                request_id: run.request_id,
                tenant: call.tenant.clone(),
                integration: call.integration.clone(),
                action: call.action.clone(),
                connection: run.connection,
                started_at,
                duration: meta.duration,
                attempts: meta.attempts,
                upstream_status: meta.upstream_status,
                error_code: result.as_ref().err().map(|e| e.code().to_owned()),
                request: run.request,
                response: run.response,
            });
        }
        match result {
            Ok(data) => Ok(Invocation { data, meta }),
            Err(e) => Err(e.with_meta(meta)),
        }
    }

    async fn run(&self, call: &Call, run: &mut Run) -> Result<Value, Error> {
        let target = self.target(call).await?;
        run.connection = Some(target.connection.name.clone());
        // Step 3 before step 2 (decision 65).
        let input = prepared_input(&target, &call.input, &mut run.mappings);
        self.validate(&input, &target)?;
        // Step 4, keyed by the mapped input. Pages gathered by `fetchAll` are
        // not cached (decision 76).
        let cacheable = match call.options.fetch_all {
            Some(_) => None,
            None => Cacheable::of(&call.tenant, &target, &input),
        };
        let responses = &*self.inner.responses;
        let hit = match &cacheable {
            Some(c) => c.lookup(responses, self.inner.clock.now()).await,
            None => None,
        };
        let (mut data, json) = match hit {
            Some(hit) => {
                run.upstream_status = hit.upstream_status;
                run.cache = Some(hit.meta);
                (hit.data, true)
            }
            None => {
                let (data, json) = self.fetch(call, &target, &input, run).await?;
                if let Some(c) = cacheable
                    && json
                {
                    let now = self.inner.clock.now();
                    run.cache = Some(c.store(responses, &data, run.upstream_status, now).await);
                }
                (data, json)
            }
        };
        // Steps 10 and 11 run on a cached answer too: the connection's
        // mappings may have changed since it was stored. `fetchAll` ran them
        // on each page already.
        if call.options.fetch_all.is_none() {
            self.output(&call.tenant, &call.options, &target, json, &mut data, run)?;
        }
        Ok(data)
    }

    /// Steps 5 to 9 (or the action's connector): the upstream's answer, and
    /// whether it is JSON.
    async fn fetch(
        &self,
        call: &Call,
        target: &Target,
        input: &Value,
        run: &mut Run,
    ) -> Result<(Value, bool), Error> {
        let credential = self.credential(&call.tenant, target).await?;
        if let Some(fetch_all) = &call.options.fetch_all {
            let data = self
                .fetch_all(call, input, fetch_all, target, &credential, run)
                .await?;
            return Ok((data, true));
        }
        let scope = Scope {
            tenant: &call.tenant,
            target,
            credential: Some(&credential),
            options: &call.options,
        };
        if let Some(connector) = self.connector(target) {
            let mut ctx = ConnectorContext::new(self, scope, run);
            return Ok((connector.execute(&mut ctx, input).await?, true));
        }
        let request = request::build(&target.action, target.base(), input)?;
        let response = self.send(&scope, request, run).await?;
        let data = run.data.take().unwrap_or_else(|| response.data());
        Ok((data, validate_response::is_json(&response)))
    }

    /// Steps 10 and 11 on the final data: validate the response, then map it.
    /// With `fetchAll`, once per page: the report kept is the first with
    /// issues, else the last.
    pub(crate) fn output(
        &self,
        tenant: &str,
        options: &CallOptions,
        target: &Target,
        json: bool,
        data: &mut Value,
        run: &mut Run,
    ) -> Result<(), Error> {
        let names = (
            tenant,
            target.integration.def.slug.as_str(),
            target.action.def.slug.as_str(),
        );
        let bypass = options.bypass_validation;
        let report =
            validate_response::checked(&self.inner.schemas, target, names, bypass, json, data)?;
        if let Some(e) = report.as_ref().and_then(validate_response::strict_error) {
            run.validation = report;
            return Err(e);
        }
        let keep_earlier = run
            .validation
            .as_ref()
            .is_some_and(|earlier| !earlier.valid);
        if !keep_earlier {
            run.validation = report;
        }
        mapping::map_output(target, data, &mut run.mappings);
        Ok(())
    }

    /// The drift verdict on each action of an integration that validated
    /// responses in this process (decision 64).
    pub fn drift(&self, tenant: &str, integration: &str) -> Vec<ActionDrift> {
        self.inner
            .registry
            .drift(tenant, integration, self.inner.clock.instant())
    }

    /// The request an invocation would send, secrets redacted; nothing is sent.
    ///
    /// # Errors
    /// The errors of the steps up to building and authorising the request.
    pub async fn preview(&self, call: &Call) -> Result<RequestPreview, Error> {
        self.dry_run(call).await.map(|d| d.request)
    }

    /// A dry run: validates the input and builds and authorises the request an
    /// invocation would send, with the connection's credential **as stored**.
    /// It sends nothing and writes nothing: the credential resolver is not
    /// asked, so an expired OAuth2 token is not refreshed and no
    /// client-credentials grant runs (both would call the provider and store
    /// new tokens); [`DryRun::notes`] says what the call would do instead.
    ///
    /// # Errors
    /// The errors of the steps up to building and authorising the request;
    /// `CREDENTIALS_ERROR` for a connection that needs re-authorisation.
    pub async fn dry_run(&self, call: &Call) -> Result<DryRun, Error> {
        let target = self.target(call).await?;
        let input = prepared_input(&target, &call.input, &mut MappingReport::default());
        self.validate(&input, &target)?;
        if self.connector(&target).is_some() {
            return Err(Error::config(
                "this action runs a connector, whose requests cannot be previewed",
            ));
        }
        let (credential, notes) = self.stored_credential(&target.connection)?;
        let mut request = request::build(&target.action, target.base(), &input)?;
        // What the transport step would refuse, a dry run refuses too.
        self.inner.url_policy.check_url(&request.url)?;
        let scope = Scope {
            tenant: &call.tenant,
            target: &target,
            credential: Some(&credential),
            options: &call.options,
        };
        send::authorize(&scope, &mut request)?;
        let request = Redactor::for_credential(target.auth(), &credential).request(&request);
        Ok(DryRun { request, notes })
    }

    /// The credential a dry run applies: the stored one as it is, and notes on
    /// what a call would do to it first.
    fn stored_credential(
        &self,
        connection: &Connection,
    ) -> Result<(Credential, Vec<String>), Error> {
        if connection.status == ConnectionStatus::NeedsReauth {
            return Err(Error::needs_reauth(&connection.name));
        }
        let name = &connection.name;
        Ok(match &connection.credential {
            Credential::Oauth2Tokens {
                expires_at: Some(at),
                ..
            } if *at <= self.inner.clock.now() => (
                connection.credential.clone(),
                vec![format!(
                    "the access token of connection '{name}' expired at {}; a call would refresh it first (the dry run shows the stored token, redacted)",
                    crate::time::format_rfc3339(*at)
                )],
            ),
            Credential::Oauth2ClientCredentials {
                client_id,
                client_secret,
                scopes,
            } => (
                // A stand-in token in the token's place: redacted like the real one.
                Credential::Oauth2Tokens {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    access_token: secrecy::SecretString::from(DRY_RUN_TOKEN),
                    refresh_token: None,
                    expires_at: None,
                    scopes: scopes.clone(),
                },
                vec![format!(
                    "connection '{name}' holds client credentials: a call would use a token from the provider's token endpoint (the dry run shows none)"
                )],
            ),
            other => (other.clone(), Vec::new()),
        })
    }

    /// Step 1: the compiled action, its integration and the connection.
    #[tracing::instrument(name = "resolve", level = "debug", skip_all)]
    async fn target(&self, call: &Call) -> Result<Target, Error> {
        let connection = call.options.connection.as_deref();
        resolve::target(
            self,
            &call.tenant,
            &call.integration,
            &call.action,
            connection,
        )
        .await
    }

    /// Step 2, on the mapped input (decision 65); never bypassed.
    #[tracing::instrument(name = "validate_input", level = "debug", skip_all)]
    fn validate(&self, input: &Value, target: &Target) -> Result<(), Error> {
        validate::input(&self.inner.schemas, &target.action, input)
    }

    /// The credential to apply now (refreshed first, when a resolver does that).
    #[tracing::instrument(name = "credential", level = "debug", skip_all)]
    async fn credential(&self, tenant: &str, target: &Target) -> Result<Credential, Error> {
        let integration = &target.integration.def;
        self.inner
            .credentials
            .resolve(tenant, integration, &target.connection)
            .await
    }

    /// The circuit breaker state of one connection of an integration (per
    /// process): the worst of its host breaker and its actions' breakers.
    pub fn breaker_state(&self, tenant: &str, integration: &str, connection: &str) -> BreakerState {
        let key = resolve::state_key(tenant, integration, connection);
        self.inner.breakers.state(&key, self.inner.clock.instant())
    }

    fn connector(&self, target: &Target) -> Option<&Arc<dyn Connector>> {
        if self.inner.connectors.is_empty() {
            return None;
        }
        let key = (
            target.integration.def.slug.clone(),
            target.action.def.slug.clone(),
        );
        self.inner.connectors.get(&key)
    }
}

/// Step 3, then what step 2 drops before judging: the input mapped, without
/// the nulls sent for optional fields (`validate::without_optional_nulls`).
#[tracing::instrument(name = "map_input", level = "debug", skip_all)]
fn prepared_input<'a>(
    target: &Target,
    input: &'a Value,
    report: &mut MappingReport,
) -> std::borrow::Cow<'a, Value> {
    let mapped = mapping::map_input(target, input, report);
    validate::without_optional_nulls(&target.action.def.input_schema, mapped)
}

/// The caller's request id when it can travel in a header, else a fresh one.
fn request_id_for(options: &CallOptions) -> (String, HeaderValue) {
    if let Some(id) = &options.request_id
        && let Ok(header) = HeaderValue::from_str(id)
    {
        return (id.clone(), header);
    }
    let id = new_request_id();
    let header = HeaderValue::from_str(&id).expect("a UUID is a valid header value");
    (id, header)
}

/// Builds an [`Executor`]. Setters store; [`build`](Self::build) checks.
#[must_use]
pub struct ExecutorBuilder {
    integrations: Option<Arc<dyn IntegrationStore>>,
    connections: Option<Arc<dyn ConnectionStore>>,
    credentials: Option<Arc<dyn ResolveCredential>>,
    log_sink: Option<Arc<dyn LogSink>>,
    clock: SharedClock,
    url_policy: UrlPolicy,
    connect_timeout: Duration,
    max_response_bytes: usize,
    transport: Transport,
    responses: Option<Arc<dyn ResponseCache>>,
    connectors: HashMap<(String, String), Arc<dyn Connector>>,
    continuation_key: Option<[u8; 32]>,
}

impl Default for ExecutorBuilder {
    fn default() -> Self {
        Self {
            integrations: None,
            connections: None,
            credentials: None,
            log_sink: None,
            clock: Arc::new(SystemClock),
            url_policy: UrlPolicy::strict(),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 16 * 1024 * 1024,
            transport: Transport::general(),
            responses: None,
            connectors: HashMap::new(),
            continuation_key: None,
        }
    }
}

impl fmt::Debug for ExecutorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecutorBuilder")
            .field("url_policy", &self.url_policy)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl ExecutorBuilder {
    /// Where integrations are read from (in memory by default).
    pub fn integration_store(mut self, store: Arc<dyn IntegrationStore>) -> Self {
        self.integrations = Some(store);
        self
    }

    /// Where connections are read from (in memory by default).
    pub fn connection_store(mut self, store: Arc<dyn ConnectionStore>) -> Self {
        self.connections = Some(store);
        self
    }

    /// How stored credentials become the ones applied (an OAuth2 refresher, say).
    pub fn credential_resolver(mut self, resolver: Arc<dyn ResolveCredential>) -> Self {
        self.credentials = Some(resolver);
        self
    }

    /// Where request log entries go.
    pub fn log_sink(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.log_sink = Some(sink);
        self
    }

    /// The source of time.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Which upstream addresses may be reached.
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.url_policy = policy;
        self
    }

    /// Time allowed to connect (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Largest response body read (16 MiB by default), whatever the transport.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Which HTTP client sends upstream requests, with the caller's tower
    /// layers around it: [`Transport::general`] by default (see [`Transport`]).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Where responses of actions with `cache: {ttlSeconds}` are kept: a
    /// [`MemoryResponseCache`] of 64 MiB on the executor's clock by default.
    pub fn response_cache(mut self, cache: Arc<dyn ResponseCache>) -> Self {
        self.responses = Some(cache);
        self
    }

    /// Runs `connector` instead of the request step for one action.
    pub fn connector(
        mut self,
        integration: &str,
        action: &str,
        connector: Arc<dyn Connector>,
    ) -> Self {
        self.connectors
            .insert((integration.to_owned(), action.to_owned()), connector);
        self
    }

    /// The secret that signs pagination continuations (its SHA-256 is the
    /// key). Executors that share it accept each other's continuations:
    /// give replicas of one deployment the same secret. A random one per
    /// executor by default.
    pub fn continuation_key(mut self, secret: &[u8]) -> Self {
        use sha2::Digest;
        self.continuation_key = Some(sha2::Sha256::digest(secret).into());
        self
    }

    /// Builds the executor.
    ///
    /// # Errors
    /// `CONFIGURATION_ERROR` when the transport cannot be built (see
    /// [`Transport`]: a proxy URL that does not parse, a proxy or root
    /// certificate given to the pooled transport, TLS that cannot be set up).
    pub fn build(self) -> Result<Executor, Error> {
        let exchange = Exchange::new(
            self.clock.clone(),
            self.transport,
            self.url_policy,
            self.connect_timeout,
            self.max_response_bytes,
        )?;
        let memory = Arc::new(MemoryStore::new());
        let clock = self.clock;
        let limiters = RateLimiters::new(clock.clone());
        Ok(Executor {
            inner: Arc::new(Inner {
                integrations: self.integrations.unwrap_or_else(|| memory.clone()),
                connections: self.connections.unwrap_or(memory),
                credentials: self
                    .credentials
                    .unwrap_or_else(|| Arc::new(StoredCredential::new(clock.clone()))),
                log_sink: self.log_sink,
                clock: clock.clone(),
                exchange,
                url_policy: self.url_policy,
                registry: Registry::default(),
                breakers: Breakers::default(),
                limiters,
                schemas: SchemaCache::new(SCHEMA_CACHE_BYTES, clock.clone()),
                responses: self.responses.unwrap_or_else(|| {
                    Arc::new(MemoryResponseCache::with_clock(
                        DEFAULT_RESPONSE_CACHE_BYTES,
                        clock.clone(),
                    ))
                }),
                connectors: self.connectors,
                continuation_key: self.continuation_key.unwrap_or_else(rand::random),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_names_leave_no_breaker_behind() {
        use crate::clock::ManualClock;
        use crate::model::{ActionDef, IntegrationDef};

        // A loopback port nobody listens on: a resolved call fails at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = Arc::new(MemoryStore::new());
        let mut def = IntegrationDef::new("crm", "CRM");
        def.base_url = Some(format!("http://127.0.0.1:{port}"));
        def.actions.push(ActionDef::new("get", "GET", "/x"));
        store.insert_integration("t", def).unwrap();
        let exec = Executor::builder()
            .integration_store(store.clone())
            .connection_store(store)
            .clock(ManualClock::new(std::time::SystemTime::UNIX_EPOCH))
            .url_policy(UrlPolicy::strict().allow_loopback())
            .build()
            .unwrap();
        let call = |integration: String, action: String, connection: Option<String>| Call {
            tenant: "t".into(),
            integration,
            action,
            input: serde_json::json!({}),
            options: CallOptions {
                connection,
                ..CallOptions::default()
            },
        };
        for i in 0..1000 {
            for guess in [
                call(format!("guess-{i}"), "get".into(), None),
                call("crm".into(), format!("guess-{i}"), None),
                call("crm".into(), "get".into(), Some(format!("guess-{i}"))),
            ] {
                let e = exec.invoke(&guess).await.unwrap_err();
                assert_eq!(e.code(), "NOT_FOUND", "{e}");
            }
        }
        assert_eq!(exec.inner.breakers.len(), 0, "no breaker for unknown names");
        let e = exec
            .invoke(&call("crm".into(), "get".into(), None))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "UPSTREAM_UNREACHABLE", "{e}");
        assert_eq!(
            exec.inner.breakers.len(),
            1,
            "the real call has its breakers"
        );
    }

    #[test]
    fn request_ids_are_v7_and_grow_with_time() {
        let first = new_request_id();
        std::thread::sleep(Duration::from_millis(2));
        let second = new_request_id();
        let parsed = uuid::Uuid::parse_str(&first).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert!(first < second, "{first} then {second}");
    }

    #[test]
    fn the_callers_request_id_is_kept_when_it_fits_a_header() {
        let mut options = CallOptions {
            request_id: Some("trace-1".into()),
            ..CallOptions::default()
        };
        let (id, header) = request_id_for(&options);
        assert_eq!(
            (id.as_str(), header.to_str().unwrap()),
            ("trace-1", "trace-1")
        );
        options.request_id = Some("bad\nid".into());
        let (id, _) = request_id_for(&options);
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    }
}
