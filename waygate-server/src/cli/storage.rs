//! Where the gateway keeps its data: `--data-dir` and `--database-url`, as
//! API.md's environment table describes them, and which tenant a command acts for.

use std::path::PathBuf;

use waygate_store::Store;

use crate::app::{causes, open_store};

/// The SQLite file inside the data directory, the embedded default.
const SQLITE_FILE: &str = "waygate.db";

/// Storage options shared by the commands that open the database.
#[derive(Debug, clap::Args)]
pub(super) struct StorageArgs {
    /// Directory for the SQLite file and the generated master key.
    #[arg(long, env = "WAYGATE_DATA_DIR", default_value = "./waygate-data")]
    pub(super) data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; SQLite in the data directory by default.
    #[arg(long, env = "WAYGATE_DATABASE_URL")]
    database_url: Option<String>,
}

impl StorageArgs {
    /// The database URL in use.
    pub(super) fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join(SQLITE_FILE).display()))
    }

    /// The data directory (the SQLite file and the master key file).
    pub(super) fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Opens the database (applying pending migrations) without a master key:
    /// for commands that touch no credential.
    ///
    /// # Errors
    /// One line: what failed and why.
    pub(super) async fn open_unkeyed(&self) -> Result<Store, String> {
        Store::open(&self.url()).await.map_err(|e| causes(&e))
    }

    /// Opens the database with its master key (generated on first run).
    ///
    /// # Errors
    /// One line: what failed and why.
    pub(super) async fn open(&self) -> Result<Store, String> {
        open_store(&self.url(), &self.data_dir).await
    }
}

/// The tenant a command acts for: the one named, else the only one there is.
///
/// # Errors
/// When the named tenant does not exist, or none is named and there is not exactly one.
pub(super) async fn tenant(store: &Store, named: Option<String>) -> Result<String, String> {
    if let Some(id) = named {
        return match store.tenant(&id).await.map_err(|e| causes(&e))? {
            Some(_) => Ok(id),
            None => Err(format!("tenant '{id}' does not exist")),
        };
    }
    let all = store.list_tenants().await.map_err(|e| causes(&e))?;
    match all.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => Err("there is no tenant yet: create one with `waygate tenant create NAME`".into()),
        _ => Err(format!(
            "there are {} tenants: name one with --tenant",
            all.len()
        )),
    }
}
