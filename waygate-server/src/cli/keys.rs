//! `waygate keys rotate`: re-encrypts every stored credential under a new
//! master key, so that a crash at any point loses nothing.
//!
//! With the key in the data directory, the store does the whole rotation
//! (`master.key.next`, one re-encrypting transaction, rename). With
//! `WAYGATE_MASTER_KEY` set, the new key cannot be written anywhere the
//! gateway reads it: it is printed first, before anything changes, for the
//! operator to put into their secret store.

use std::io::Write as _;

use clap::Subcommand;
use waygate_store::{MASTER_KEY_ENV, MasterKey};

use super::storage::StorageArgs;
use crate::app::causes;

/// Options of `waygate keys`.
#[derive(Debug, clap::Args)]
pub(super) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Re-encrypt every stored credential under a new, random master key.
    ///
    /// With the key in the data directory (master.key), the new key replaces
    /// it; an interrupted rotation is finished by the next start or rotation.
    /// With WAYGATE_MASTER_KEY set, the new key is printed on stdout, before
    /// anything changes: put it into your secret store as WAYGATE_MASTER_KEY
    /// and restart every gateway. Gateways still running with the old key
    /// cannot read rotated credentials until they restart.
    Rotate(StorageArgs),
}

/// Runs `waygate keys …`.
pub(super) async fn run(args: KeysArgs) -> Result<(), String> {
    match args.command {
        KeysCommand::Rotate(storage) => rotate(storage).await,
    }
}

async fn rotate(args: StorageArgs) -> Result<(), String> {
    let store = args.open().await?;
    let result = if std::env::var_os(MASTER_KEY_ENV).is_some() {
        rotate_environment_key(&args, &store).await
    } else {
        let count = store
            .rotate_key_file(args.data_dir())
            .await
            .map_err(|e| causes(&e))?;
        println!(
            "re-encrypted {count} sealed rows under a new master key in {}; restart running gateways so they load it",
            args.data_dir()
                .join(waygate_store::MASTER_KEY_FILE)
                .display()
        );
        Ok(())
    };
    store.close().await.map_err(|e| causes(&e))?;
    result
}

/// The key lives in the operator's secret store: print the new one first (a
/// crash after the re-encryption must not lose it), then re-encrypt.
async fn rotate_environment_key(
    args: &StorageArgs,
    store: &waygate_store::Store,
) -> Result<(), String> {
    store
        .unlock(args.data_dir())
        .await
        .map_err(|e| causes(&e))?;
    let new_key = MasterKey::generate();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", &*new_key.to_base64())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot print the new master key, nothing was changed: {e}"))?;
    }
    eprintln!(
        "{MASTER_KEY_ENV} is set, so the new master key (id {}) is printed above and stored nowhere: put it into your secret store as {MASTER_KEY_ENV} and restart every gateway",
        new_key.id()
    );
    let count = store.rotate_keys(new_key).await.map_err(|e| {
        format!(
            "re-encrypting failed, nothing was changed (the database still uses the current key; discard the printed key): {}",
            causes(&e)
        )
    })?;
    eprintln!("re-encrypted {count} sealed rows under the new master key");
    Ok(())
}
