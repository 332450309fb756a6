//! Step 1, resolve: tenant + integration + action (+ connection) → the compiled
//! action, its integration and the connection.
//!
//! Definitions are compiled once per stored revision (path templates parsed,
//! policies layered, parameters indexed) and cached (bounded, on the injected
//! clock), so the hot path is a cache lookup and a few `Arc` clones.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::Method;

use tokio::time::Instant;
use url::Url;

use super::Executor;
use super::drift::{ActionDrift, Drift};
use super::request::{self, Base};
use crate::credential::{Connection, Credential};
use crate::error::Error;
use crate::model::{
    ActionDef, AuthSpec, DEFAULT_AUTH_SCHEME, Defaults, IntegrationDef, Parameter, PathTemplate,
};
use crate::policy::{ActionPolicies, IntegrationPolicies};
use crate::ttl::{TenantKey, TenantKeyRef, TtlCache};

/// An integration ready to run.
#[derive(Debug)]
pub(crate) struct CompiledIntegration {
    pub(crate) def: Arc<IntegrationDef>,
    pub(crate) revision: u64,
    pub(crate) policies: IntegrationPolicies,
    /// The definition's base URL, parsed once ([`request::parse_base`]).
    base_url: Option<Url>,
    actions: HashMap<String, Arc<CompiledAction>>,
}

impl CompiledIntegration {
    pub(crate) fn compile(def: Arc<IntegrationDef>, revision: u64) -> Result<Self, Error> {
        let actions = def
            .actions
            .iter()
            .map(|a| {
                Ok((
                    a.slug.clone(),
                    Arc::new(CompiledAction::compile(&def.defaults, a.clone())?),
                ))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self {
            policies: IntegrationPolicies::new(&def.defaults),
            base_url: def.base_url.as_deref().and_then(request::parse_base),
            def,
            revision,
            actions,
        })
    }

    pub(crate) fn action(&self, slug: &str) -> Option<&Arc<CompiledAction>> {
        self.actions.get(slug)
    }
}

impl Registry {
    /// The drift verdicts of a compiled integration's actions, by slug.
    pub(crate) fn drift(&self, tenant: &str, integration: &str, now: Instant) -> Vec<ActionDrift> {
        let key = TenantKeyRef {
            tenant,
            key: integration,
        };
        let Some((_, found)) = self.compiled.get(&key, now) else {
            return Vec::new();
        };
        let mut verdicts: Vec<ActionDrift> = found
            .actions
            .iter()
            .filter_map(|(slug, a)| a.drift.snapshot(slug))
            .collect();
        verdicts.sort_by(|a, b| a.action.cmp(&b.action));
        verdicts
    }
}

/// An action ready to run.
#[derive(Debug)]
pub(crate) struct CompiledAction {
    pub(crate) def: ActionDef,
    pub(crate) template: PathTemplate,
    pub(crate) method: Method,
    pub(crate) policies: ActionPolicies,
    /// Input validator, compiled on first call (imports hold hundreds of actions
    /// most of which are never called).
    pub(crate) input_validator: OnceLock<Arc<jsonschema::Validator>>,
    /// Output validator, likewise compiled on the first response.
    pub(crate) output_validator: OnceLock<Arc<jsonschema::Validator>>,
    /// This action's recent response validation outcomes (per process, per
    /// revision: a new definition starts a new window).
    pub(crate) drift: Drift,
    /// The action's own server, parsed once ([`request::parse_base`]).
    base_url: Option<Url>,
    params: HashMap<String, usize>,
}

impl CompiledAction {
    pub(crate) fn compile(defaults: &Defaults, def: ActionDef) -> Result<Self, Error> {
        let template = PathTemplate::parse(&def.path).map_err(|e| {
            Error::config(format!("action '{}' path '{}': {e}", def.slug, def.path))
        })?;
        let method = Method::from_bytes(def.method.as_bytes()).map_err(|_| {
            Error::config(format!(
                "action '{}' has an invalid method '{}'",
                def.slug, def.method
            ))
        })?;
        let params = def
            .parameters
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        Ok(Self {
            policies: ActionPolicies::new(defaults, &def),
            base_url: def.base_url.as_deref().and_then(request::parse_base),
            def,
            template,
            method,
            input_validator: OnceLock::new(),
            output_validator: OnceLock::new(),
            drift: Drift::default(),
            params,
        })
    }

