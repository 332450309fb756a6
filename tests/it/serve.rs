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

/// Starts `waygate serve` on a data dir; returns the process, its URL and a
/// reader of its stderr (kept open so that the server never blocks on it).
fn start(data: &std::path::Path) -> (Running, String, std::process::ChildStderr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("WAYGATE_DATABASE_URL")
        .env_remove("WAYGATE_MASTER_KEY")
        .env_remove("WAYGATE_ADMIN_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("waygate listening on ")
        .expect(&line)
        .to_owned();
    (running, url, stderr)
}

#[tokio::test]
async fn first_run_creates_the_data_dir_key_and_database_and_says_so_once() {
    let dir = crate::support::TempDir::new("first-run");
    let data = dir.0.join("data");
    let (running, url, stderr) = start(&data);
    let health: serde_json::Value = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    drop(running);
    let warnings = std::io::read_to_string(stderr).unwrap();
    let lines: Vec<&str> = warnings.lines().collect();
    assert_eq!(lines.len(), 1, "{warnings}");
    assert!(
        lines[0].starts_with("waygate: generated a new master key in ")
            && lines[0].contains("back it up"),
        "{warnings}"
    );
    assert!(data.join("waygate.db").is_file());
    let key = data.join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The second start reuses the key, silently.
    let (running, _, stderr) = start(&data);
    drop(running);
    assert_eq!(std::io::read_to_string(stderr).unwrap(), "");
}

/// Runs `waygate serve` expecting a start-up failure; returns its stderr.
pub(crate) fn fails_to_start(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("WAYGATE_DATABASE_URL")
        .env_remove("WAYGATE_MASTER_KEY")
        .env_remove("WAYGATE_ADMIN_KEY")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8(out.stderr).unwrap()
}

/// Flags, environment, and what the one line of the failure must name.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn bad_configuration_fails_at_start_with_one_line() {
    let dir = crate::support::TempDir::new("bad-config");
    let data = dir.0.join("data").display().to_string();
    let file = dir.0.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let under_file = file.join("sub").display().to_string();
    let cases: [Case<'_>; 6] = [
        (
            vec!["--data-dir", &data],
            vec![("WAYGATE_MASTER_KEY", "not-base64!")],
            "WAYGATE_MASTER_KEY",
        ),
        (
            vec!["--data-dir", &data, "--database-url", "mysql://x/y"],
            vec![],
            "sqlite:// or postgres://",
        ),
        (
            vec![
                "--data-dir",
                &data,
                "--database-url",
                "postgres://nobody@127.0.0.1:1/none",
            ],
            vec![],
            "cannot open the Postgres database",
        ),
        (vec!["--data-dir", &under_file], vec![], "a-file"),
        (
            vec!["--data-dir", &data],
            vec![("WAYGATE_ADMIN_KEY", "short")],
            "WAYGATE_ADMIN_KEY must be at least",
        ),
        (
            vec!["--data-dir", &data],
            vec![
                ("WAYGATE_MAX_BODY_BYTES", "1048576"),
                ("WAYGATE_BODY_MEMORY_BYTES", "1000"),
            ],
            "must be at least the largest body accepted",
        ),
    ];
    for (args, env, expected) in cases {
        let err = fails_to_start(&args, &env);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("waygate: "), "{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
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
