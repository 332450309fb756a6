//! The first half of the authorization code flow: where to send the user.

use url::Url;

use super::pkce::{PkceVerifier, random_token};
use crate::error::Error;
use crate::model::AuthSpec;

/// What starting an authorization gives: the URL for the user, and the
/// `state` and verifier to store until the provider redirects back.
#[derive(Debug)]
pub struct AuthorizationStart {
    /// The provider's authorization URL with every parameter set.
    pub url: Url,
    /// The single-use `state` (32 random bytes, base64url); store only its digest.
    pub state: String,
    /// The PKCE verifier, when the auth spec uses PKCE; store it encrypted.
    pub verifier: Option<PkceVerifier>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
}

/// Builds the authorization URL of `auth` (an `oauth2` spec): `response_type=code`,
/// the client id, the redirect URI, the scopes (`scopes` when given, else the
/// spec's), a fresh `state` and, with PKCE, an S256 challenge.
///
/// # Errors
/// `CONFIGURATION_ERROR` when `auth` is not OAuth2, has no usable
/// `authorizationUrl`, or `redirect_uri` is not an absolute http(s) URL.
pub fn begin_authorization(
    auth: &AuthSpec,
    client_id: &str,
    redirect_uri: &str,
    scopes: Option<&[String]>,
) -> Result<AuthorizationStart, Error> {
    let AuthSpec::Oauth2 {
        authorization_url,
        scopes: default_scopes,
        pkce,
        ..
    } = auth
    else {
        return Err(Error::config(format!(
            "the integration's auth is '{}', not oauth2",
            auth.kind()
        )));
    };
    let base = authorization_url
        .as_deref()
        .ok_or_else(|| Error::config("the oauth2 auth spec has no authorizationUrl"))?;
    let mut url = Url::parse(base)
        .map_err(|e| Error::config(format!("the authorizationUrl is not a URL: {e}")))?;
    let redirect = Url::parse(redirect_uri)
        .map_err(|e| Error::config(format!("the redirect URI is not a URL: {e}")))?;
    if !matches!(redirect.scheme(), "http" | "https") || redirect.fragment().is_some() {
        return Err(Error::config(
            "the redirect URI must be an absolute http(s) URL without a fragment",
        ));
    }
    let scopes = match scopes {
        Some(s) if !s.is_empty() => s.to_vec(),
        _ => default_scopes.clone(),
    };
    let state = random_token();
    let verifier = pkce.then(PkceVerifier::generate);
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", &state);
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
        if let Some(v) = &verifier {
            q.append_pair("code_challenge", &v.challenge())
                .append_pair("code_challenge_method", "S256");
        }
    }
    Ok(AuthorizationStart {
        url,
        state,
        verifier,
        scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pkce: bool) -> AuthSpec {
        serde_json::from_value(serde_json::json!({
            "type": "oauth2", "flows": ["authorization_code"],
            "authorizationUrl": "https://id.example.com/authorize?prompt=consent",
            "tokenUrl": "https://id.example.com/token", "scopes": ["read", "write"], "pkce": pkce
        }))
        .unwrap()
    }

    fn params(url: &Url) -> std::collections::HashMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn url_carries_state_scopes_and_s256_challenge() {
        let start =
            begin_authorization(&spec(true), "cid", "https://gw/oauth/callback", None).unwrap();
        let p = params(&start.url);
        assert_eq!(p["prompt"], "consent");
        assert_eq!(p["response_type"], "code");
        assert_eq!(p["client_id"], "cid");
        assert_eq!(p["redirect_uri"], "https://gw/oauth/callback");
        assert_eq!(p["scope"], "read write");
        assert_eq!(p["state"], start.state);
        assert_eq!(p["code_challenge_method"], "S256");
        let verifier = start.verifier.unwrap();
        assert_eq!(p["code_challenge"], verifier.challenge());
        assert!(!start.url.as_str().contains(verifier.secret()));
    }

    #[test]
    fn explicit_scopes_win_and_pkce_can_be_off() {
        let scopes = vec!["admin".to_owned()];
        let start =
            begin_authorization(&spec(false), "cid", "http://127.0.0.1/cb", Some(&scopes)).unwrap();
        let p = params(&start.url);
        assert_eq!(p["scope"], "admin");
        assert!(!p.contains_key("code_challenge"));
        assert!(start.verifier.is_none());
    }

    #[test]
    fn refuses_bad_redirects_and_other_specs() {
        assert!(begin_authorization(&spec(true), "c", "javascript:alert(1)", None).is_err());
        assert!(begin_authorization(&spec(true), "c", "https://gw/cb#x", None).is_err());
        assert!(begin_authorization(&AuthSpec::Bearer, "c", "https://gw/cb", None).is_err());
    }
}