    /// The parameter binding the input field `name`, if one does.
    pub(crate) fn param(&self, name: &str) -> Option<&Parameter> {
        self.params.get(name).map(|&i| &self.def.parameters[i])
    }

    /// Whether a repeat is safe without an idempotency key.
    pub(crate) fn idempotent(&self) -> bool {
        self.def.is_idempotent()
    }
}

/// Compiled integrations by tenant and slug, each tagged with its revision: a
/// [`TtlCache`] of at most [`COMPILED_ENTRIES`], each kept [`COMPILED_TTL`]
/// past its last use by the executor's clock (a hit in the second half of its
/// lifetime stores it again, with its drift windows), so deleted or idle
/// integrations are let go.
pub(crate) struct Registry {
    compiled: TtlCache<TenantKey, Arc<CompiledIntegration>>,
}

/// Compiled integrations kept at most.
const COMPILED_ENTRIES: u64 = 10_000;

/// How long a compiled integration is kept after its last use.
pub(crate) const COMPILED_TTL: Duration = Duration::from_secs(60 * 60);

impl Default for Registry {
    fn default() -> Self {
        Self {
            compiled: TtlCache::new(COMPILED_TTL, COMPILED_ENTRIES),
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    /// The compiled integration of `slug` when it is of `revision`; one in
    /// use is kept ([`TtlCache::get_kept`]).
    fn get(
        &self,
        tenant: &str,
        slug: &str,
        revision: u64,
        now: Instant,
    ) -> Option<Arc<CompiledIntegration>> {
        let key = TenantKeyRef { tenant, key: slug };
        self.compiled
            .get_kept(&key, now, || TenantKey::new(tenant, slug))
            .filter(|hit| hit.revision == revision)
    }

    fn put(&self, tenant: &str, slug: &str, compiled: Arc<CompiledIntegration>, now: Instant) {
        self.compiled
            .insert(TenantKey::new(tenant, slug), compiled, now);
    }
}

/// Everything the later steps need about one call's target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) integration: Arc<CompiledIntegration>,
    pub(crate) action: Arc<CompiledAction>,
    pub(crate) connection: Arc<Connection>,
    /// The connection's auth scheme when it is not the integration's default.
    auth_scheme: Option<String>,
}

impl Target {
    /// The auth spec the connection's credential is applied by (decision 86).
    pub(crate) fn auth(&self) -> &AuthSpec {
        let def = &self.integration.def;
        self.auth_scheme
            .as_deref()
            .and_then(|name| def.auth_scheme(name))
            .unwrap_or(&def.auth)
    }

    /// The base URL: the action's own server, else the connection's override,
    /// else the integration's.
    pub(crate) fn base_url(&self) -> Option<&str> {
        self.base().map(|b| b.text)
    }

    /// The base URL requests are built against, parsed when it is the action's
    /// or the integration's (a connection's override is parsed per request).
    ///
    /// An action's own server wins over the connection's override: the override
    /// replaces the integration's default server (a sandbox, a region, a
    /// self-hosted instance), and a multi-host API's other hosts are not
    /// variants of that one (decision 67).
    pub(crate) fn base(&self) -> Option<Base<'_>> {
        let action = &self.action;
        if let Some(text) = action.def.base_url.as_deref() {
            return Some(Base::parsed(text, action.base_url.as_ref()));
        }
        if let Some(text) = self.connection.base_url.as_deref() {
            return Some(Base::text(text));
        }
        let integration = &self.integration;
        let text = integration.def.base_url.as_deref()?;
        Some(Base::parsed(text, integration.base_url.as_ref()))
    }

