//! `waygate serve` as a newcomer meets it: the real binary, a real socket.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Kills the server when the test ends, even on failure.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_answers_healthz_on_the_printed_url() {
    let dir = crate::support::TempDir::new("first-run");
    let data = dir.0.join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("WAYGATE_DATABASE_URL")
        .env_remove("WAYGATE_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("waygate listening on ")
        .expect(&line)
        .to_owned();
    let health: serde_json::Value = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[test]
fn a_taken_address_fails_with_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["serve", "--addr", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("waygate: cannot listen on {addr}: ")),
        "{err}"
    );
}

#[test]
fn migrate_creates_the_sqlite_database_in_the_data_dir() {
    let dir = std::env::temp_dir().join(format!("waygate-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_waygate"))
            .args(["migrate", "--data-dir", &dir.display().to_string()])
            .env_remove("WAYGATE_DATABASE_URL")
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let out = run();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("is up to date (Sqlite)"));
    }
    assert!(dir.join("waygate.db").is_file());
    let bad = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["migrate", "--database-url", "mysql://nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8(bad.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("sqlite:// or postgres://"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
