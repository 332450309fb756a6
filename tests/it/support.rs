//! Running the real `waygate serve` for a test, and a scripted upstream API.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The operator key the test servers are started with.
pub(crate) const ADMIN_KEY: &str = "test-operator-key-0123456789abcdef";

/// The path of a vendor spec in `../shared/fixtures/openapi`.
pub(crate) fn openapi_fixture(relative: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/openapi")
        .join(relative)
}

/// The text of a vendor spec in `../shared/fixtures/openapi`.
pub(crate) fn openapi_fixture_text(relative: &str) -> String {
    std::fs::read_to_string(openapi_fixture(relative)).unwrap()
}

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("waygate-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `waygate serve` process on 127.0.0.1, killed when dropped.
pub(crate) struct Gateway {
    child: Option<Child>,
    /// The variables it was started with, kept for [`Gateway::restart`].
    env: Vec<(String, String)>,
    pub(crate) url: String,
    pub(crate) dir: TempDir,
    pub(crate) client: reqwest::Client,
}

impl Gateway {
    /// Starts a gateway with its own data dir; `env` adds or overrides variables.
    pub(crate) fn start(env: &[(&str, &str)]) -> Self {
        Self::start_in(TempDir::new("gateway"), env)
    }

    /// Starts a gateway on the data dir and variables of an earlier one
    /// (stopped or killed).
    pub(crate) fn restart(mut self) -> Self {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, TempDir(PathBuf::new()));
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Self::start_in(dir, &env)
    }

    fn start_in(dir: TempDir, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_waygate"));
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.0.join("data"))
            .env_remove("WAYGATE_DATABASE_URL")
            .env_remove("WAYGATE_MASTER_KEY")
            .env("WAYGATE_ADMIN_KEY", ADMIN_KEY)
            .env("WAYGATE_TENANT_RATE_LIMIT", "0")
            .env("WAYGATE_ALLOW_PRIVATE_NETWORKS", "1")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.0.join("server.log"))
                    .unwrap(),
            );
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("waygate listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "no URL in {line:?}; log: {}",
                    std::fs::read_to_string(dir.0.join("server.log")).unwrap_or_default()
                )
            })
            .to_owned();
        Self {
            child: Some(child),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            url,
            dir,
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request with a bearer key; returns the status and the JSON body
    /// (`Value::Null` when the body is empty).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, body)
    }

    /// GETs `path` without a key and expects 200; returns the body as text.
    pub(crate) async fn text(&self, path: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// The server process's id (to read its memory use).
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server runs").id()
    }

    /// GETs `/metrics` with the operator key and expects 200; returns the text.
    pub(crate) async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.url))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "/metrics");
        response.text().await.unwrap()
    }

    /// POSTs `body` to `path` and expects 201 Created; returns the answer.
    pub(crate) async fn created(&self, path: &str, key: &str, body: Value) -> Value {
        let (status, answer) = self.call(Method::POST, path, key, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
        answer
    }

    /// Creates a tenant with the operator key; returns its id and API key.
    pub(crate) async fn tenant(&self, name: &str) -> (String, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/tenants",
                ADMIN_KEY,
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["tenant"]["id"].as_str().unwrap().to_owned(),
            body["apiKey"].as_str().unwrap().to_owned(),
        )
    }

    /// Sends SIGTERM (graceful shutdown begins) without waiting.
    pub(crate) fn terminate(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
    }

    /// Stops the server with SIGTERM (graceful: logs are flushed) and waits.
    pub(crate) fn stop(&mut self) {
        self.terminate();
        if let Some(mut child) = self.child.take() {
            for _ in 0..100 {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server with SIGKILL, as a crash would: nothing is flushed.
    pub(crate) fn kill(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status();
        }
    }

    /// What the server wrote on stderr so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Serves `router` on 127.0.0.1:0 in the background; returns its base URL.
pub(crate) async fn serve_upstream(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

/// A fresh PostgreSQL database for one test, dropped at the end.
pub(crate) struct PgDatabase {
    admin: String,
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

impl PgDatabase {
    /// Creates it on the server `admin` connects to.
    pub(crate) fn create(admin: &str) -> Self {
        let name = format!("waygate_it_{}", uuid::Uuid::new_v4().simple());
        psql(admin, &format!("CREATE DATABASE {name}"));
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Self {
            admin: admin.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

/// A master key for gateways on PostgreSQL (which keeps no key file of its own).
pub(crate) const PG_MASTER_KEY: &str = "q83vEjKkZ2b3Jl3Q2m6t5lUo1sKq4o1Yc9b7m4d2e8w=";

/// A gateway on a fresh database of the PostgreSQL server named by
/// `WAYGATE_TEST_POSTGRES_URL`, or `None` (saying so) when it is not set.
/// The gateway comes first so that it stops before its database is dropped.
pub(crate) fn postgres_gateway() -> Option<(Gateway, PgDatabase)> {
    let Ok(admin) = std::env::var("WAYGATE_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set WAYGATE_TEST_POSTGRES_URL to a PostgreSQL server (.ci/run does)");
        return None;
    };
    let db = PgDatabase::create(&admin);
    let gw = Gateway::start(&[
        ("WAYGATE_DATABASE_URL", db.url.as_str()),
        ("WAYGATE_MASTER_KEY", PG_MASTER_KEY),
    ]);
    Some((gw, db))
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-qc", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql: {sql}");
}

/// `../shared` beside the repository (tools and fixtures).
pub(crate) fn shared() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    assert!(
        dir.join("tools/docsite.py").is_file(),
        "../shared/tools/docsite.py is missing beside the repository"
    );
    dir
}

/// A Python HTTP server serving a folder on a free loopback port, killed
/// when dropped: docsite.py (Markdown as an HTML site) or `http.server`
/// (the files as they are).
pub(crate) struct DocSite(Child, pub(crate) String);

impl DocSite {
    /// docsite.py serving `dir`; waits until it answers.
    pub(crate) fn start(dir: &std::path::Path) -> Self {
        Self::spawn("docsite.py", |port| {
            let mut command = Command::new("python3");
            command
                .arg(shared().join("tools/docsite.py"))
                .arg(dir)
                .arg(port.to_string());
            command
        })
    }

    /// Python's `http.server` serving `dir`; waits until it answers.
    pub(crate) fn files(dir: &std::path::Path) -> Self {
        Self::spawn("http.server", |port| {
            let mut command = Command::new("python3");
            command
                .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
                .arg(dir)
                .arg(port.to_string());
            command
        })
    }

    fn spawn(what: &str, command: impl FnOnce(u16) -> Command) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command(port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{what} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for DocSite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A folder holding these pages of the OpenSearch docs fixture (paths below
/// `docs-2024-12`), for [`DocSite`] to serve.
pub(crate) fn opensearch_pages(pages: &[&str]) -> TempDir {
    let docs = shared().join("fixtures/docs/opensearch/docs-2024-12");
    let site = TempDir::new("docsite");
    for page in pages {
        let to = site.0.join(page);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(docs.join(page), to).unwrap();
    }
    site
}
