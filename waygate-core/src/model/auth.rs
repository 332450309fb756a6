//! How an integration expects credentials.

use serde::{Deserialize, Serialize};

/// The auth scheme of an integration; the connection's credential fills it in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthSpec {
    /// No credentials.
    #[default]
    None,
    /// A key sent in a header, a query parameter, a cookie or a body field.
    #[serde(rename_all = "camelCase")]
    ApiKey {
        /// Where the key goes.
        #[serde(rename = "in")]
        location: ApiKeyLocation,
        /// The header, parameter, cookie or field name.
        name: String,
        /// Text put before the key, e.g. `Token ` for `Authorization: Token <key>`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
    },
    /// HTTP basic authentication.
    Basic,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// Arbitrary headers from the credential.
    CustomHeaders {
        /// The header names a credential is expected to supply (documentation only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<String>,
    },
    /// OAuth 2.0; the access token is sent as a bearer token.
    #[serde(rename_all = "camelCase")]
    Oauth2 {
        /// The grant types the provider supports.
        #[serde(default)]
        flows: Vec<OAuth2Flow>,
        /// Where users grant consent (authorization code flow).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_url: Option<String>,
        /// Where codes, refresh tokens and client credentials become tokens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_url: Option<String>,
        /// Where tokens are refreshed, when it differs from `tokenUrl`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_url: Option<String>,
        /// Scopes requested by default.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
        /// Whether the authorization code flow uses PKCE (S256).
        #[serde(default = "yes")]
        pkce: bool,
    },
}

fn yes() -> bool {
    true
}

impl AuthSpec {
    /// The scheme's `type` as written in a definition.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey { .. } => "api_key",
            Self::Basic => "basic",
            Self::Bearer => "bearer",
            Self::CustomHeaders { .. } => "custom_headers",
            Self::Oauth2 { .. } => "oauth2",
        }
    }
}

/// Where an API key is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
    /// A field of the JSON or form body.
    Body,
}

/// An OAuth 2.0 grant type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuth2Flow {
    /// Authorization code (with PKCE when the spec says so).
    AuthorizationCode,
    /// Client credentials.
    ClientCredentials,
    /// Resource owner password (legacy; recorded, not run).
    Password,
    /// Implicit (legacy; recorded, not run).
    Implicit,
}
