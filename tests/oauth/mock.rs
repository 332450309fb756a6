//! The OAuth 2 test server (`tests/oauth/server.js` on npm's
//! `oauth2-mock-server`) as a Rust handle: start it, configure it, read its
//! counts. Shared by the store's and the gateway's OAuth tests (`#[path]`).

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::{Value, json};

/// The Node process: OAuth server on `oauth`, control + protected API on `api`.
pub(crate) struct MockOAuth {
    child: Child,
    _stdin: ChildStdin,
    pub(crate) oauth: String,
    pub(crate) api: String,
    pub(crate) http: reqwest::Client,
}

impl MockOAuth {
    pub(crate) async fn start() -> Self {
        let modules = std::env::var("WAYGATE_OAUTH_MOCK_MODULES").unwrap_or_else(|_| {
            panic!("set WAYGATE_OAUTH_MOCK_MODULES to the node_modules holding oauth2-mock-server")
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/oauth/server.js");
        let mut child = Command::new("node")
            .arg(script)
            .env("WAYGATE_OAUTH_MOCK_MODULES", modules)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let ports: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("server.js printed {line:?}, not its addresses"));
        Self {
            child,
            _stdin: stdin,
            oauth: ports["oauth"].as_str().unwrap().to_owned(),
            api: ports["api"].as_str().unwrap().to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub(crate) async fn configure(&self, config: Value) {
        let r = self
            .http
            .post(format!("{}/config", self.api))
            .json(&config)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    pub(crate) async fn stats(&self) -> Value {
        let r = self.http.get(format!("{}/stats", self.api)).send().await;
        r.unwrap().json().await.unwrap()
    }

    /// The token request that exchanged an authorization code, if one came.
    pub(crate) async fn code_exchange(&self) -> Option<Value> {
        let stats = self.stats().await;
        stats["requests"]
            .as_array()?
            .iter()
            .find(|r| r["grant_type"] == "authorization_code")
            .cloned()
    }

    pub(crate) async fn count(&self, grant: &str) -> u64 {
        self.stats().await["counts"][grant].as_u64().unwrap_or(0)
    }

    /// An integration on this server: OAuth2 with PKCE, and one action that
    /// the protected API answers only with a valid token.
    pub(crate) fn definition(&self) -> Value {
        json!({
            "slug": "acme", "name": "Acme", "baseUrl": self.api,
            "auth": {"type": "oauth2", "flows": ["authorization_code", "client_credentials"],
                     "authorizationUrl": format!("{}/authorize", self.oauth),
                     "tokenUrl": format!("{}/token", self.oauth),
                     "scopes": ["read"], "pkce": true},
            "actions": [{"slug": "whoami", "method": "GET", "path": "/api/whoami"}]
        })
    }
}

impl Drop for MockOAuth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
