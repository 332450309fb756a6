//! The credential vault: the master key, and AES-256-GCM envelopes.
//!
//! An envelope is `(key_id, nonce, ciphertext)`. The nonce is 96 random bits, new
//! for every encryption. The associated data binds a ciphertext to its row
//! (tenant id and credential id), so a ciphertext copied to another row or
//! tenant fails to decrypt instead of handing over someone else's secret.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

/// The environment variable holding the master key (base64 of 32 bytes).
pub const MASTER_KEY_ENV: &str = "WAYGATE_MASTER_KEY";

/// The file a generated master key is kept in, inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

const NONCE_LEN: usize = 12;

/// The 256-bit key credentials are encrypted with. `Debug` shows only its id.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    bytes: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Where a master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// The `WAYGATE_MASTER_KEY` environment variable.
    Environment,
    /// A key file that already existed.
    File(PathBuf),
    /// A key file generated just now: back it up, losing it loses every credential.
    Generated(PathBuf),
    /// The key file, after finishing a rotation that had been interrupted
    /// (`master.key.next` replaced `master.key`).
    RotationFinished {
        /// The key file now in use.
        path: PathBuf,
        /// How many sealed rows were re-encrypted to finish it.
        reencrypted: u64,
    },
}

impl MasterKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        // The id names the key in envelopes without revealing it: a hash prefix.
        let digest = Sha256::new()
            .chain_update(b"waygate master key id\0")
            .chain_update(&bytes[..])
            .finalize();
        let id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Self { id, bytes }
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        // ThreadRng is a CSPRNG seeded from the operating system.
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(&mut bytes[..]);
        Self::from_bytes(*bytes)
    }

    /// A key from base64 text (standard alphabet, padded) of exactly 32 bytes.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the text is not base64 or not 32 bytes long.
    pub fn from_base64(text: &str) -> Result<Self> {
        let decoded = Zeroizing::new(BASE64.decode(text.trim()).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                "the master key is not valid base64 (expected 32 random bytes, e.g. `openssl rand -base64 32`)",
            )
            .with_source(e)
        })?);
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "the master key must be 32 bytes, it is {} (e.g. `openssl rand -base64 32`)",
                    decoded.len()
                ),
            )
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key in `WAYGATE_MASTER_KEY`, if that is set.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when it is set but malformed.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(text) => Self::from_base64(&text)
                .map(Some)
                .map_err(|e| Error::new(ErrorKind::Config, format!("{MASTER_KEY_ENV}: {e}"))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
                ErrorKind::Config,
                format!("{MASTER_KEY_ENV} is not valid UTF-8"),
            )),
        }
    }

    /// The key kept in `data_dir/master.key`, generated (mode 0600) when there
    /// is none yet; the flag says whether it was generated now.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the file cannot be read, written, or is malformed.
    pub fn load_or_generate(data_dir: &Path) -> Result<(Self, bool)> {
        let path = data_dir.join(MASTER_KEY_FILE);
        let io_err = |what: &str, e: std::io::Error| {
            Error::new(ErrorKind::Config, format!("{what} {}", path.display())).with_source(e)
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                let key = Self::from_base64(&text).map_err(|e| {
                    Error::new(ErrorKind::Config, format!("{}: {e}", path.display()))
                })?;
                return Ok((key, false));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("cannot read the master key file", e)),
        }
        std::fs::create_dir_all(data_dir)
            .map_err(|e| io_err("cannot create the directory of", e))?;
        let key = Self::generate();
        let text = Zeroizing::new(BASE64.encode(&key.bytes[..]));
        let mut options = std::fs::OpenOptions::new();
        // create_new: two processes starting at once must not both write a key.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| io_err("cannot write the master key file", e))?;
                Ok((key, true))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load_or_generate(data_dir)
            }
            Err(e) => Err(io_err("cannot create the master key file", e)),
        }
    }

    /// The key from `WAYGATE_MASTER_KEY`, else from (or generated into) the data directory.
    ///
    /// Prefer [`crate::Store::unlock`], which also finishes an interrupted key
    /// rotation: one key alone cannot open a database caught in the middle of one.
    ///
    /// # Errors
    /// As [`MasterKey::from_env`] and [`MasterKey::load_or_generate`];
    /// [`ErrorKind::Config`] when a rotation is pending (`master.key.next` exists).
    pub fn resolve(data_dir: &Path) -> Result<(Self, KeySource)> {
        if let Some(key) = Self::from_env()? {
            return Ok((key, KeySource::Environment));
        }
        let next = crate::keyfile::next_path(data_dir);
        if next.exists() {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "a master key rotation was interrupted ({} exists): open the store with Store::unlock, or run `waygate keys rotate`, to finish it",
                    next.display()
                ),
            ));
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let (key, generated) = Self::load_or_generate(data_dir)?;
        Ok((
            key,
            if generated {
                KeySource::Generated(path)
            } else {
                KeySource::File(path)
            },
        ))
    }

    /// The key's id, written into every envelope it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as base64 text, as [`MasterKey::from_base64`] reads it: a
    /// secret, for an operator to put into their secret store, never into a log.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(&self.bytes[..]))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes[..]
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.bytes))
    }
}

