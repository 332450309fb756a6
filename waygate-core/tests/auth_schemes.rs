//! Several security schemes (Figma: a personal token or OAuth2), embedded: the
//! import keeps them all, each connection chooses one (by name, or by what its
//! credential suits), and every action is sent with its connection's scheme
//! to a real upstream on 127.0.0.1 (decision 86).

mod support;

use serde_json::json;
use support::Upstream;
use waygate_core::import::{self, ImportOptions};
use waygate_core::model::{ApiKeyLocation, AuthSpec};
use waygate_core::{Connection, Credential, IntegrationDef, UrlPolicy, Waygate};

fn figma(base_url: &str) -> IntegrationDef {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/openapi/figma/openapi.yaml"
    );
    let options = ImportOptions {
        base_url: Some(base_url.to_owned()),
        slug: Some("figma".into()),
        ..ImportOptions::default()
    };
    import::from_file(path, &options).unwrap().integration
}

fn oauth2_tokens(access: &str) -> Credential {
    serde_json::from_value(json!({"type": "oauth2_tokens", "clientId": "c",
        "clientSecret": "s", "accessToken": access}))
    .unwrap()
}

#[test]
fn the_import_keeps_every_scheme_and_each_operations_choice() {
    let def = figma("https://api.figma.com");
    assert!(
        matches!(def.auth, AuthSpec::Oauth2 { .. }),
        "{:?}",
        def.auth
    );
    let names: Vec<&str> = def.auth_schemes.keys().map(String::as_str).collect();
    assert_eq!(names, ["OrgOAuth2", "PersonalAccessToken"]);
    assert_eq!(
        def.auth_schemes["PersonalAccessToken"],
        AuthSpec::ApiKey {
            location: ApiKeyLocation::Header,
            name: "X-Figma-Token".into(),
            prefix: None
        }
    );
    let action = |slug: &str| def.action(slug).unwrap();
    assert_eq!(
        action("getFile").auth_schemes,
        ["PersonalAccessToken", "default"]
    );
    assert_eq!(action("getActivityLogs").auth_schemes, ["OrgOAuth2"]);
    assert!(!action("getFile").metadata.contains_key("security"));
    waygate_core::model::check(&def).unwrap();
    let back = IntegrationDef::from_json(&def.to_json()).unwrap();
    assert_eq!(back, def, "authSchemes survive the definition format");
}

#[tokio::test]
async fn each_connection_sends_with_its_own_scheme() {
    let upstream = Upstream::start().await;
    let waygate = Waygate::builder()
        .url_policy(UrlPolicy::strict().allow_loopback())
        .integration(figma(&upstream.url()))
        // No scheme named: an API key suits only the personal token scheme.
        .connection(
            "figma",
            Connection::new("token", Credential::api_key("figd-1")),
        )
        // No scheme named: a token suits the default, OAuth2.
        .connection(
            "figma",
            Connection::new("oauth", oauth2_tokens("oauth-token")),
        )
        .connection(
            "figma",
            Connection::new("org", Credential::bearer("org-token")).with_auth_scheme("OrgOAuth2"),
        )
        .build()
        .unwrap();

    for connection in ["token", "oauth"] {
        waygate
            .invoke("figma.getMe", json!({}))
            .connection(connection)
            .await
            .unwrap();
    }
    waygate
        .invoke("figma.getActivityLogs", json!({}))
        .connection("org")
        .await
        .unwrap();
    let seen: Vec<(String, Option<String>, Option<String>)> = upstream
        .received()
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.header("x-figma-token").map(str::to_owned),
                r.header("authorization").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/v1/me".into(), Some("figd-1".into()), None),
            ("/v1/me".into(), None, Some("Bearer oauth-token".into())),
            (
                "/v1/activity_logs".into(),
                None,
                Some("Bearer org-token".into())
            ),
        ]
    );

    // An action that accepts only another scheme is refused before sending.
    let e = waygate
        .invoke("figma.getActivityLogs", json!({}))
        .connection("token")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CONFIGURATION_ERROR");
    assert!(
        e.to_string().contains("accepts the auth schemes OrgOAuth2")
            && e.to_string().contains("uses 'PersonalAccessToken'"),
        "{e}"
    );
    assert_eq!(upstream.received().len(), 3);
}

#[test]
fn an_unknown_scheme_or_a_credential_that_fits_none_fails_at_build() {
    let build = |connection: Connection| {
        Waygate::builder()
            .integration(figma("https://api.figma.com"))
            .connection("figma", connection)
            .build()
            .unwrap_err()
    };
    let e = build(Connection::new("x", Credential::api_key("k")).with_auth_scheme("Nope"));
    assert_eq!(e.code(), "CONFIGURATION_ERROR");
    let text = e.to_string();
    assert!(
        text.contains("connection 'x' of integration 'figma'")
            && text.contains("auth scheme 'Nope' is not one of the integration's")
            && text.contains("PersonalAccessToken (api_key)"),
        "{text}"
    );
    let basic = Credential::Basic {
        username: "u".into(),
        password: "p".to_owned().into(),
    };
    let e = build(Connection::new("y", basic.clone()));
    assert!(
        e.to_string()
            .contains("a basic credential fits none of the integration's auth schemes"),
        "{e}"
    );
    // A named scheme must suit the credential, not only exist.
    let e = build(Connection::new("z", basic).with_auth_scheme("PersonalAccessToken"));
    assert!(
        e.to_string().contains(
            "a basic credential does not suit the auth scheme 'PersonalAccessToken' (api_key)"
        ),
        "{e}"
    );
    // Naming the token scheme for an API key is the same as letting it be chosen.
    Waygate::builder()
        .integration(figma("https://api.figma.com"))
        .connection(
            "figma",
            Connection::default_with(Credential::api_key("k"))
                .with_auth_scheme("PersonalAccessToken"),
        )
        .build()
        .unwrap();
}
