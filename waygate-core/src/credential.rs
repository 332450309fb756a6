//! Credentials and connections: who calls an integration, and with what secret.
//!
//! Secrets are [`SecretString`]s: their `Debug` prints `[REDACTED]`, they are
//! zeroed on drop, and reading one takes an explicit `expose_secret()`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::{IntegrationDef, Mappings};

/// The secret material of a connection, as the `credential` body of `API.md`
/// describes it (`{"type": "bearer", "token": "…"}`).
#[derive(Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Credential {
    /// No credential (APIs without auth).
    None,
    /// An API key; where it goes comes from the integration's auth spec.
    ApiKey {
        /// The key.
        key: SecretString,
    },
    /// HTTP basic.
    Basic {
        /// The user name (not secret, but kept with the password).
        username: String,
        /// The password.
        password: SecretString,
    },
    /// A bearer token.
    Bearer {
        /// The token.
        token: SecretString,
    },
    /// Headers sent as they are.
    CustomHeaders {
        /// Header names and their secret values (`{"X-Key": "…"}` in JSON).
        #[serde(deserialize_with = "header_map")]
        headers: Vec<(String, SecretString)>,
    },
    /// OAuth 2.0 tokens from an authorization code flow.
    #[serde(rename_all = "camelCase")]
    Oauth2Tokens {
        /// The client id of the OAuth app.
        client_id: String,
        /// The client secret of the OAuth app.
        client_secret: SecretString,
        /// The current access token.
        access_token: SecretString,
        /// The refresh token, when the provider issued one.
        #[serde(default)]
        refresh_token: Option<SecretString>,
        /// When the access token expires, when known.
        #[serde(default, deserialize_with = "expires_at")]
        expires_at: Option<SystemTime>,
        /// Granted scopes.
        #[serde(default)]
        scopes: Vec<String>,
    },
    /// OAuth 2.0 client credentials; tokens are fetched by an OAuth2 resolver.
    #[serde(rename_all = "camelCase")]
    Oauth2ClientCredentials {
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: SecretString,
        /// Scopes to ask for.
        #[serde(default)]
        scopes: Vec<String>,
    },
}

impl Credential {
    /// An API key credential.
    pub fn api_key(key: impl Into<String>) -> Self {
        Self::ApiKey {
            key: SecretString::from(key.into()),
        }
    }

