//! Master key rotation, and unlocking a store at start so that an interrupted
//! rotation is finished, never lost.
//!
//! A rotation of a file-kept key goes:
//! 1. the new key is written durably to `master.key.next` (0600);
//! 2. every vault-sealed row is re-encrypted under it, in one transaction (the
//!    keyring holds both keys; each envelope's key id picks the one that opens it);
//! 3. `master.key.next` is renamed over `master.key`.
//!
//! A crash before 2 commits leaves rows under the old key, after it rows under
//! the new one; either way both key files are there, and [`Store::unlock`]
//! loads both, re-encrypts whatever is not under the new key yet and completes
//! step 3. A crash after 3 leaves nothing to do.

use std::path::Path;

use sea_orm::Value;

use crate::db::{self, get};
use crate::error::{Error, ErrorKind, Result};
use crate::keyfile;
use crate::store::Store;
use crate::vault::{Envelope, KeySource, Keyring, MASTER_KEY_ENV, MasterKey};

/// A table whose rows hold a vault envelope (`key_id`, `nonce`, `ciphertext`)
/// bound to `(tenant_id, row id)`. Every such table is listed in [`SEALED`]:
/// a table missing here would keep rows only the old key opens.
struct Sealed {
    table: &'static str,
    /// The column whose value is the row id in the associated data.
    id_column: &'static str,
    /// The SQL expression of the tenant in the associated data (server-wide
    /// rows have none: the empty string).
    tenant: &'static str,
    id: RowId,
    /// What a row is, for error messages.
    what: &'static str,
}

/// How a row's id column becomes the row id sealed into its envelope.
enum RowId {
    /// A text column, as it is.
    Text,
    /// An OAuth state's digest, as [`crate::oauth_states::row_id`] names it.
    OAuthState,
}

const SEALED: &[Sealed] = &[
    Sealed {
        table: "credentials",
        id_column: "id",
        tenant: "tenant_id",
        id: RowId::Text,
        what: "credential",
    },
    Sealed {
        table: "oauth_states",
        id_column: "state_digest",
        tenant: "tenant_id",
        id: RowId::OAuthState,
        what: "OAuth state",
    },
    Sealed {
        table: "server_secrets",
        id_column: "name",
        tenant: "''",
        id: RowId::Text,
        what: "server secret",
    },
];

impl Store {
    /// Re-encrypts every vault-sealed row (credentials, OAuth states) that is
    /// not under `new_key` yet, in one transaction, then makes `new_key` this
    /// store's current key (the old ones still decrypt, for rows written by
    /// processes that have not switched yet). Returns how many rows were re-encrypted.
    ///
    /// Running it again with the same key re-encrypts nothing: a rotation can
    /// be repeated until it succeeds. Other replicas must be given the new key
    /// before they read a rotated row. For a key kept in the data directory,
    /// use [`Store::rotate_key_file`], which also survives a crash.
    ///
    /// # Errors
    /// [`ErrorKind::Crypto`] when a row does not decrypt with a known key,
    /// [`ErrorKind::Config`] when no master key is set: then nothing is changed.
    pub async fn rotate_keys(&self, new_key: MasterKey) -> Result<u64> {
        let next = self.keyring()?.rotated(new_key);
        let context = "rotating the master key";
        let tx = db::write_transaction(self.db(), context).await?;
        let mut count = 0;
        for sealed in SEALED {
            count += reseal(&tx, &next, sealed).await?;
        }
        tx.commit().await.map_err(|e| Error::db(context, e))?;
        self.replace_keyring(next);
        Ok(count)
    }

