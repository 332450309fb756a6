//! `Waygate::builder().build()` checks what it promises: a connection whose
//! credential cannot work with its integration's auth fails there, not at the
//! first call.

use serde_json::json;
use waygate_core::{Connection, Credential, IntegrationDef, Waygate};

fn integration(auth: serde_json::Value) -> IntegrationDef {
    IntegrationDef::from_json(
        &json!({"slug": "crm", "name": "CRM", "baseUrl": "https://crm.example.com",
                "auth": auth,
                "actions": [{"slug": "get", "method": "GET", "path": "/x"}]})
        .to_string(),
    )
    .unwrap()
}

fn oauth2() -> serde_json::Value {
    json!({"type": "oauth2", "flows": ["authorization_code"],
           "authorizationUrl": "https://crm.example.com/authorize",
           "tokenUrl": "https://crm.example.com/token"})
}

fn build(auth: serde_json::Value, credential: Credential) -> Result<Waygate, waygate_core::Error> {
    Waygate::builder()
        .integration(integration(auth))
        .connection("crm", Connection::default_with(credential))
        .build()
}

#[test]
fn an_api_key_on_an_oauth2_integration_fails_at_build_naming_the_connection() {
    let e = build(oauth2(), Credential::api_key("k")).unwrap_err();
    assert_eq!(e.code(), "CONFIGURATION_ERROR");
    let text = e.to_string();
    assert!(
        text.contains("connection 'default' of integration 'crm'")
            && text.contains("api_key auth spec"),
        "{text}"
    );
}

#[test]
fn no_credential_where_one_is_expected_fails_at_build() {
    let e = build(json!({"type": "bearer"}), Credential::None).unwrap_err();
    assert_eq!(e.code(), "CREDENTIALS_ERROR", "{e}");
}

#[test]
fn fitting_credentials_build_and_a_late_misfit_is_refused_too() {
    let waygate = build(oauth2(), Credential::bearer("static-token")).expect("a token fits OAuth2");
    build(json!({"type": "none"}), Credential::None).expect("no auth, no credential");
    let e = waygate
        .put_connection("crm", Connection::new("other", Credential::api_key("k")))
        .unwrap_err();
    assert_eq!(e.code(), "CONFIGURATION_ERROR", "{e}");
}

/// A typed action of the `crm` integration that a test forgets to register.
#[cfg(feature = "derive")]
#[derive(
    waygate_core::serde::Serialize, waygate_core::schemars::JsonSchema, waygate_core::Action,
)]
#[serde(crate = "waygate_core::serde")]
#[schemars(crate = "waygate_core::schemars")]
#[action(integration = "crm", name = "archive", method = "post", path = "/archive/{id}", output = serde_json::Value)]
struct Archive {
    #[action(path)]
    id: String,
}

#[cfg(feature = "derive")]
#[tokio::test]
async fn a_typed_action_left_unregistered_says_how_to_register_it() {
    let waygate = build(json!({"type": "bearer"}), Credential::bearer("t")).unwrap();
    let e = waygate.call(Archive { id: "1".into() }).await.unwrap_err();
    assert_eq!(e.code(), "NOT_FOUND");
    assert_eq!(
        e.to_string(),
        "typed action 'crm.archive' (the type embedded_build::Archive was never registered: \
         add .action::<embedded_build::Archive>() to Waygate::builder()) not found"
    );

    // Its integration missing too: both are named.
    let waygate = Waygate::builder().build().unwrap();
    let e = waygate.call(Archive { id: "1".into() }).await.unwrap_err();
    assert_eq!(e.code(), "NOT_FOUND");
    let text = e.to_string();
    assert!(
        text.starts_with("integration 'crm' of typed action 'crm.archive'")
            && text.contains(".integration(def)")
            && text.contains(".action::<embedded_build::Archive>()"),
        "{text}"
    );
}
