//! Step 6, authorize: the resolved credential applied to the request as the
//! integration's auth spec says. Header values holding secrets are marked
//! sensitive, so `http`'s `Debug` output hides them too.

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::request::{HttpRequest, Part, RequestBody};
use crate::credential::Credential;
use crate::error::Error;
use crate::model::{
    ActionDef, ApiKeyLocation, AuthSpec, DEFAULT_AUTH_SCHEME, IntegrationDef, ParamLocation,
    Parameter,
};

/// Applies `credential` to `request`, then fills the action's credential
/// parameters (see [`Parameter::credential`]) with its key or token.
///
/// The credential's type decides the mechanism (basic, bearer, headers); an
/// API key goes where the auth spec says, so it needs an `api_key` spec.
///
/// # Errors
/// `CREDENTIALS_ERROR` when the integration expects a credential and the
/// connection has none; `CONFIGURATION_ERROR` when the credential cannot be
/// placed (an API key without an `api_key` auth spec, a value that is not a
/// valid header).
pub(crate) fn apply(
    auth: &AuthSpec,
    params: &[Parameter],
    credential: &Credential,
    request: &mut HttpRequest,
) -> Result<(), Error> {
    scheme(auth, credential, request)?;
    for p in params.iter().filter(|p| p.credential) {
        let token = token_for_parameter(p, credential)?;
        let location = match p.location {
            ParamLocation::Query => ApiKeyLocation::Query,
            ParamLocation::Header => ApiKeyLocation::Header,
            ParamLocation::Cookie => ApiKeyLocation::Cookie,
            ParamLocation::Path => {
                return Err(Error::config(
                    "a credential parameter cannot go in the path",
                ));
            }
        };
        place_key(request, location, p.wire_name(), None, token)?;
    }
    Ok(())
}

/// Whether a connection's credential can be applied to every action of the
/// integration `def` that accepts its auth scheme: checked when a connection
/// is built or stored, and again per call. Returns the scheme's name and spec
/// (see [`auth_scheme`]).
///
/// # Errors
/// What [`apply`] would answer at call time: `CREDENTIALS_ERROR` for a missing
/// credential, `CONFIGURATION_ERROR` for one that cannot be placed, an unknown
/// scheme name, or a credential that fits none of the schemes.
pub fn fits<'d>(
    def: &'d IntegrationDef,
    named: Option<&str>,
    credential: &Credential,
) -> Result<(&'d str, &'d AuthSpec), Error> {
    let (name, auth) = auth_scheme(def, named, credential)?;
    // A scheme the connection names is a promise about its credential: a
    // basic login on an API-key scheme would be sent in a way the API never
    // documented, so it is refused here rather than at the upstream.
    if named.is_some() && !suits(auth, credential) {
        return Err(Error::config(format!(
            "a {} credential does not suit the auth scheme '{name}' ({})",
            credential.kind(),
            auth.kind()
        )));
    }
    fits_scheme(auth, credential)?;
    for p in def
        .actions
        .iter()
        .filter(|a| accepts(a, name))
        .flat_map(|a| &a.parameters)
        .filter(|p| p.credential)
    {
        token_for_parameter(p, credential)?;
    }
    Ok((name, auth))
}