    /// Sets this store's master key at start: `WAYGATE_MASTER_KEY` when set,
    /// else `data_dir/master.key` (generated there, mode 0600, on first use).
    ///
    /// When `data_dir/master.key.next` exists, a rotation was interrupted: both
    /// keys are loaded (so the database decrypts whichever state it is in), every
    /// row not yet under the next key is re-encrypted, and the next key file
    /// replaces `master.key`; the source is then [`KeySource::RotationFinished`].
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a malformed or unreadable key or key file;
    /// [`ErrorKind::Crypto`] or [`ErrorKind::Unavailable`] when an interrupted
    /// rotation cannot be finished (both key files are then left as they are).
    pub async fn unlock(&self, data_dir: &Path) -> Result<KeySource> {
        if let Some(key) = MasterKey::from_env()? {
            self.set_master_key(key);
            return Ok(KeySource::Environment);
        }
        self.unlock_file(data_dir).await
    }

    /// Rotates the master key kept in `data_dir` (see the module's steps):
    /// generates a new key, re-encrypts every sealed row under it and replaces
    /// `master.key`, finishing an interrupted rotation first. Returns how many
    /// rows were re-encrypted. A crash at any point loses nothing: the next
    /// [`Store::unlock`] (or rotation) completes the work.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `WAYGATE_MASTER_KEY` is set (the key is not
    /// kept in a file: use [`Store::rotate_keys`]) or the key files cannot be
    /// read or written; [`ErrorKind::Conflict`] when another rotation is
    /// running; as [`Store::rotate_keys`] otherwise, with `master.key.next` kept
    /// for the next start to finish.
    pub async fn rotate_key_file(&self, data_dir: &Path) -> Result<u64> {
        if std::env::var_os(MASTER_KEY_ENV).is_some() {
            return Err(Error::new(
                ErrorKind::Config,
                format!("{MASTER_KEY_ENV} is set: the master key is not kept in a file"),
            ));
        }
        let finished = match self.unlock_file(data_dir).await? {
            KeySource::RotationFinished { reencrypted, .. } => reencrypted,
            _ => 0,
        };
        let new_key = MasterKey::generate();
        keyfile::create_next(data_dir, &new_key)?;
        let count = self.rotate_keys(new_key.clone()).await.map_err(|e| {
            Error::new(
                e.kind(),
                format!(
                    "the master key rotation did not finish ({e}); {} is kept and the next start finishes it",
                    keyfile::next_path(data_dir).display()
                ),
            )
        })?;
        keyfile::promote_next(data_dir, &new_key)?;
        Ok(finished + count)
    }

    /// [`Store::unlock`] from the key files only.
    async fn unlock_file(&self, data_dir: &Path) -> Result<KeySource> {
        let current_path = keyfile::current_path(data_dir);
        let Some(next) = keyfile::read(&keyfile::next_path(data_dir))? else {
            let (key, generated) = MasterKey::load_or_generate(data_dir)?;
            self.set_master_key(key);
            return Ok(if generated {
                KeySource::Generated(current_path)
            } else {
                KeySource::File(current_path)
            });
        };
        let ring = match keyfile::read(&current_path)? {
            Some(current) => Keyring::new(current).with_decrypt_key(next.clone()),
            // Someone removed master.key: whatever it sealed is lost already;
            // the rows under the next key are not.
            None => Keyring::new(next.clone()),
        };
        self.replace_keyring(ring);
        let reencrypted = self.rotate_keys(next.clone()).await.map_err(|e| {
            Error::new(
                e.kind(),
                format!(
                    "cannot finish the interrupted master key rotation ({} is present): {e}",
                    keyfile::next_path(data_dir).display()
                ),
            )
        })?;
        keyfile::promote_next(data_dir, &next)?;
        Ok(KeySource::RotationFinished {
            path: current_path,
            reencrypted,
        })
    }
}

