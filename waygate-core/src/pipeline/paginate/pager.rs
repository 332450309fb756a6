//! The page iterator's state: where the next page starts, the request for it,
//! and what a response says about the page after it (or why there is none).
//! Pure: sending is the executor's job.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::StopReason;
use super::link;
use crate::error::{Error, ErrorKind};
use crate::model::{PaginationSpec, PaginationStrategy as S};
use crate::pipeline::request::{self, Base, HttpRequest};
use crate::pipeline::resolve::CompiledAction;

/// Where a page starts. Serialized into continuations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Position {
    /// The request the input alone makes (cursor, link and next-URL strategies).
    First,
    /// A cursor sent back in `cursorParam`.
    Cursor(String),
    /// Items to skip, sent in `offsetParam`.
    Offset(u64),
    /// A page number, sent in `pageParam`.
    Page(u64),
    /// A next-page URL from a `Link` header or the body.
    Url(String),
}

/// One page as the pager read it.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The page's items, those skipped to resume a continuation left out.
    pub(crate) items: Vec<Value>,
    /// How many items at the page's start were skipped.
    pub(crate) skipped: usize,
}

/// The state between pages. Every page either yields a next position that was
/// not used before, or ends the iteration with a [`StopReason`]: the loop it
/// drives always ends.
#[derive(Debug)]
pub(crate) struct Pager {
    spec: PaginationSpec,
    /// Where the next page starts; `None` once iteration stopped.
    next: Option<Position>,
    /// Items to drop from the start of the next page (resuming mid-page).
    skip: usize,
    /// Why iteration stopped.
    stop: Option<StopReason>,
    /// Hashes of the cursors and URLs already followed, and of the previous
    /// page's body: a repeat means the upstream is not advancing.
    seen: HashSet<u64>,
    previous_body: Option<u64>,
    hasher: RandomState,
    /// The page size asked for, when known (input or `pageSize`).
    page_size: Option<u64>,
}

impl Pager {
    /// A pager at the first page of `input`, or at a resume point.
    pub(crate) fn new(
        spec: &PaginationSpec,
        input: &Value,
        resume: Option<(Position, usize)>,
    ) -> Self {
        let number =
            |field: &Option<String>| field.as_deref().and_then(|f| input.get(f)).and_then(as_u64);
        let page_size = number(&spec.limit_param).or(spec.page_size.map(u64::from));
        let (next, skip) = resume.unwrap_or_else(|| {
            let first = match spec.strategy {
                S::Offset => Position::Offset(number(&spec.offset_param).unwrap_or(0)),
                S::Page => Position::Page(number(&spec.page_param).unwrap_or(1)),
                S::Cursor | S::Link | S::NextUrl => Position::First,
            };
            (first, 0)
        });
        Self {
            spec: spec.clone(),
            next: Some(next),
            skip,
            stop: None,
            seen: HashSet::new(),
            previous_body: None,
            hasher: RandomState::new(),
            page_size,
        }
    }

    /// Where the next page starts and the items to skip there; `None` once stopped.
    pub(crate) fn resume_point(&self) -> Option<(Position, usize)> {
        self.next.clone().map(|p| (p, self.skip))
    }

    /// Why iteration stopped, once it has.
    pub(crate) fn stop_reason(&self) -> Option<StopReason> {
        self.stop
    }

    /// The request for the page at `position`: the input with the pager's
    /// fields set, built like any call's; for a URL position, that request
    /// sent to the URL instead.
    pub(crate) fn request(
        &self,
        position: &Position,
        action: &CompiledAction,
        base: Option<Base<'_>>,
        input: &Value,
    ) -> Result<HttpRequest, Error> {
        let mut input = input.clone();
        let limit = self.spec.limit_param.as_deref();
        let size = (self.spec.page_size).filter(|_| limit.is_some_and(|f| input.get(f).is_none()));
        let mut set = |field: &Option<String>, value: Value| {
            if let (Some(field), Some(fields)) = (field, input.as_object_mut()) {
                fields.insert(field.clone(), value);
            }
        };
        if let Some(size) = size {
            set(&self.spec.limit_param, Value::from(size));
        }
        match position {
            Position::First | Position::Url(_) => {}
            Position::Cursor(c) => set(&self.spec.cursor_param, Value::from(c.as_str())),
            Position::Offset(n) => set(&self.spec.offset_param, Value::from(*n)),
            Position::Page(n) => set(&self.spec.page_param, Value::from(*n)),
        }
        let mut request = request::build(action, base, &input)?;
        if let Position::Url(url) = position {
            request.url = Url::parse(url).map_err(|e| invalid(format!("next page URL: {e}")))?;
        }
        Ok(request)
    }