/// The auth scheme of `def` a connection uses, by name and spec (decision 86):
/// the scheme it `named`; else, when the integration has only its `auth`, that
/// one; else the first scheme (`default` first, then by name) whose mechanism
/// suits the credential: an OAuth2 token goes to an `oauth2` or `bearer`
/// scheme, an API key to an `api_key` one, and so on.
///
/// ```
/// use waygate_core::model::{AuthSpec, IntegrationDef};
/// use waygate_core::{Credential, pipeline::auth_scheme};
///
/// let mut def = IntegrationDef::new("figma", "Figma");
/// def.auth = AuthSpec::ApiKey { location: waygate_core::model::ApiKeyLocation::Header, name: "X-Figma-Token".into(), prefix: None };
/// def.auth_schemes.insert("OAuth2".into(), AuthSpec::Bearer);
/// let token = Credential::Bearer { token: "t".to_owned().into() };
/// assert_eq!(auth_scheme(&def, None, &token).unwrap().0, "OAuth2");
/// assert!(auth_scheme(&def, Some("Other"), &token).is_err());
/// ```
///
/// # Errors
/// `CONFIGURATION_ERROR` naming the integration's schemes when `named` is not
/// one of them, or when no scheme suits the credential.
pub fn auth_scheme<'d>(
    def: &'d IntegrationDef,
    named: Option<&str>,
    credential: &Credential,
) -> Result<(&'d str, &'d AuthSpec), Error> {
    if let Some(name) = named {
        return def.schemes().find(|(n, _)| *n == name).ok_or_else(|| {
            Error::config(format!(
                "auth scheme '{name}' is not one of the integration's: {}",
                scheme_list(def)
            ))
        });
    }
    if def.auth_schemes.is_empty() {
        return Ok((DEFAULT_AUTH_SCHEME, &def.auth));
    }
    def.schemes()
        .find(|(_, spec)| suits(spec, credential))
        .ok_or_else(|| {
            Error::config(format!(
                "a {} credential fits none of the integration's auth schemes: {}",
                credential.kind(),
                scheme_list(def)
            ))
        })
}

/// Whether `action` may be sent with the scheme `name`.
pub(crate) fn accepts(action: &ActionDef, name: &str) -> bool {
    action.auth_schemes.is_empty() || action.auth_schemes.iter().any(|n| n == name)
}

/// `default (api_key), OAuth2 (oauth2)`: the schemes for messages.
fn scheme_list(def: &IntegrationDef) -> String {
    def.schemes()
        .map(|(name, spec)| format!("{name} ({})", spec.kind()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the credential's own mechanism is one the scheme expects: what
/// picks a scheme when a connection names none.
fn suits(auth: &AuthSpec, credential: &Credential) -> bool {
    use Credential as C;
    match auth {
        AuthSpec::None => matches!(credential, C::None),
        AuthSpec::ApiKey { .. } => matches!(credential, C::ApiKey { .. } | C::CustomHeaders { .. }),
        AuthSpec::Basic => matches!(credential, C::Basic { .. } | C::CustomHeaders { .. }),
        AuthSpec::Bearer | AuthSpec::Oauth2 { .. } => matches!(
            credential,
            C::Bearer { .. }
                | C::Oauth2Tokens { .. }
                | C::Oauth2ClientCredentials { .. }
                | C::CustomHeaders { .. }
        ),
        AuthSpec::CustomHeaders { .. } => matches!(credential, C::CustomHeaders { .. }),
    }
}

/// The credential's mechanism against the auth spec: a credential where one
/// is expected, and an API key only where the spec says where it goes.
fn fits_scheme(auth: &AuthSpec, credential: &Credential) -> Result<(), Error> {
    match credential {
        Credential::None => no_credential(auth),
        Credential::ApiKey { .. } => api_key_spec(auth).map(drop),
        _ => Ok(()),
    }
}

/// Going without a credential is fine only for an integration without auth.
fn no_credential(auth: &AuthSpec) -> Result<(), Error> {
    match auth {
        AuthSpec::None => Ok(()),
        other => Err(Error::credentials(format!(
            "the integration expects {} credentials but the connection has none",
            other.kind()
        ))),
    }
}

/// Where an API key goes: only an `api_key` auth spec says.
fn api_key_spec(auth: &AuthSpec) -> Result<(ApiKeyLocation, &str, Option<&str>), Error> {
    match auth {
        AuthSpec::ApiKey {
            location,
            name,
            prefix,
        } => Ok((*location, name, prefix.as_deref())),
        other => Err(Error::config(format!(
            "an api_key credential needs an api_key auth spec saying where the key goes; the integration's auth is '{}'",
            other.kind()
        ))),
    }
}

/// The secret a credential parameter (Slack's `token`) carries.
fn token_for_parameter<'c>(
    p: &Parameter,
    credential: &'c Credential,
) -> Result<&'c SecretString, Error> {
    match credential {
        Credential::ApiKey { key } => Ok(key),
        Credential::Bearer { token } => Ok(token),
        Credential::Oauth2Tokens { access_token, .. } => Ok(access_token),
        other => Err(Error::config(format!(
            "parameter '{}' carries the credential's token, but a {} credential has none",
            p.wire_name(),
            other.kind()
        ))),
    }
}

/// The auth scheme itself: the credential's own mechanism.
fn scheme(
    auth: &AuthSpec,
    credential: &Credential,
    request: &mut HttpRequest,
) -> Result<(), Error> {
    match credential {
        Credential::None => no_credential(auth),
        Credential::ApiKey { key } => {
            let (location, name, prefix) = api_key_spec(auth)?;
            place_key(request, location, name, prefix, key)
        }
        Credential::Basic { .. } => {
            let encoded = credential.wire_secrets().concat();
            set_secret_header(request, AUTHORIZATION, &format!("Basic {encoded}"))
        }
        Credential::Bearer { token } => set_secret_header(
            request,
            AUTHORIZATION,
            &format!("Bearer {}", token.expose_secret()),
        ),
        Credential::Oauth2Tokens { access_token, .. } => set_secret_header(
            request,
            AUTHORIZATION,
            &format!("Bearer {}", access_token.expose_secret()),
        ),
        Credential::CustomHeaders { headers } => {
            for (name, value) in headers {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    Error::config(format!(
                        "credential header '{name}' is not a valid header name"
                    ))
                })?;
                set_secret_header(request, name, value.expose_secret())?;
            }
            Ok(())
        }
        Credential::Oauth2ClientCredentials { .. } => Err(Error::credentials(
            "client credentials must be exchanged for a token by an OAuth2 resolver first",
        )),
    }
}