    /// A basic-auth credential.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Basic {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// A bearer-token credential.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::Bearer {
            token: SecretString::from(token.into()),
        }
    }

    /// A credential of custom headers.
    pub fn custom_headers<K: Into<String>, V: Into<String>>(
        headers: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self::CustomHeaders {
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.into(), SecretString::from(v.into())))
                .collect(),
        }
    }

    /// The credential's `type` as written in `API.md`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey { .. } => "api_key",
            Self::Basic { .. } => "basic",
            Self::Bearer { .. } => "bearer",
            Self::CustomHeaders { .. } => "custom_headers",
            Self::Oauth2Tokens { .. } => "oauth2_tokens",
            Self::Oauth2ClientCredentials { .. } => "oauth2_client_credentials",
        }
    }

    /// The credential as the JSON its `Deserialize` reads back, secrets in clear,
    /// for a credential vault to encrypt. Nothing else should call this.
    ///
    /// `Credential` deliberately has no `Serialize`: a secret must never reach a
    /// response or a log by accident. The text is written straight into a buffer
    /// that is zeroed on drop (sized up front, so it is not reallocated and copied).
    pub fn to_vault_json(&self) -> Zeroizing<String> {
        let view = match self {
            Self::None => VaultView::None,
            Self::ApiKey { key } => VaultView::ApiKey {
                key: key.expose_secret(),
            },
            Self::Basic { username, password } => VaultView::Basic {
                username,
                password: password.expose_secret(),
            },
            Self::Bearer { token } => VaultView::Bearer {
                token: token.expose_secret(),
            },
            Self::CustomHeaders { headers } => VaultView::CustomHeaders {
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.expose_secret()))
                    .collect(),
            },
            Self::Oauth2Tokens {
                client_id,
                client_secret,
                access_token,
                refresh_token,
                expires_at,
                scopes,
            } => VaultView::Oauth2Tokens {
                client_id,
                client_secret: client_secret.expose_secret(),
                access_token: access_token.expose_secret(),
                refresh_token: refresh_token.as_ref().map(|r| r.expose_secret()),
                expires_at: expires_at.map(crate::time::format_rfc3339),
                scopes,
            },
            Self::Oauth2ClientCredentials {
                client_id,
                client_secret,
                scopes,
            } => VaultView::Oauth2ClientCredentials {
                client_id,
                client_secret: client_secret.expose_secret(),
                scopes,
            },
        };
        // JSON escaping at most doubles most characters (\uXXXX for control
        // characters is rare in secrets); a reallocation would only leave a copy behind.
        let secret_len: usize = self.secrets().iter().map(|s| s.len()).sum();
        let mut out = Zeroizing::new(Vec::with_capacity(
            256 + 2 * secret_len + 64 * self.secrets().len(),
        ));
        serde_json::to_writer(&mut *out, &view).expect("serialising to memory cannot fail");
        let text = String::from_utf8(std::mem::take(&mut *out)).expect("serde_json writes UTF-8");
        Zeroizing::new(text)
    }

    /// The secrets as they are encoded on the wire, where that differs from
    /// [`Credential::secrets`]: the base64 `user:password` pair of basic auth.
    pub(crate) fn wire_secrets(&self) -> Vec<String> {
        match self {
            Self::Basic { username, password } => {
                use base64::Engine as _;
                let pair = format!("{username}:{}", password.expose_secret());
                vec![base64::engine::general_purpose::STANDARD.encode(pair)]
            }
            _ => Vec::new(),
        }
    }

    /// Every secret string this credential holds, for redaction of logs and previews.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Self::None => vec![],
            Self::ApiKey { key } => vec![key.expose_secret()],
            Self::Basic { password, .. } => vec![password.expose_secret()],
            Self::Bearer { token } => vec![token.expose_secret()],
            Self::CustomHeaders { headers } => {
                headers.iter().map(|(_, v)| v.expose_secret()).collect()
            }
            Self::Oauth2Tokens {
                client_secret,
                access_token,
                refresh_token,
                ..
            } => {
                let mut s = vec![client_secret.expose_secret(), access_token.expose_secret()];
                s.extend(refresh_token.as_ref().map(|r| r.expose_secret()));
                s
            }
            Self::Oauth2ClientCredentials { client_secret, .. } => {
                vec![client_secret.expose_secret()]
            }
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the kind and non-secret identifiers: a credential must never print.
        let mut d = f.debug_struct("Credential");
        d.field("type", &self.kind());
        match self {
            Self::Basic { username, .. } => d.field("username", username),
            Self::Oauth2Tokens {
                client_id,
                expires_at,
                ..
            } => d
                .field("client_id", client_id)
                .field("expires_at", expires_at),
            Self::Oauth2ClientCredentials { client_id, .. } => d.field("client_id", client_id),
            _ => &mut d,
        };
        d.finish_non_exhaustive()
    }
}

/// Whether a connection's credential can be used (API.md's connection `status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionStatus {
    /// Usable.
    #[default]
    Active,
    /// The access token has expired and could not be refreshed yet.
    Expired,
    /// The provider refused the refresh token (or refreshing failed repeatedly):
    /// a person has to authorise the connection again. Calls fail fast.
    NeedsReauth,
    /// Something else is wrong with it.
    Error,
}

impl ConnectionStatus {
    /// The status as stored and shown in the API (`needs_reauth`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::NeedsReauth => "needs_reauth",
            Self::Error => "error",
        }
    }

    /// Reads [`as_str`](Self::as_str)'s text back; unknown text is [`Error`](Self::Error).
    pub fn parse(text: &str) -> Self {
        match text {
            "active" => Self::Active,
            "expired" => Self::Expired,
            "needs_reauth" => Self::NeedsReauth,
            _ => Self::Error,
        }
    }
}

