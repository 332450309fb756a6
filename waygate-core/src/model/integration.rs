//! The integration: one configured external API and its actions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::action::ActionDef;
use super::auth::AuthSpec;
use super::policy::{BreakerConfig, RateLimitConfig, RetryConfig};

/// A configured external API: base URL, auth, defaults and actions.
///
/// This type *is* the "config as code" file format of `API.md`: it reads and writes
/// JSON and YAML with camelCase keys, and unknown keys are rejected so that a typo
/// is reported instead of silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationDef {
    /// Unique per tenant, `[a-z0-9-]+`.
    pub slug: String,
    /// Human-readable name.
    pub name: String,
    /// What the API is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where requests go unless a connection overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// How credentials are applied to requests: the scheme named
    /// [`DEFAULT_AUTH_SCHEME`], used by connections that choose no other.
    #[serde(default)]
    pub auth: AuthSpec,
    /// Further schemes the API accepts (Figma: a personal token or OAuth2), by
    /// name; a connection chooses one with its `authScheme` (decision 86).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auth_schemes: BTreeMap<String, AuthSpec>,
    /// Defaults for every action; actions may override parts of them.
    #[serde(default, skip_serializing_if = "Defaults::is_empty")]
    pub defaults: Defaults,
    /// Free-form labels for listing and search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Version of the upstream API this definition describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The operations of the API.
    #[serde(default)]
    pub actions: Vec<ActionDef>,
}

impl IntegrationDef {
    /// An integration with a slug, a name and nothing else; fill the rest with the fields.
    pub fn new(slug: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            slug: slug.into(),
            name: name.into(),
            description: None,
            base_url: None,
            auth: AuthSpec::None,
            auth_schemes: BTreeMap::new(),
            defaults: Defaults::default(),
            tags: Vec::new(),
            version: None,
            actions: Vec::new(),
        }
    }

    /// Reads a definition from JSON text, within the [`limits`](crate::limits).
    ///
    /// # Errors
    /// A [`crate::model::FormatError`] naming the line, column and what is wrong
    /// (or which limit the text is over).
    pub fn from_json(text: &str) -> Result<Self, super::FormatError> {
        crate::limits::check_json_text(text).map_err(super::FormatError::json_limit)?;
        serde_json::from_str(text).map_err(super::FormatError::json)
    }

    /// Reads a definition from YAML text, within the [`limits`](crate::limits);
    /// duplicate keys are errors.
    ///
    /// # Errors
    /// A [`crate::model::FormatError`] naming the location and what is wrong
    /// (or which limit the text is over).
    #[cfg(feature = "yaml")]
    pub fn from_yaml(text: &str) -> Result<Self, super::FormatError> {
        crate::limits::from_yaml(text, false).map_err(|e| super::FormatError::yaml(&e))
    }

    /// Writes the definition as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an IntegrationDef always serialises to JSON")
    }

    /// Writes the definition as YAML.
    ///
    /// # Errors
    /// Only if a schema holds a value YAML cannot represent.
    #[cfg(feature = "yaml")]
    pub fn to_yaml(&self) -> Result<String, super::FormatError> {
        serde_saphyr::to_string(self).map_err(super::FormatError::yaml_output)
    }

    /// The action with this slug, if any.
    pub fn action(&self, slug: &str) -> Option<&ActionDef> {
        self.actions.iter().find(|a| a.slug == slug)
    }

    /// The auth scheme named `name`: [`DEFAULT_AUTH_SCHEME`] is
    /// [`auth`](Self::auth), any other a key of [`auth_schemes`](Self::auth_schemes).
    pub fn auth_scheme(&self, name: &str) -> Option<&AuthSpec> {
        if name == DEFAULT_AUTH_SCHEME {
            Some(&self.auth)
        } else {
            self.auth_schemes.get(name)
        }
    }

    /// Every auth scheme with its name, the default first.
    pub fn schemes(&self) -> impl Iterator<Item = (&str, &AuthSpec)> {
        std::iter::once((DEFAULT_AUTH_SCHEME, &self.auth))
            .chain(self.auth_schemes.iter().map(|(n, s)| (n.as_str(), s)))
    }
}

/// The name of an integration's own [`auth`](IntegrationDef::auth) scheme
/// among its [`auth_schemes`](IntegrationDef::auth_schemes).
pub const DEFAULT_AUTH_SCHEME: &str = "default";

/// Defaults that apply to every action of an integration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Defaults {
    /// Total time for one attempt, connect included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryConfig>,
    /// Circuit breaker, per integration and connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<BreakerConfig>,
    /// Outbound rate limit, per connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    /// Header that carries a caller's idempotency key; `Idempotency-Key` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_header: Option<String>,
}

impl Defaults {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}