    /// Reads the page fetched at `position` (from `url`): its items, and the
    /// next position or the reason to stop.
    ///
    /// # Errors
    /// `UPSTREAM_RESPONSE_INVALID` when the items are not an array.
    pub(crate) fn accept(
        &mut self,
        position: &Position,
        url: &Url,
        headers: &HeaderMap,
        raw: &[u8],
        mut body: Value,
    ) -> Result<Accepted, Error> {
        let items_path = self.spec.items_path.as_deref().unwrap_or("");
        let items = match body.pointer_mut(items_path).map(Value::take) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None if !items_path.is_empty() => Vec::new(),
            _ => {
                return Err(invalid(format!(
                    "pagination: the items at '{items_path}' of the response are not an array"
                )));
            }
        };
        let body_hash = self.hasher.hash_one(raw);
        if self.previous_body.replace(body_hash) == Some(body_hash) {
            // The same page again: its items were taken already.
            return Ok(self.end(StopReason::RepeatedPage, Vec::new(), 0));
        }
        if items.is_empty() {
            return Ok(self.end(StopReason::EmptyPage, items, 0));
        }
        let next = self.next_position(position, url, headers, &body, &items);
        let skipped = std::mem::take(&mut self.skip).min(items.len());
        let items = items.into_iter().skip(skipped).collect();
        match next {
            Ok(position) => {
                self.next = Some(position);
                Ok(Accepted { items, skipped })
            }
            Err(reason) => Ok(self.end(reason, items, skipped)),
        }
    }

    fn end(&mut self, reason: StopReason, items: Vec<Value>, skipped: usize) -> Accepted {
        self.next = None;
        self.stop = Some(reason);
        Accepted { items, skipped }
    }

    /// The page after this one, or why there is none.
    fn next_position(
        &mut self,
        position: &Position,
        url: &Url,
        headers: &HeaderMap,
        body: &Value,
        items: &[Value],
    ) -> Result<Position, StopReason> {
        if let Some(path) = &self.spec.has_more_path
            && body.pointer(path) == Some(&Value::Bool(false))
        {
            return Err(StopReason::Complete);
        }
        let count = items.len() as u64;
        let short = self.page_size.is_some_and(|size| count < size);
        match (self.spec.strategy, position) {
            (S::Offset, Position::Offset(offset)) => match short {
                true => Err(StopReason::ShortPage),
                false => Ok(Position::Offset(offset.saturating_add(count))),
            },
            (S::Page, Position::Page(page)) => match short {
                true => Err(StopReason::ShortPage),
                false => Ok(Position::Page(page.saturating_add(1))),
            },
            (S::Cursor, _) => {
                let cursor = self
                    .cursor(headers, body, items)
                    .ok_or(StopReason::Complete)?;
                self.first_time(&cursor, StopReason::RepeatedCursor)?;
                Ok(Position::Cursor(cursor))
            }
            (S::Link | S::NextUrl, _) => {
                let next = match self.spec.strategy {
                    S::Link => link::next(headers),
                    _ => self
                        .spec
                        .next_url_path
                        .as_deref()
                        .and_then(|p| body.pointer(p))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                };
                let next = next.filter(|n| !n.is_empty()).ok_or(StopReason::Complete)?;
                // Relative URLs are relative to the page that named them.
                let next = url.join(&next).map_err(|_| StopReason::InvalidNextUrl)?;
                self.first_time(next.as_str(), StopReason::RepeatedUrl)?;
                Ok(Position::Url(next.into()))
            }
            // A resume point of another strategy cannot come from this pager's
            // continuations (they are bound to the action); stop rather than guess.
            _ => Err(StopReason::Complete),
        }
    }

    /// The next cursor: from the body, a header or the last item; `None` when
    /// absent, `null` or empty.
    fn cursor(&self, headers: &HeaderMap, body: &Value, items: &[Value]) -> Option<String> {
        let value = if let Some(path) = &self.spec.cursor_path {
            body.pointer(path)
        } else if let Some(path) = &self.spec.cursor_item_path {
            items.last().and_then(|item| item.pointer(path))
        } else {
            let name = self.spec.cursor_header.as_deref()?;
            let text = headers.get(name)?.to_str().ok()?;
            return (!text.is_empty()).then(|| text.to_owned());
        };
        match value? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Records `key` as followed; `Err(reason)` when it was followed before.
    fn first_time(&mut self, key: &str, reason: StopReason) -> Result<(), StopReason> {
        match self.seen.insert(self.hasher.hash_one(key)) {
            true => Ok(()),
            false => Err(reason),
        }
    }
}

/// A non-negative integer, or a string of one (query values often are strings).
fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidResponse {
        message,
        body: None,
    })
    .sent()
}
