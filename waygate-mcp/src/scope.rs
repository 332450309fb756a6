//! Which tools a caller sees: its tenant, the mode, and an optional set of
//! integrations (`/mcp?mode=meta&integrations=slack,github`).

use std::collections::BTreeSet;

/// How the tools are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One tool per action.
    #[default]
    Direct,
    /// Three tools (`search_actions`, `get_action_schema`, `call_action`) for
    /// registries too large to list.
    Meta,
}

/// The tools a caller is offered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Direct or meta tools.
    pub mode: Mode,
    /// Only these integrations' actions; all when `None`.
    pub integrations: Option<BTreeSet<String>>,
}

/// A query string that does not describe a [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScopeError(pub String);

impl Scope {
    /// The scope of a query string (`mode=meta&integrations=slack,github`).
    ///
    /// # Errors
    /// An unknown parameter, an unknown mode, an empty or repeated value.
    pub fn from_query(query: Option<&str>) -> Result<Self, ScopeError> {
        let mut scope = Self::default();
        let (mut seen_mode, mut seen_integrations) = (false, false);
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "mode" if !seen_mode => {
                    seen_mode = true;
                    scope.mode = Mode::parse(value)?;
                }
                "integrations" if !seen_integrations => {
                    seen_integrations = true;
                    scope.integrations = Some(parse_integrations(value)?);
                }
                "mode" | "integrations" => {
                    return Err(ScopeError(format!(
                        "query parameter '{key}' is given twice"
                    )));
                }
                other => {
                    return Err(ScopeError(format!(
                        "unknown query parameter '{other}': expected mode or integrations"
                    )));
                }
            }
        }
        Ok(scope)
    }

    /// Whether tools of `integration` are in scope.
    pub fn includes(&self, integration: &str) -> bool {
        self.integrations
            .as_ref()
            .is_none_or(|set| set.contains(integration))
    }
}

impl Mode {
    /// `direct` or `meta`.
    ///
    /// # Errors
    /// Any other value.
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        match value {
            "direct" => Ok(Self::Direct),
            "meta" => Ok(Self::Meta),
            other => Err(ScopeError(format!(
                "unknown mode '{other}': expected direct or meta"
            ))),
        }
    }
}

/// A comma-separated list of integration slugs (`[a-z0-9-]+`).
///
/// # Errors
/// An empty list or a value that is not a slug.
pub fn parse_integrations(value: &str) -> Result<BTreeSet<String>, ScopeError> {
    let mut set = BTreeSet::new();
    for slug in value.split(',') {
        let valid = !slug.is_empty()
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(ScopeError(format!(
                "'{slug}' in integrations is not an integration slug ([a-z0-9-]+, comma-separated)"
            )));
        }
        set.insert(slug.to_owned());
    }
    Ok(set)
}

/// Who calls and what they see: put into an HTTP request's extensions by the
/// gateway once the API key is checked; fixed for a stdio server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant whose tools these are.
    pub tenant: String,
    /// Which of them, how.
    pub scope: Scope,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_into_scopes() {
        assert_eq!(Scope::from_query(None), Ok(Scope::default()));
        let s = Scope::from_query(Some("mode=meta&integrations=slack,github")).unwrap();
        assert_eq!(s.mode, Mode::Meta);
        assert!(s.includes("slack") && s.includes("github") && !s.includes("twilio"));
        assert!(Scope::default().includes("anything"));
    }

    #[test]
    fn bad_queries_are_refused_by_name() {
        let e = |q| Scope::from_query(Some(q)).unwrap_err().0;
        assert!(e("mode=fast").contains("unknown mode 'fast'"));
        assert!(e("integrations=").contains("not an integration slug"));
        assert!(e("integrations=Slack").contains("'Slack'"));
        assert!(e("mode=meta&mode=direct").contains("twice"));
        assert!(e("limit=5").contains("unknown query parameter 'limit'"));
    }
}
