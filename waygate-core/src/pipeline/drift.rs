//! Response drift (decision 64): per action, the outcomes of its last
//! [`WINDOW`] validated responses. When most of them fail on the same path
//! (array indices folded to `*`), the upstream has changed its format and the
//! action is flagged as drifting; one odd response is not drift.
//!
//! The window lives on the compiled action: created only for actions that
//! resolved, bounded by the registry of compiled definitions, per process,
//! and restarted by a new revision of the definition.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// Outcomes kept per action.
const WINDOW: usize = 20;

/// Outcomes needed before a verdict: a handful of calls say little.
const MIN_CALLS: usize = 5;

/// One action's recent outcomes and verdict.
#[derive(Debug, Default)]
pub(crate) struct Drift {
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// `None` for a valid response, else the path its first issue is at.
    outcomes: VecDeque<Option<String>>,
    /// The path most recent responses fail on, while drifting.
    drifting: Option<String>,
}

/// A change of verdict, for the log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Most recent responses now fail on this path.
    Started(String),
    /// They no longer do.
    Ended(String),
}

/// The drift verdict on one action (`GET /integrations/{id}/health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionDrift {
    /// Action slug.
    pub action: String,
    /// Whether most recent responses fail on the same path.
    pub drifting: bool,
    /// That path (array indices as `*`), while drifting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Responses in the window that broke the output schema.
    pub failed: usize,
    /// Responses in the window (at most 20).
    pub validated: usize,
}

impl Drift {
    /// Records one validated response: `failed_at` is the pointer of its first
    /// issue, `None` when it was valid. Returns whether the action is drifting
    /// now, and the change of verdict if there was one.
    pub(crate) fn record(&self, failed_at: Option<&str>) -> (bool, Option<Change>) {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if w.outcomes.len() == WINDOW {
            w.outcomes.pop_front();
        }
        w.outcomes.push_back(failed_at.map(general));
        // A valid response while not drifting cannot start drift: no counting.
        if failed_at.is_none() && w.drifting.is_none() {
            return (false, None);
        }
        let now = w.majority();
        let change = match (&w.drifting, &now) {
            (None, Some(path)) => Some(Change::Started(path.clone())),
            (Some(was), None) => Some(Change::Ended(was.clone())),
            (Some(was), Some(path)) if was != path => Some(Change::Started(path.clone())),
            _ => None,
        };
        w.drifting = now;
        (w.drifting.is_some(), change)
    }

    /// The verdict for `action`, or `None` when no response was validated yet.
    pub(crate) fn snapshot(&self, action: &str) -> Option<ActionDrift> {
        let w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if w.outcomes.is_empty() {
            return None;
        }
        Some(ActionDrift {
            action: action.to_owned(),
            drifting: w.drifting.is_some(),
            path: w.drifting.clone(),
            failed: w.outcomes.iter().filter(|o| o.is_some()).count(),
            validated: w.outcomes.len(),
        })
    }
}

impl Window {
    /// The path more than half of the window fails on, once it holds
    /// [`MIN_CALLS`] outcomes.
    fn majority(&self) -> Option<String> {
        if self.outcomes.len() < MIN_CALLS {
            return None;
        }
        let failed: Vec<&str> = self.outcomes.iter().flatten().map(String::as_str).collect();
        failed
            .iter()
            .find(|p| failed.iter().filter(|q| q == p).count() * 2 > self.outcomes.len())
            .map(|p| (*p).to_owned())
    }
}

/// A pointer with its array indices folded: `/items/3/price` → `/items/*/price`.
fn general(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|t| {
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                t
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_odd_response_is_not_drift_a_systematic_change_is() {
        let d = Drift::default();
        for _ in 0..10 {
            assert_eq!(d.record(None), (false, None));
        }
        assert_eq!(d.record(Some("/items/3/price")), (false, None));
        for _ in 0..10 {
            d.record(None);
        }
        // The upstream renames a field: every response now fails there.
        let mut started = None;
        for i in 0..11 {
            let (_, change) = d.record(Some(&format!("/items/{i}/price")));
            started = started.or(change);
        }
        assert_eq!(started, Some(Change::Started("/items/*/price".into())));
        let snap = d.snapshot("list").unwrap();
        assert!(
            snap.drifting && snap.failed == 11 && snap.validated == 20,
            "{snap:?}"
        );
        // It is fixed: drift ends once valid responses are the majority again.
        let mut ended = None;
        for _ in 0..20 {
            let (_, change) = d.record(None);
            ended = ended.or(change);
        }
        assert_eq!(ended, Some(Change::Ended("/items/*/price".into())));
    }

    #[test]
    fn failures_on_different_paths_are_not_drift() {
        let d = Drift::default();
        for i in 0..20 {
            let (drifting, _) = d.record(Some(&format!("/field{i}")));
            assert!(!drifting);
        }
    }
}
