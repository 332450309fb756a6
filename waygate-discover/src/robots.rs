//! robots.txt (RFC 9309): the group for our user agent (else `*`), `Allow`/`Disallow`
//! with `*` and `$` patterns, longest match wins, `Allow` on a tie.

/// The rules of one robots.txt that apply to us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Robots {
    /// `(allow, pattern)` pairs.
    rules: Vec<(bool, String)>,
}

/// Files larger than this are read only up to it (RFC 9309 asks for ≥ 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

impl Robots {
    /// Parses a robots.txt for `agent` (matched case-insensitively as a prefix token).
    pub fn parse(text: &str, agent: &str) -> Self {
        let agent = agent.to_ascii_lowercase();
        let mut ours: Vec<(bool, String)> = Vec::new();
        let mut star: Vec<(bool, String)> = Vec::new();
        let mut group_agents: Vec<String> = Vec::new();
        let mut in_rules = false;
        let mut matched_specific = false;
        for line in text.lines().take(20_000) {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        group_agents.clear();
                        in_rules = false;
                    }
                    group_agents.push(value.to_ascii_lowercase());
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    let allow = key == "allow";
                    if value.is_empty() {
                        continue;
                    }
                    let rule = (allow, value.to_owned());
                    if group_agents
                        .iter()
                        .any(|a| a != "*" && agent.starts_with(a.as_str()))
                    {
                        matched_specific = true;
                        ours.push(rule);
                    } else if group_agents.iter().any(|a| a == "*") {
                        star.push(rule);
                    }
                }
                _ => {}
            }
        }
        Self {
            rules: if matched_specific { ours } else { star },
        }
    }

    /// Whether `path` (with its query) may be fetched.
    pub fn allowed(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if matches(pattern, path) {
                let len = pattern.len();
                if best.is_none_or(|(l, a)| len > l || (len == l && *allow && !a)) {
                    best = Some((len, *allow));
                }
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// Pattern match with `*` (any run) and a trailing `$` (end of path).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if let Some(found) = path[pos..].find(part) {
            pos += found + part.len();
        } else {
            return false;
        }
    }
    if anchored {
        // The last literal part must end the path (a trailing `*$` matches anything).
        let last = parts.last().copied().unwrap_or("");
        return last.is_empty() && parts.len() > 1 || path.ends_with(last) && pos == path.len();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_longest_match() {
        let r = Robots::parse(
            "User-agent: other\nDisallow: /\n\nUser-agent: *\nDisallow: /private\nAllow: /private/docs\nDisallow: /*.pdf$\n",
            "waygate-discover/0.1",
        );
        assert!(r.allowed("/docs/a.html"));
        assert!(!r.allowed("/private/x"));
        assert!(r.allowed("/private/docs/y"));
        assert!(!r.allowed("/files/a.pdf"));
        assert!(r.allowed("/files/a.pdf.html"));
        let ours = Robots::parse(
            "User-agent: waygate-discover\nDisallow: /api\nUser-agent: *\nDisallow: /\n",
            "waygate-discover/0.1",
        );
        assert!(ours.allowed("/docs"));
        assert!(!ours.allowed("/api/x"));
    }
}