/// Re-encrypts the rows of one sealed table that are not under the ring's current key.
async fn reseal(tx: &sea_orm::DatabaseTransaction, ring: &Keyring, sealed: &Sealed) -> Result<u64> {
    let context = format!("re-encrypting {}s", sealed.what);
    let Sealed {
        table,
        id_column,
        tenant,
        ..
    } = sealed;
    let rows = db::all(
        tx,
        &context,
        &format!(
            "SELECT {id_column} AS row_key, {tenant} AS tenant_id, key_id, nonce, ciphertext FROM {table} WHERE key_id <> $1"
        ),
        vec![ring.current_id().into()],
    )
    .await?;
    let mut count = 0;
    for row in &rows {
        let tenant: String = get(row, "tenant_id")?;
        let (key, row_id, label): (Value, String, String) = match sealed.id {
            RowId::Text => {
                let id: String = get(row, "row_key")?;
                (id.clone().into(), id.clone(), format!(" {id}"))
            }
            RowId::OAuthState => {
                let digest: Vec<u8> = get(row, "row_key")?;
                let id = crate::oauth_states::row_id(&digest);
                (digest.into(), id, String::new())
            }
        };
        let envelope = Envelope {
            key_id: get(row, "key_id")?,
            nonce: get(row, "nonce")?,
            ciphertext: get(row, "ciphertext")?,
        };
        let plain = ring.open(&tenant, &row_id, &envelope).map_err(|e| {
            Error::new(
                ErrorKind::Crypto,
                format!(
                    "{}{label} of tenant '{tenant}' cannot be re-encrypted: {e}",
                    sealed.what
                ),
            )
        })?;
        let resealed = ring.seal(&tenant, &row_id, &plain)?;
        db::exec(
            tx,
            &context,
            &format!(
                "UPDATE {table} SET key_id = $2, nonce = $3, ciphertext = $4 WHERE {id_column} = $1"
            ),
            vec![
                key,
                resealed.key_id.into(),
                resealed.nonce.into(),
                resealed.ciphertext.into(),
            ],
        )
        .await?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use secrecy::ExposeSecret as _;
    use waygate_core::oauth2::PkceVerifier;

    use super::*;
    use crate::oauth_states::{PendingAuthorization, StateOutcome};

    /// Every sealed table survives a rotation: a pending OAuth state still
    /// opens with its verifier, and the API key pepper still verifies the keys
    /// issued before (a store that has only the new key reads both).
    #[tokio::test]
    async fn oauth_states_and_the_pepper_are_re_encrypted() {
        let dir = std::env::temp_dir().join(format!("waygate-rot-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("w.db").display());
        let store = Store::open(&url).await.unwrap();
        store.set_master_key(MasterKey::generate());
        store.create_tenant("t", "T").await.unwrap();
        let pepper = store.api_key_pepper().await.unwrap();
        let issued = store.issue_api_key("t", "k", &pepper).await.unwrap();
        let def = waygate_core::IntegrationDef::new("crm", "CRM");
        store.store_integration("t", &def).await.unwrap();
        let verifier = PkceVerifier::generate();
        let pending = PendingAuthorization {
            tenant: "t".into(),
            integration: "crm".into(),
            connection: "default".into(),
            redirect_uri: "https://gw.example/oauth/callback".into(),
            verifier: Some(verifier.clone()),
            client: None,
            auth_scheme: None,
        };
        store
            .create_oauth_state("state-1", &pending, Duration::from_secs(600))
            .await
            .unwrap();

        let new_key = MasterKey::generate();
        // The credential-less tenant has 2 sealed rows: the state and the pepper.
        assert_eq!(store.rotate_keys(new_key.clone()).await.unwrap(), 2);
        store.close().await.unwrap();

        let fresh = Store::open(&url).await.unwrap();
        fresh.set_master_key(new_key);
        let StateOutcome::Consumed(found) = fresh.consume_oauth_state("state-1").await.unwrap()
        else {
            panic!("the state opens under the new key");
        };
        assert_eq!(found.verifier.unwrap().secret(), verifier.secret());
        let pepper = fresh.api_key_pepper().await.unwrap();
        let key = issued.key.expose_secret();
        assert!(
            fresh
                .authenticate_api_key(&pepper, key)
                .await
                .unwrap()
                .is_some()
        );
        fresh.close().await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