    /// Key of per-connection state (breaker, rate limiter).
    pub(crate) fn state_key(&self, tenant: &str) -> String {
        state_key(tenant, &self.integration.def.slug, &self.connection.name)
    }
}

/// Key of per-connection state; the separator cannot occur in slugs.
pub(crate) fn state_key(tenant: &str, integration: &str, connection: &str) -> String {
    format!("{tenant}\u{1f}{integration}\u{1f}{connection}")
}

pub(crate) async fn target(
    exec: &Executor,
    tenant: &str,
    integration: &str,
    action: &str,
    connection: Option<&str>,
) -> Result<Target, Error> {
    let integration = compiled(exec, tenant, integration).await?;
    let slug = integration.def.slug.as_str();
    let action = integration
        .action(action)
        .cloned()
        .ok_or_else(|| Error::not_found(format!("action '{slug}.{action}'")))?;
    let name = connection.unwrap_or(Connection::DEFAULT);
    let connection = match exec
        .inner
        .connections
        .connection(tenant, slug, name)
        .await?
    {
        Some(c) => c,
        // APIs without auth need no connection; the default one is implied.
        None if connection.is_none() && integration.def.auth == AuthSpec::None => {
            Arc::new(Connection::default_with(Credential::None))
        }
        None => {
            return Err(Error::not_found(format!(
                "connection '{name}' of integration '{slug}'"
            )));
        }
    };
    let (scheme, _) = super::authorize::auth_scheme(
        &integration.def,
        connection.auth_scheme.as_deref(),
        &connection.credential,
    )
    .map_err(|e| e.in_context(&format!("connection '{name}' of integration '{slug}'")))?;
    if !super::authorize::accepts(&action.def, scheme) {
        return Err(Error::config(format!(
            "action '{slug}.{}' accepts the auth schemes {}, but connection '{name}' uses '{scheme}': call it through a connection that uses one of them",
            action.def.slug,
            action.def.auth_schemes.join(", ")
        )));
    }
    let auth_scheme = (scheme != DEFAULT_AUTH_SCHEME).then(|| scheme.to_owned());
    Ok(Target {
        integration,
        action,
        connection,
        auth_scheme,
    })
}

async fn compiled(
    exec: &Executor,
    tenant: &str,
    slug: &str,
) -> Result<Arc<CompiledIntegration>, Error> {
    let stored = exec
        .inner
        .integrations
        .integration(tenant, slug)
        .await?
        .ok_or_else(|| Error::not_found(format!("integration '{slug}'")))?;
    if !stored.enabled {
        return Err(Error::config(format!(
            "integration '{slug}' is disabled: set its status to active to invoke its actions"
        )));
    }
    let registry = &exec.inner.registry;
    let now = exec.inner.clock.instant();
    if let Some(hit) = registry.get(tenant, slug, stored.revision, now) {
        return Ok(hit);
    }
    let fresh = Arc::new(CompiledIntegration::compile(stored.def, stored.revision)?);
    registry.put(tenant, slug, Arc::clone(&fresh), now);
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn compiled(revision: u64) -> Arc<CompiledIntegration> {
        let def = Arc::new(IntegrationDef::new("i", "I"));
        Arc::new(CompiledIntegration::compile(def, revision).unwrap())
    }

    #[test]
    fn compiled_integrations_are_kept_while_used_and_dropped_when_idle() {
        let clock = ManualClock::new(std::time::UNIX_EPOCH);
        let registry = Registry::default();
        let first = compiled(1);
        registry.put("t", "i", Arc::clone(&first), clock.instant());
        assert!(
            registry.get("t", "i", 2, clock.instant()).is_none(),
            "another revision"
        );
        assert!(
            registry.get("u", "i", 1, clock.instant()).is_none(),
            "another tenant"
        );

        // Used every 40 minutes: kept past its hour.
        for _ in 0..4 {
            clock.advance(Duration::from_secs(40 * 60));
            let hit = registry
                .get("t", "i", 1, clock.instant())
                .expect("kept while used");
            assert!(Arc::ptr_eq(&hit, &first));
        }
        // Idle for the TTL: dropped.
        clock.advance(COMPILED_TTL);
        assert!(registry.get("t", "i", 1, clock.instant()).is_none());
    }

    #[test]
    fn the_registry_is_bounded() {
        let clock = ManualClock::new(std::time::UNIX_EPOCH);
        let registry = Registry::default();
        let one = compiled(1);
        for i in 0..3 * COMPILED_ENTRIES {
            registry.put("t", &format!("i{i}"), Arc::clone(&one), clock.instant());
        }
        assert!(registry.compiled.entry_count() <= COMPILED_ENTRIES);
    }
}
