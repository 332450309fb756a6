//! Continuation tokens: where a cut `fetchAll` goes on, bound to the call.
//!
//! `base64url(JSON {position, skip}) "." base64url(HMAC-SHA-256 tag)`. The
//! tag covers the tenant, the action, the connection and the SHA-256 of the
//! input's canonical JSON besides the payload, under the executor's key
//! (decision 62): a token edited, or passed to another call, is refused. That
//! matters beyond tidiness: a position can be a URL, and the caller must not
//! be able to point the connection's credentials at a URL of their choosing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::pager::Position;
use crate::error::Error;

/// Longest token accepted; real ones are far shorter (a URL at most).
const MAX_LEN: usize = 8 * 1024;
/// Bytes of the tag kept: 128 bits are beyond guessing.
const TAG_LEN: usize = 16;

/// What a token says: where the next page starts and how many of its items
/// were returned already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resume {
    #[serde(rename = "p")]
    pub(crate) position: Position,
    #[serde(rename = "s")]
    pub(crate) skip: usize,
}

/// The call a token belongs to.
pub(crate) struct Binding<'a> {
    pub(crate) key: &'a [u8; 32],
    pub(crate) tenant: &'a str,
    pub(crate) integration: &'a str,
    pub(crate) action: &'a str,
    pub(crate) connection: &'a str,
    pub(crate) input: &'a Value,
}

impl Binding<'_> {
    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        // serde_json's map is ordered by key: equal inputs print equally.
        let input: [u8; 32] = Sha256::digest(self.input.to_string().as_bytes()).into();
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key).expect("HMAC takes any key length");
        for part in [
            self.tenant.as_bytes(),
            self.integration.as_bytes(),
            self.action.as_bytes(),
            self.connection.as_bytes(),
            &input,
            payload,
        ] {
            // Length-prefixed, so no two different part lists print alike.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// The token for `resume`.
    pub(crate) fn seal(&self, resume: &Resume) -> String {
        let payload = serde_json::to_vec(resume).expect("a resume point serialises");
        let tag = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
        )
    }

    /// The resume point of `token`.
    ///
    /// # Errors
    /// `VALIDATION_ERROR` naming `options.continuation` when the token is
    /// malformed, edited, or another call's.
    pub(crate) fn open(&self, token: &str) -> Result<Resume, Error> {
        let refuse = |why: &str| {
            Error::input(
                "",
                "continuation",
                format!(
                    "options.continuation: {why}; pass the continuation returned by the same call (same action, input and connection), or none to start over"
                ),
            )
        };
        if token.len() > MAX_LEN {
            return Err(refuse("too long to be a continuation"));
        }
        let (payload, tag) = token
            .split_once('.')
            .ok_or_else(|| refuse("not a continuation"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| refuse("not a continuation"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| refuse("not a continuation"))?;
        // Constant time, and only a full-length tag: a short one is guessable.
        let same = tag.len() == TAG_LEN && self.mac(&payload).verify_truncated_left(&tag).is_ok();
        if !same {
            return Err(refuse("it does not belong to this call or was altered"));
        }
        serde_json::from_slice(&payload).map_err(|_| refuse("not a continuation"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn binding<'a>(key: &'a [u8; 32], input: &'a Value, action: &'a str) -> Binding<'a> {
        Binding {
            key,
            tenant: "t",
            integration: "crm",
            action,
            connection: "default",
            input,
        }
    }

    #[test]
    fn a_token_opens_only_for_its_own_call() {
        let key = [7; 32];
        let input = json!({"q": "x", "a": 1});
        let resume = Resume {
            position: Position::Url("https://api.example/p?page=3".into()),
            skip: 4,
        };
        let token = binding(&key, &input, "list").seal(&resume);
        assert_eq!(binding(&key, &input, "list").open(&token).unwrap(), resume);
        // Equal input, other key order: the same call.
        let reordered: Value = serde_json::from_str(r#"{"a":1,"q":"x"}"#).unwrap();
        assert_eq!(
            binding(&key, &reordered, "list").open(&token).unwrap(),
            resume
        );
        let other_input = json!({"q": "y", "a": 1});
        for (k, i, a) in [
            ([7; 32], &other_input, "list"),
            ([7; 32], &input, "search"),
            ([8; 32], &input, "list"),
        ] {
            let e = binding(&k, i, a).open(&token).unwrap_err();
            assert_eq!(e.code(), "VALIDATION_ERROR");
            assert!(e.to_string().contains("options.continuation"), "{e}");
        }
        // An edited payload (another URL) keeps the old tag: refused.
        let (_, tag) = token.split_once('.').unwrap();
        let forged = Resume {
            position: Position::Url("https://evil.example/".into()),
            skip: 0,
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert!(
            binding(&key, &input, "list")
                .open(&format!("{payload}.{tag}"))
                .is_err()
        );
        for junk in ["", ".", "abc", "a.b.c", &"x".repeat(MAX_LEN + 1)] {
            assert!(binding(&key, &input, "list").open(junk).is_err(), "{junk}");
        }
    }
}
