//! Date-time text without a calendar crate: RFC 3339 in and out.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `2030-01-02T03:04:05Z`, with optional fractions and a `±HH:MM` offset.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<9}", &frac[..digits.min(9)]);
        nanos = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest[1..3].parse::<i64>().ok()? * 3600 + rest[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Formats as `2030-01-02T03:04:05.123Z` (UTC, milliseconds).
pub fn format_rfc3339(time: SystemTime) -> String {
    let mut out = String::with_capacity(24);
    // Writing to a String cannot fail.
    let _ = write_rfc3339(&mut out, time, Fraction::Millis);
    out
}

/// The digits of the second's fraction that [`write_rfc3339`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fraction {
    /// Three: `05.123Z`.
    Millis,
    /// Six: `05.123456Z`.
    Micros,
}

/// Writes `time` as RFC 3339 in UTC to `out`, without allocating.
///
/// # Errors
/// Those of `out`.
pub fn write_rfc3339(
    out: &mut impl fmt::Write,
    time: SystemTime,
    fraction: Fraction,
) -> fmt::Result {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )?;
    match fraction {
        Fraction::Millis => write!(out, "{:03}Z", since.subsec_millis()),
        Fraction::Micros => write!(out, "{:06}Z", since.subsec_micros()),
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let micros = |us| {
            let mut s = String::new();
            write_rfc3339(
                &mut s,
                UNIX_EPOCH + Duration::from_micros(us),
                Fraction::Micros,
            )
            .unwrap();
            s
        };
        assert_eq!(micros(0), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29 (a leap day in a century leap year), 23:59:59.5
        assert_eq!(micros(951_868_799_500_000), "2000-02-29T23:59:59.500000Z");
        assert_eq!(micros(1_795_366_626_371_042), "2026-11-22T16:57:06.371042Z");
        assert_eq!(micros(4_107_542_400_000_001), "2100-03-01T00:00:00.000001Z");
        for bad in [
            "2030-13-02T03:04:05Z",
            "2030-01-02 03:04",
            "2030-01-02T03:04:05",
            "x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
