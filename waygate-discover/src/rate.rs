//! Rate limits the docs state (decision 75): sentences such as "100 requests per
//! minute" or "5,000 calls/hour", and the rate-limit headers they name
//! (`X-RateLimit-Remaining`, `RateLimit-Reset`, `Retry-After`, …). The draft's
//! `defaults.rateLimit` takes the strictest statement (a client-side limiter
//! should not exceed any published limit); the headers are reported, since the
//! retry step already honours `Retry-After` and reset headers.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use waygate_core::model::RateLimitConfig;

/// A stated limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Requests allowed in the window.
    pub requests: u64,
    /// The window, in seconds.
    pub window_secs: u64,
    /// The page it was stated on.
    pub source_url: String,
}

impl Statement {
    /// The sustained rate.
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.window_secs as f64
    }
}

/// Rate-limit evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateHints {
    /// Limits stated, in page order.
    pub statements: Vec<Statement>,
    /// Rate-limit header names mentioned.
    pub headers: BTreeSet<String>,
}

static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,3}(?:,\d{3})+|\d{1,9})\s+(?:api\s+)?(?:requests?|calls?)\s*(?:per|/|an?|every|each)\s*(?:(\d{1,4})\s*)?(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?)\b",
    )
    .unwrap_or_else(|e| unreachable!("bad built-in pattern: {e}"))
});

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b((?:x-)?rate-?limit(?:-[a-z]+)+|retry-after)\b")
        .unwrap_or_else(|e| unreachable!("bad built-in pattern: {e}"))
});

/// Collects the statements and header names in `text` (one block of a page).
pub fn scan(text: &str, source_url: &str, hints: &mut RateHints) {
    for m in STATEMENT.captures_iter(text) {
        let Ok(requests) = m[1].replace(',', "").parse::<u64>() else {
            continue;
        };
        let count: u64 = m.get(2).and_then(|n| n.as_str().parse().ok()).unwrap_or(1);
        let unit = m[3].to_ascii_lowercase();
        let unit_secs = match unit.chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3_600,
            _ => 86_400,
        };
        if requests == 0 || count == 0 {
            continue;
        }
        hints.statements.push(Statement {
            requests,
            window_secs: unit_secs * count,
            source_url: source_url.to_owned(),
        });
    }
    for m in HEADER.captures_iter(text) {
        hints.headers.insert(m[1].to_owned());
    }
}

/// The strictest statement as a rate limit: its sustained rate, and its
/// window's requests as the burst (capped at 1,000).
pub fn strictest(statements: &[Statement]) -> Option<(RateLimitConfig, &Statement)> {
    let s = statements
        .iter()
        .min_by(|a, b| a.per_second().total_cmp(&b.per_second()))?;
    let config = RateLimitConfig {
        requests_per_second: (s.per_second() * 1_000.0).round() / 1_000.0,
        burst: Some(u32::try_from(s.requests.min(1_000)).unwrap_or(1_000)),
    };
    Some((config, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_headers_in_several_styles() {
        let mut hints = RateHints::default();
        for text in [
            "You can make up to 5,000 requests per hour with a token.",
            "The limit is 100 calls/minute per app; see the X-RateLimit-Remaining header.",
            "Bursts: 10 requests every 2 seconds. After that you get 429 with Retry-After.",
            "Returns 100 results per page.",
            "RateLimit-Reset says when the window ends.",
        ] {
            scan(text, "http://d/limits", &mut hints);
        }
        let windows: Vec<(u64, u64)> = hints
            .statements
            .iter()
            .map(|s| (s.requests, s.window_secs))
            .collect();
        assert_eq!(windows, [(5_000, 3_600), (100, 60), (10, 2)]);
        assert_eq!(
            hints.headers.iter().map(String::as_str).collect::<Vec<_>>(),
            ["RateLimit-Reset", "Retry-After", "X-RateLimit-Remaining"]
        );
        let (config, from) = strictest(&hints.statements).unwrap();
        assert_eq!(from.requests, 5_000);
        assert_eq!(config.requests_per_second, 1.389);
        assert_eq!(config.burst, Some(1_000));
        assert!(strictest(&[]).is_none());
    }
}