/// One consuming app's use of an integration: its credential and an optional
/// base URL override.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Unique per integration; every integration may have a `default` one.
    pub name: String,
    /// Replaces the integration's base URL for this connection.
    pub base_url: Option<String>,
    /// The secret material.
    pub credential: Credential,
    /// Whether the credential can be used; `NeedsReauth` makes calls fail fast.
    pub status: ConnectionStatus,
    /// This connection's own field mappings, by action slug: each replaces
    /// the action's mappings from the definition (both directions).
    pub mappings: BTreeMap<String, Mappings>,
    /// The integration's auth scheme this connection uses, by name (`default`
    /// or a key of its `authSchemes`); `None`: the one its credential suits
    /// ([`auth_scheme`](crate::pipeline::auth_scheme)).
    pub auth_scheme: Option<String>,
}

impl Connection {
    /// The name of the connection used when a call names none.
    pub const DEFAULT: &'static str = "default";

    /// A connection with this name and credential.
    pub fn new(name: impl Into<String>, credential: Credential) -> Self {
        Self {
            name: name.into(),
            base_url: None,
            credential,
            status: ConnectionStatus::Active,
            mappings: BTreeMap::new(),
            auth_scheme: None,
        }
    }

    /// The `default` connection with this credential.
    pub fn default_with(credential: Credential) -> Self {
        Self::new(Self::DEFAULT, credential)
    }

    /// Sets the base URL override.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Chooses the integration's auth scheme named `name` (Figma's `OAuth2`
    /// beside its personal-token default).
    pub fn with_auth_scheme(mut self, name: impl Into<String>) -> Self {
        self.auth_scheme = Some(name.into());
        self
    }
}

/// Turns a connection's stored credential into the one to apply now.
///
/// The default ([`StoredCredential`]) uses the stored credential as it is. An
/// OAuth2 implementation refreshes tokens within the refresh buffer first
/// (single-flight per credential, cross-process lock) and plugs in here.
#[async_trait]
pub trait ResolveCredential: Send + Sync {
    /// The credential to apply to the next request of `tenant`'s `connection`.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`](crate::ErrorKind::Credentials) when there is no usable one.
    async fn resolve(
        &self,
        tenant: &str,
        integration: &IntegrationDef,
        connection: &Connection,
    ) -> Result<Credential, Error>;
}

/// Uses the stored credential; refuses expired OAuth2 tokens and client-credentials
/// connections, which need an OAuth2 resolver to fetch tokens.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    clock: crate::clock::SharedClock,
}

impl StoredCredential {
    /// A resolver that reads the time from `clock`.
    pub fn new(clock: crate::clock::SharedClock) -> Self {
        Self { clock }
    }
}

#[async_trait]
impl ResolveCredential for StoredCredential {
    async fn resolve(
        &self,
        _: &str,
        _: &IntegrationDef,
        connection: &Connection,
    ) -> Result<Credential, Error> {
        if connection.status == ConnectionStatus::NeedsReauth {
            return Err(Error::needs_reauth(&connection.name));
        }
        match &connection.credential {
            Credential::Oauth2Tokens {
                expires_at: Some(at),
                ..
            } if *at <= self.clock.now() => Err(Error::credentials(format!(
                "the access token of connection '{}' has expired and no OAuth2 refresher is configured",
                connection.name
            ))),
            Credential::Oauth2ClientCredentials { .. } => Err(Error::credentials(format!(
                "connection '{}' holds client credentials, which need an OAuth2 token resolver",
                connection.name
            ))),
            other => Ok(other.clone()),
        }
    }
}

