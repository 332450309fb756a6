//! Date-time text: RFC 3339 in and out through `jiff` (decision 42).
//!
//! Crate-private: the public API speaks `SystemTime`; only the credential's
//! `expiresAt` and the log entry's `startedAt` are text, written and read here.

use std::time::{Duration, SystemTime};

use jiff::Timestamp;

/// Parses an RFC 3339 date-time with its UTC offset (`2030-01-02T03:04:05Z`,
/// `2030-01-02T05:04:05.25+02:00`), validating the calendar (no February 31st),
/// the clock and the offset (at most ±25:59).
///
/// # Errors
/// What is wrong with `text`, without repeating it (callers name the field).
pub(crate) fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    // jiff reads ISO 8601's extended forms too; an offset (or `Z`) is required,
    // because a date-time without one is not an instant.
    let timestamp: Timestamp = text
        .parse()
        .map_err(|e: jiff::Error| format!("not an RFC 3339 date-time with an offset: {e}"))?;
    // Every instant jiff reads (years -9999 to 9999) is a `SystemTime` on the
    // platforms we build for; the error stays an error elsewhere.
    SystemTime::try_from(timestamp).map_err(|e| format!("out of range: {e}"))
}

/// Formats as `2030-01-02T03:04:05.123Z` (UTC, milliseconds).
pub(crate) fn format_rfc3339(time: SystemTime) -> String {
    format!("{:.3}", timestamp(time))
}

/// `now + seconds`, saturating at the latest instant RFC 3339 text can hold
/// (an upstream's `expires_in` is not trusted to fit).
// Only the OAuth2 resolver reads token lifetimes.
#[cfg_attr(not(feature = "oauth2"), allow(dead_code))]
pub(crate) fn after(now: SystemTime, seconds: u64) -> SystemTime {
    let latest = SystemTime::try_from(Timestamp::MAX).unwrap_or(now);
    now.checked_add(Duration::from_secs(seconds))
        .map_or(latest, |t| t.min(latest))
}

/// The instant as a `jiff` timestamp, clamped to the range RFC 3339 text can
/// hold (jiff's -9999 to 9999-12-30T22:00Z): formatting never fails.
fn timestamp(time: SystemTime) -> Timestamp {
    Timestamp::try_from(time).unwrap_or_else(|_| {
        if time > SystemTime::UNIX_EPOCH {
            Timestamp::MAX
        } else {
            Timestamp::MIN
        }
    })
}

/// Serde for `Option<SystemTime>` as RFC 3339 text; `field` names the value in errors.
pub(crate) fn deserialize_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
    field: &str,
) -> Result<Option<SystemTime>, D::Error> {
    use serde::Deserialize;
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    parse_rfc3339(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("{field}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn round_trips_and_honours_offsets() {
        let t = parse_rfc3339("2030-01-02T03:04:05.250Z").unwrap();
        assert_eq!(format_rfc3339(t), "2030-01-02T03:04:05.250Z");
        assert_eq!(
            parse_rfc3339("2030-01-02T05:04:05+02:00"),
            parse_rfc3339("2030-01-02T03:04:05Z")
        );
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_893_553_445
        );
        let at = |ms| format_rfc3339(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a century leap year), 23:59:59.5
        assert_eq!(at(951_868_799_500), "2000-02-29T23:59:59.500Z");
        assert_eq!(at(4_107_542_400_001), "2100-03-01T00:00:00.001Z");
        // Before 1970 is an instant too.
        let before = parse_rfc3339("1969-12-31T23:59:59Z").unwrap();
        assert_eq!(format_rfc3339(before), "1969-12-31T23:59:59.000Z");
    }

    #[test]
    fn impossible_dates_and_odd_text_are_errors_not_panics() {
        for bad in [
            "2030-13-02T03:04:05Z",
            "2030-02-31T03:04:05Z",
            "2031-02-29T00:00:00Z",
            "2030-01-02T24:00:00Z",
            "2030-01-02T03:60:00Z",
            "2030-01-02T03:04:05+99:99",
            "2030-01-02T03:04:05+01:60",
            "2030-01-02 03:04",
            "2030-01-02T03:04:05",
            "2030-01-02T03:04:05+0é:00",
            "2030-01-02T03:04:05é",
            "２０３０-01-02T03:04:05Z",
            "",
            "x",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad} accepted");
        }
        let e = parse_rfc3339("2030-02-31T03:04:05Z").unwrap_err();
        assert!(e.contains("day"), "{e}");
    }

    #[test]
    fn a_leap_second_stays_in_its_minute() {
        // RFC 3339 allows :60; it is read as the last second of the minute instead
        // of rolling over (into year 10000 at the very end of the range, which is
        // past jiff's last instant, 9999-12-30T22:00Z, and refused).
        let t = parse_rfc3339("9998-12-31T23:59:60Z").unwrap();
        assert_eq!(format_rfc3339(t), "9998-12-31T23:59:59.000Z");
        assert!(parse_rfc3339("9999-12-31T23:59:60Z").is_err());
        let t = parse_rfc3339("2016-12-31T23:59:60Z").unwrap();
        assert_eq!(format_rfc3339(t), "2016-12-31T23:59:59.000Z");
    }

    #[test]
    fn out_of_range_instants_format_clamped_and_expiry_saturates() {
        let far = UNIX_EPOCH + Duration::from_secs(1 << 40);
        assert!(format_rfc3339(far).starts_with("9999-12-30T"));
        let late = after(SystemTime::now(), u64::MAX);
        assert!(format_rfc3339(late).starts_with("9999-12-30T"));
        assert_eq!(after(UNIX_EPOCH, 60), UNIX_EPOCH + Duration::from_secs(60));
    }
}
