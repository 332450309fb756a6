//! The opaque `tools/list` cursor: the last tool name of the previous page,
//! versioned and base64url-encoded. Names are stable across changes, so a
//! cursor stays meaningful while tools are added or removed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const PREFIX: &str = "wg1:";

/// The cursor that continues after `name`.
pub(crate) fn encode(name: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{name}"))
}

/// The tool name a cursor continues after.
///
/// # Errors
/// A cursor this server did not write.
pub(crate) fn decode(cursor: &str) -> Result<String, String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(PREFIX).map(str::to_owned))
        .filter(|name| waygate_core::tools::is_portable(name))
        .ok_or_else(|| format!("invalid cursor '{cursor}': pass back a nextCursor unchanged"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        assert_eq!(
            decode(&encode("slack__chat_postMessage")).unwrap(),
            "slack__chat_postMessage"
        );
        assert!(decode("nope!").is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("other:slack")).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("wg1:a.b")).is_err());
    }
}