fn set_secret_header(
    request: &mut HttpRequest,
    name: HeaderName,
    value: &str,
) -> Result<(), Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!(
            "the credential for header '{name}' holds characters a header cannot carry"
        ))
    })?;
    value.set_sensitive(true);
    request.headers.insert(name, value);
    Ok(())
}

fn place_key(
    request: &mut HttpRequest,
    location: ApiKeyLocation,
    name: &str,
    prefix: Option<&str>,
    key: &SecretString,
) -> Result<(), Error> {
    let key = key.expose_secret();
    match location {
        ApiKeyLocation::Header => {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::config(format!("auth header name '{name}' is not valid")))?;
            set_secret_header(request, header, &format!("{}{key}", prefix.unwrap_or("")))
        }
        ApiKeyLocation::Query => {
            request.url.query_pairs_mut().append_pair(name, key);
            Ok(())
        }
        ApiKeyLocation::Cookie => {
            let cookie = match request.headers.get(COOKIE).and_then(|v| v.to_str().ok()) {
                Some(existing) => format!("{existing}; {name}={key}"),
                None => format!("{name}={key}"),
            };
            set_secret_header(request, COOKIE, &cookie)
        }
        ApiKeyLocation::Body => {
            match &mut request.body {
                RequestBody::Json(Value::Object(map)) => {
                    map.insert(name.to_owned(), Value::String(key.to_owned()));
                }
                RequestBody::Empty => {
                    request.body = RequestBody::Json(serde_json::json!({ name: key }));
                }
                RequestBody::Form(pairs) => pairs.push((name.to_owned(), key.to_owned())),
                RequestBody::Multipart(parts) => parts.push(Part {
                    name: name.to_owned(),
                    content: key.as_bytes().to_vec(),
                    filename: None,
                    content_type: None,
                }),
                RequestBody::Json(_) | RequestBody::Raw { .. } => {
                    return Err(Error::config(
                        "the API key goes in the body, but this body is not an object of fields",
                    ));
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use serde_json::json;

    use super::*;

    /// The scheme alone, without credential parameters.
    fn apply(
        auth: &AuthSpec,
        credential: &Credential,
        request: &mut HttpRequest,
    ) -> Result<(), Error> {
        super::apply(auth, &[], credential, request)
    }

    fn request() -> HttpRequest {
        HttpRequest::new(Method::POST, "http://h/x?a=1".parse().unwrap())
    }

    fn api_key(location: ApiKeyLocation) -> AuthSpec {
        AuthSpec::ApiKey {
            location,
            name: "api_key".into(),
            prefix: None,
        }
    }

    #[test]
    fn every_scheme_lands_where_it_should() {
        let mut r = request();
        apply(&AuthSpec::Basic, &Credential::basic("ann", "pw"), &mut r).unwrap();
        assert_eq!(r.headers[AUTHORIZATION], "Basic YW5uOnB3");
        assert!(r.headers[AUTHORIZATION].is_sensitive());

        let mut r = request();
        apply(&AuthSpec::Bearer, &Credential::bearer("tok"), &mut r).unwrap();
        assert_eq!(r.headers[AUTHORIZATION], "Bearer tok");

        let mut r = request();
        apply(
            &api_key(ApiKeyLocation::Query),
            &Credential::api_key("k 1"),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.url.query(), Some("a=1&api_key=k+1"));

        let mut r = request();
        let spec = AuthSpec::ApiKey {
            location: ApiKeyLocation::Header,
            name: "Authorization".into(),
            prefix: Some("Token ".into()),
        };
        apply(&spec, &Credential::api_key("k"), &mut r).unwrap();
        assert_eq!(r.headers[AUTHORIZATION], "Token k");

        let mut r = request();
        r.body = RequestBody::Json(json!({"x": 1}));
        apply(
            &api_key(ApiKeyLocation::Body),
            &Credential::api_key("k"),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.body, RequestBody::Json(json!({"x": 1, "api_key": "k"})));

        let mut r = request();
        r.headers.insert(COOKIE, HeaderValue::from_static("s=1"));
        apply(
            &api_key(ApiKeyLocation::Cookie),
            &Credential::api_key("k"),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.headers[COOKIE], "s=1; api_key=k");

        let mut r = request();
        let spec = AuthSpec::CustomHeaders { headers: vec![] };
        apply(
            &spec,
            &Credential::custom_headers([("X-App", "a"), ("X-Sig", "b")]),
            &mut r,
        )
        .unwrap();
        assert_eq!(
            (
                r.headers["x-app"].to_str().unwrap(),
                r.headers["x-sig"].to_str().unwrap()
            ),
            ("a", "b")
        );
    }

    #[test]
    fn credential_parameters_carry_the_token_too() {
        let mut token = Parameter::new("token", ParamLocation::Query);
        token.credential = true;
        let mut r = request();
        super::apply(
            &AuthSpec::Bearer,
            &[token.clone()],
            &Credential::bearer("xoxb-1"),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.headers[AUTHORIZATION], "Bearer xoxb-1");
        assert_eq!(r.url.query(), Some("a=1&token=xoxb-1"));
        let e = super::apply(
            &AuthSpec::Basic,
            &[token],
            &Credential::basic("u", "p"),
            &mut request(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("a basic credential has none"), "{e}");
    }

    #[test]
    fn mismatches_are_explained_without_the_secret() {
        let e = apply(&AuthSpec::Bearer, &Credential::None, &mut request()).unwrap_err();
        assert_eq!(e.code(), "CREDENTIALS_ERROR");
        assert!(e.to_string().contains("expects bearer credentials"), "{e}");
        let e = apply(
            &AuthSpec::Bearer,
            &Credential::api_key("sekrit"),
            &mut request(),
        )
        .unwrap_err();
        assert_eq!(e.code(), "CONFIGURATION_ERROR");
        let e = apply(
            &AuthSpec::Bearer,
            &Credential::bearer("bad\ntoken"),
            &mut request(),
        )
        .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("bad\ntoken"));
    }
}