/// An encrypted value as stored.
#[derive(Debug, Clone)]
pub(crate) struct Envelope {
    pub(crate) key_id: String,
    pub(crate) nonce: Vec<u8>,
    pub(crate) ciphertext: Vec<u8>,
}

/// Associated data: the row a ciphertext belongs to. Length-prefixed so that
/// `("ab", "c")` and `("a", "bc")` differ.
fn associated_data(tenant: &str, row_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + tenant.len() + row_id.len());
    aad.extend_from_slice(b"waygate/v1\0");
    aad.extend_from_slice(&(tenant.len() as u64).to_be_bytes());
    aad.extend_from_slice(tenant.as_bytes());
    aad.extend_from_slice(row_id.as_bytes());
    aad
}

/// The keys a store can decrypt with, and the one it encrypts with.
#[derive(Debug, Clone)]
pub(crate) struct Keyring {
    current: MasterKey,
    old: HashMap<String, MasterKey>,
}

impl Keyring {
    pub(crate) fn new(current: MasterKey) -> Self {
        Self {
            current,
            old: HashMap::new(),
        }
    }

    /// Also decrypts with `key` (a rotation's next key, before it is current).
    pub(crate) fn with_decrypt_key(mut self, key: MasterKey) -> Self {
        if key.id != self.current.id {
            self.old.insert(key.id.clone(), key);
        }
        self
    }

    /// Makes `key` the current key; the previous one still decrypts.
    pub(crate) fn rotated(&self, key: MasterKey) -> Self {
        let mut old = self.old.clone();
        old.insert(self.current.id.clone(), self.current.clone());
        old.remove(&key.id);
        Self { current: key, old }
    }

    pub(crate) fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Encrypts with the current key for the row `(tenant, row_id)`.
    pub(crate) fn seal(&self, tenant: &str, row_id: &str, plaintext: &[u8]) -> Result<Envelope> {
        let nonce = aes_gcm::Nonce::generate();
        let ciphertext = self
            .current
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &associated_data(tenant, row_id),
                },
            )
            .map_err(|_| Error::new(ErrorKind::Crypto, "encryption failed"))?;
        Ok(Envelope {
            key_id: self.current.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts an envelope of the row `(tenant, row_id)`.
    pub(crate) fn open(
        &self,
        tenant: &str,
        row_id: &str,
        envelope: &Envelope,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let key = if envelope.key_id == self.current.id {
            &self.current
        } else {
            self.old.get(&envelope.key_id).ok_or_else(|| {
                Error::new(
                    ErrorKind::Crypto,
                    format!(
                        "the credential was encrypted with master key {}, which this process does not have",
                        envelope.key_id
                    ),
                )
            })?
        };
        let nonce: [u8; NONCE_LEN] = envelope
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| Error::new(ErrorKind::Crypto, "stored nonce has the wrong length"))?;
        key.cipher()
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &envelope.ciphertext,
                    aad: &associated_data(tenant, row_id),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::new(
                    ErrorKind::Crypto,
                    "a credential failed to decrypt: the ciphertext does not belong to this row or key",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ciphertext_only_opens_in_its_own_row() {
        let ring = Keyring::new(MasterKey::generate());
        let env = ring.seal("t1", "c1", b"secret").unwrap();
        assert_eq!(&ring.open("t1", "c1", &env).unwrap()[..], b"secret");
        assert!(ring.open("t1", "c2", &env).is_err());
        assert!(ring.open("t2", "c1", &env).is_err());
        let other = Keyring::new(MasterKey::generate());
        assert_eq!(
            other.open("t1", "c1", &env).unwrap_err().kind(),
            ErrorKind::Crypto
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let ring = Keyring::new(MasterKey::generate());
        let a = ring.seal("t", "c", b"x").unwrap();
        let b = ring.seal("t", "c", b"x").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn malformed_master_keys_say_what_is_wrong() {
        let e = MasterKey::from_base64("not base64!").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains("base64"), "{e}");
        let e = MasterKey::from_base64(&BASE64.encode([1u8; 16])).unwrap_err();
        assert!(e.to_string().contains("32 bytes, it is 16"), "{e}");
        let k = MasterKey::from_base64(&BASE64.encode([7u8; 32])).unwrap();
        assert_eq!(k.id(), MasterKey::from_bytes([7u8; 32]).id());
        assert!(!format!("{k:?}").contains("7, 7"));
    }

    #[test]
    fn a_generated_key_is_kept_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("waygate-key-{}", uuid::Uuid::new_v4()));
        let (first, generated) = MasterKey::load_or_generate(&dir).unwrap();
        assert!(generated);
        let (again, generated) = MasterKey::load_or_generate(&dir).unwrap();
        assert!(!generated);
        assert_eq!(first.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