/// A borrowed mirror of [`Credential`] that serialises to what its `Deserialize`
/// reads; private, so only [`Credential::to_vault_json`] can produce secret JSON.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum VaultView<'a> {
    None,
    ApiKey {
        key: &'a str,
    },
    Basic {
        username: &'a str,
        password: &'a str,
    },
    Bearer {
        token: &'a str,
    },
    CustomHeaders {
        headers: std::collections::BTreeMap<&'a str, &'a str>,
    },
    #[serde(rename_all = "camelCase")]
    Oauth2Tokens {
        client_id: &'a str,
        client_secret: &'a str,
        access_token: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        refresh_token: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires_at: Option<String>,
        scopes: &'a [String],
    },
    #[serde(rename_all = "camelCase")]
    Oauth2ClientCredentials {
        client_id: &'a str,
        client_secret: &'a str,
        scopes: &'a [String],
    },
}

fn header_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, SecretString)>, D::Error> {
    let map = std::collections::BTreeMap::<String, String>::deserialize(d)?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, SecretString::from(v)))
        .collect())
}

fn expires_at<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
    crate::time::deserialize_opt(d, "expiresAt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let all = [
            Credential::api_key("sk-live-123"),
            Credential::basic("ann", "hunter2-pw"),
            Credential::bearer("tok-abc-999"),
            Credential::custom_headers([("X-Key", "custom-secret")]),
        ];
        for c in &all {
            let text = format!("{c:?} {:?}", Connection::default_with(c.clone()));
            for secret in c.secrets() {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn vault_json_reads_back_as_the_same_credential() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_900_000_000);
        let all = [
            Credential::None,
            Credential::api_key("sk-\"quoted\"-1"),
            Credential::basic("ann", "hunter2-pw"),
            Credential::bearer("tok-abc-999"),
            Credential::custom_headers([("X-Key", "custom-secret"), ("X-Other", "v2")]),
            Credential::Oauth2Tokens {
                client_id: "cid".into(),
                client_secret: SecretString::from("cs".to_owned()),
                access_token: SecretString::from("at".to_owned()),
                refresh_token: Some(SecretString::from("rt".to_owned())),
                expires_at: Some(at),
                scopes: vec!["a".into(), "b".into()],
            },
            Credential::Oauth2ClientCredentials {
                client_id: "cid".into(),
                client_secret: SecretString::from("cs".to_owned()),
                scopes: vec![],
            },
        ];
        for c in &all {
            let json = c.to_vault_json();
            let back: Credential = serde_json::from_str(&json).unwrap();
            assert_eq!(back.kind(), c.kind());
            assert_eq!(back.secrets(), c.secrets());
            assert_eq!(format!("{back:?}"), format!("{c:?}"));
        }
    }

    #[test]
    fn a_bad_expiry_is_an_error_naming_the_field_not_a_panic() {
        for bad in [
            "2030-02-31T03:04:05Z",
            "2030-01-02T03:04:05+0\u{e9}:00",
            "2030-01-02T03:04:05+99:99",
            "soon",
        ] {
            let body = format!(
                r#"{{"type":"oauth2_tokens","clientId":"c","clientSecret":"s","accessToken":"a","expiresAt":"{bad}"}}"#
            );
            let e = serde_json::from_str::<Credential>(&body)
                .err()
                .unwrap()
                .to_string();
            assert!(e.starts_with("expiresAt: not an RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn reads_the_api_md_credential_bodies() {
        let c: Credential =
            serde_json::from_str(r#"{"type":"basic","username":"u","password":"p"}"#).unwrap();
        assert_eq!(c.kind(), "basic");
        let c: Credential = serde_json::from_str(
            r#"{"type":"oauth2_tokens","clientId":"c","clientSecret":"s","accessToken":"a","expiresAt":"2030-01-02T03:04:05Z"}"#,
        )
        .unwrap();
        assert_eq!(c.secrets(), ["s", "a"]);
        let c: Credential =
            serde_json::from_str(r#"{"type":"custom_headers","headers":{"X-A":"1"}}"#).unwrap();
        assert_eq!(c.secrets(), ["1"]);
        let err =
            serde_json::from_str::<Credential>(r#"{"type":"bearer","tokn":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `tokn`"), "{err}");
    }
}
