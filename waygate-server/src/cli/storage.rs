//! Where the gateway keeps its data: `--data-dir` and `--database-url`, as
//! API.md's environment table describes them.

use std::path::PathBuf;

use waygate_store::Store;

/// The SQLite file inside the data directory, the embedded default.
const SQLITE_FILE: &str = "waygate.db";

/// Storage options shared by the commands that open the database.
#[derive(Debug, clap::Args)]
pub(super) struct StorageArgs {
    /// Directory for the SQLite file and the generated master key.
    #[arg(long, env = "WAYGATE_DATA_DIR", default_value = "./waygate-data")]
    data_dir: PathBuf,
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

    /// Opens the database, applying pending migrations.
    ///
    /// # Errors
    /// One line: what failed and why.
    pub(super) async fn open(&self) -> Result<Store, String> {
        Store::open(&self.url()).await.map_err(|e| with_causes(&e))
    }
}

/// An error and its causes on one line.
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text.replace('\n', " ")
}
