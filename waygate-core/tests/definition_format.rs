//! The "config as code" format of API.md: read, checked, and written back
//! unchanged in JSON and YAML.

use waygate_core::IntegrationDef;
use waygate_core::model::{
    ApiKeyLocation, AuthSpec, BodyEncoding, PaginationStrategy, ParamLocation, check,
};

/// API.md's example definition, with its elisions filled in.
const API_MD_EXAMPLE: &str = r#"
slug: chaos                     # [a-z0-9-]+, unique per tenant
name: Chaos API
baseUrl: http://127.0.0.1:9000
auth:
  type: oauth2
  flows: [authorization_code, client_credentials]
  authorizationUrl: https://auth.example.com/authorize
  tokenUrl: https://auth.example.com/token
  scopes: [chat:write]
  pkce: true
defaults:
  timeoutMs: 30000
  retry: {maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 30000}
  circuitBreaker: {failureThreshold: 5, windowMs: 30000, openMs: 60000}
  rateLimit: {requestsPerSecond: 10, burst: 10}
tags: [communication]
actions:
  - slug: chat_postMessage
    name: Post a message
    description: Posts a message to a channel.
    group: chat
    method: POST
    path: /chat.postMessage/{channel_id}
    parameters:
      - {name: channel_id, in: path}
      - {name: limit, in: query}
    body: {encoding: json}
    inputSchema:
      type: object
      required: [channel_id, text]
      properties:
        channel_id: {type: string}
        limit: {type: integer}
        text: {type: string}
    outputSchema: {type: object, properties: {ok: {type: boolean}}}
    pagination:
      strategy: cursor
      itemsPath: /members
      cursorPath: /response_metadata/next_cursor
      cursorParam: cursor
    retry: {maxAttempts: 5}
    cache: {ttlSeconds: 300}
    validation: warn
    idempotent: false
"#;

#[test]
fn the_api_md_example_reads_checks_and_round_trips() {
    let def = IntegrationDef::from_yaml(API_MD_EXAMPLE).unwrap();
    // The example shows every key on one action, caching a message post among
    // them: the one thing the runtime refuses (decision 76).
    let problems = check(&def).unwrap_err().problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "actions[0].cache");
    assert!(
        matches!(&def.auth, AuthSpec::Oauth2 { pkce: true, scopes, .. } if scopes == &["chat:write"])
    );
    let action = def.action("chat_postMessage").unwrap();
    assert_eq!(action.parameters[0].location, ParamLocation::Path);
    assert_eq!(action.body.as_ref().unwrap().encoding, BodyEncoding::Json);
    assert_eq!(
        action.pagination.as_ref().unwrap().strategy,
        PaginationStrategy::Cursor
    );
    assert_eq!(action.retry.unwrap().max_attempts, Some(5));
    assert_eq!(def.defaults.rate_limit.unwrap().burst, Some(10));

    let json = def.to_json();
    assert_eq!(IntegrationDef::from_json(&json).unwrap(), def);
    let yaml = def.to_yaml().unwrap();
    assert_eq!(IntegrationDef::from_yaml(&yaml).unwrap(), def);
    // Written keys are the contract's camelCase names.
    for key in [
        "\"baseUrl\"",
        "\"authorizationUrl\"",
        "\"inputSchema\"",
        "\"cursorParam\"",
        "\"ttlSeconds\"",
    ] {
        assert!(json.contains(key), "{key} missing from {json}");
    }
}

#[test]
fn every_auth_type_round_trips() {
    for auth in [
        "{type: none}",
        "{type: api_key, in: query, name: key}",
        "{type: api_key, in: header, name: Authorization, prefix: 'Token '}",
        "{type: basic}",
        "{type: bearer}",
        "{type: custom_headers, headers: [X-App-Id]}",
    ] {
        let def = IntegrationDef::from_yaml(&format!("slug: a\nname: A\nauth: {auth}\n")).unwrap();
        assert_eq!(
            IntegrationDef::from_json(&def.to_json()).unwrap(),
            def,
            "{auth}"
        );
    }
    let def = IntegrationDef::from_yaml(
        "slug: a\nname: A\nauth: {type: api_key, in: cookie, name: sid}\n",
    )
    .unwrap();
    assert!(matches!(
        def.auth,
        AuthSpec::ApiKey {
            location: ApiKeyLocation::Cookie,
            ..
        }
    ));
}

#[test]
fn a_typo_is_an_error_with_its_location() {
    let err = IntegrationDef::from_yaml("slug: a\nname: A\nactions:\n  - slug: x\n    method: GET\n    path: /x\n    inputschema: {}\n")
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown field `inputschema`"),
        "{err}"
    );
    assert_eq!(err.line(), Some(7), "the line of the unknown key");
    let err = IntegrationDef::from_json("{\"slug\": \"a\", \"name\": 5}").unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid type: integer `5`, expected a string"),
        "{err}"
    );
    assert_eq!((err.line(), err.column()), (Some(1), Some(23)));
}
