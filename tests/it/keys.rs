//! `waygate keys rotate`: the real binary re-encrypts a data directory's
//! credentials under a new master key, and no file there holds the secret.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use waygate_core::IntegrationDef;
use waygate_core::credential::{Connection, Credential};
use waygate_core::model::ActionDef;
use waygate_store::{ErrorKind, MASTER_KEY_FILE, MASTER_KEY_NEXT_FILE, MasterKey, Store};

const SECRET: &str = "tok-CLI-ROTATION-SECRET-7f3a";

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("waygate-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("waygate.db").display())
}

/// A data directory holding one connection, sealed under `key` (or the
/// generated `master.key` when `None`).
async fn seed(dir: &Path, key: Option<MasterKey>) {
    let store = Store::open(&db_url(dir)).await.unwrap();
    match key {
        Some(key) => store.set_master_key(key),
        None => {
            store.unlock(dir).await.unwrap();
        }
    }
    store.create_tenant("t", "T").await.unwrap();
    let mut def = IntegrationDef::new("crm", "CRM");
    def.actions.push(ActionDef::new("a", "GET", "/a"));
    store.store_integration("t", &def).await.unwrap();
    store
        .store_connection(
            "t",
            "crm",
            &Connection::default_with(Credential::bearer(SECRET)),
        )
        .await
        .unwrap();
    store.close().await.unwrap();
}

fn rotate(dir: &Path, env_key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waygate"));
    cmd.args(["keys", "rotate", "--data-dir", &dir.display().to_string()])
        .env_remove("WAYGATE_DATABASE_URL")
        .env_remove("WAYGATE_MASTER_KEY");
    if let Some(key) = env_key {
        cmd.env("WAYGATE_MASTER_KEY", key);
    }
    cmd.output().unwrap()
}

async fn secret_under(dir: &Path, key: MasterKey) -> Result<String, waygate_store::Error> {
    let store = Store::open(&db_url(dir)).await.unwrap();
    store.set_master_key(key);
    let found = store.load_connection("t", "crm", "default").await;
    store.close().await.unwrap();
    // The credential as the vault holds it, secrets in clear.
    found.map(|c| c.unwrap().credential.to_vault_json().to_string())
}

fn key_file(dir: &Path) -> MasterKey {
    MasterKey::from_base64(&std::fs::read_to_string(dir.join(MASTER_KEY_FILE)).unwrap()).unwrap()
}

/// Every byte of every file in the directory.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn rotate_replaces_the_key_file_and_re_encrypts() {
    let dir = data_dir("rotate");
    seed(&dir, None).await;
    let old = key_file(&dir);
    let out = rotate(&dir, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("re-encrypted 1 sealed rows under a new master key"),
        "{stdout}"
    );
    let new = key_file(&dir);
    assert_ne!(new.id(), old.id());
    assert!(!dir.join(MASTER_KEY_NEXT_FILE).exists());
    assert!(secret_under(&dir, new).await.unwrap().contains(SECRET));
    let err = secret_under(&dir, old).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Crypto);
    let bytes = all_bytes(&dir);
    assert!(contains(&bytes, b"crm"), "the scan reads the database");
    assert!(
        !contains(&bytes, SECRET.as_bytes()),
        "the secret is in the data dir in clear"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn with_the_key_in_the_environment_the_new_key_is_printed() {
    let dir = data_dir("rotate-env");
    let old = MasterKey::generate();
    seed(&dir, Some(old.clone())).await;
    let out = rotate(&dir, Some(&old.to_base64()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "only the key on stdout: {stdout}"
    );
    let new = MasterKey::from_base64(stdout.trim()).unwrap();
    assert!(
        stderr.contains("put it into your secret store as WAYGATE_MASTER_KEY"),
        "{stderr}"
    );
    assert!(stderr.contains(new.id()), "{stderr}");
    assert!(
        !stderr.contains(&*new.to_base64()),
        "the key goes to stdout only"
    );
    assert!(
        secret_under(&dir, new.clone())
            .await
            .unwrap()
            .contains(SECRET)
    );
    assert!(secret_under(&dir, old).await.is_err());
    // Nothing is written where the gateway would read a key from.
    assert!(!dir.join(MASTER_KEY_FILE).exists());
    assert!(!dir.join(MASTER_KEY_NEXT_FILE).exists());
    assert!(!contains(&all_bytes(&dir), new.to_base64().as_bytes()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotate_explains_itself_and_fails_in_one_line() {
    let help = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["keys", "rotate", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("new, random master key"), "{text}");
    assert!(text.contains("--data-dir"), "{text}");
    assert!(text.contains("--database-url"), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_waygate"))
        .args(["keys", "rotate", "--database-url", "mysql://db/x"])
        .env_remove("WAYGATE_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("waygate: the database URL must start with"),
        "{err}"
    );
    let dir = data_dir("rotate-bad-key");
    let out = rotate(&dir, Some("not-a-key"));
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "no key is printed when nothing can change"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("waygate: WAYGATE_MASTER_KEY: the master key is not valid base64"),
        "{err}"
    );
    // The malformed key is refused before anything is created.
    assert!(!dir.exists());
}
