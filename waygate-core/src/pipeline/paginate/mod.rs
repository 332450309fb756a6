//! Step 9, paginate: follows an action's pages (DESIGN.md §3).
//!
//! One page iterator ([`pager`]) drives both ways to read pages: the
//! [`Executor::pages`] / [`Executor::items`] streams, which fetch a page when
//! polled (memory stays flat however long the list), and `fetchAll`
//! ([`FetchAll`]), which collects pages into one array within limits and
//! hands back a [continuation](continuation) when a limit cuts it. Every page
//! is sent by [`Executor::send`], the one request path: limiter, breaker,
//! authorize, retry.

mod continuation;
mod link;
mod pager;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value;
use url::Url;

use self::continuation::{Binding, Resume};
use self::pager::{Pager, Position};
use super::resolve::Target;
use super::send::Scope;
use super::transport::strip_for_other_origin;
use super::{Call, CallOptions, Executor, Run, request};
use crate::credential::Credential;
use crate::error::Error;
use crate::limits::json_text_size;

/// Pages a `fetchAll` follows unless told otherwise (DESIGN.md §5).
pub const DEFAULT_MAX_PAGES: u32 = 5;
/// Items a `fetchAll` returns unless told otherwise.
pub const DEFAULT_MAX_ITEMS: u32 = 500;
/// Characters of JSON (the items' texts summed) a `fetchAll` returns unless
/// told otherwise.
pub const DEFAULT_MAX_CHARACTERS: u64 = 100_000;
/// The most pages one call may ask for: every call's work is bounded.
pub const MAX_PAGES_LIMIT: u32 = 10_000;
/// The most items one call may ask for.
pub const MAX_ITEMS_LIMIT: u32 = 100_000;
/// The most characters one call may ask for (the response's size).
pub const MAX_CHARACTERS_LIMIT: u64 = 16 * 1024 * 1024;

/// Options of a call that follows pages into one array (`options.fetchAll`
/// and its companions). Unset limits take the defaults above.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchAll {
    /// `maxPages`: pages fetched at most.
    pub max_pages: Option<u32>,
    /// `maxItems`: items returned at most.
    pub max_items: Option<u32>,
    /// `maxCharacters`: characters of the items' JSON returned at most; a
    /// single item larger than this is returned alone, so a continuation
    /// always moves on.
    pub max_characters: Option<u64>,
    /// `continuation`: where an earlier call of the same action, input and
    /// connection was cut.
    pub continuation: Option<String>,
    /// `partial`: a page that fails after the first ends the call with the
    /// items so far (and the failure in the meta) instead of failing it.
    pub partial: bool,
}

impl FetchAll {
    /// Sets `maxPages`.
    #[must_use]
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// Sets `maxItems`.
    #[must_use]
    pub fn max_items(mut self, items: u32) -> Self {
        self.max_items = Some(items);
        self
    }

    /// Sets `maxCharacters`.
    #[must_use]
    pub fn max_characters(mut self, characters: u64) -> Self {
        self.max_characters = Some(characters);
        self
    }

    /// Resumes where the call that returned `token` was cut.
    #[must_use]
    pub fn continuation(mut self, token: impl Into<String>) -> Self {
        self.continuation = Some(token.into());
        self
    }

    /// Returns the items so far when a later page fails.
    #[must_use]
    pub fn partial(mut self) -> Self {
        self.partial = true;
        self
    }
}

/// Why following pages stopped (`meta.pagination.stopReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// The upstream named no next page (no cursor, link or URL; `hasMore` false).
    Complete,
    /// A page without items.
    EmptyPage,
    /// A page with fewer items than the page size (offset and page strategies).
    ShortPage,
    /// The next cursor was one already followed.
    RepeatedCursor,
    /// The next URL was one already followed.
    RepeatedUrl,
    /// A page was the same as the one before (an upstream ignoring the
    /// offset or page number); its items were not taken again.
    RepeatedPage,
    /// The next-page URL does not parse.
    InvalidNextUrl,
    /// `maxPages` was reached.
    MaxPages,
    /// `maxItems` was reached.
    MaxItems,
    /// `maxCharacters` was reached.
    MaxCharacters,
    /// A page failed.
    PageFailed,
}

impl StopReason {
    /// Every reason, for documents that list them (the gateway's OpenAPI
    /// document is checked against it).
    pub const ALL: [StopReason; 11] = [
        Self::Complete,
        Self::EmptyPage,
        Self::ShortPage,
        Self::RepeatedCursor,
        Self::RepeatedUrl,
        Self::RepeatedPage,
        Self::InvalidNextUrl,
        Self::MaxPages,
        Self::MaxItems,
        Self::MaxCharacters,
        Self::PageFailed,
    ];
}

/// What following pages did (`meta.pagination`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PaginationMeta {
    /// Pages fetched.
    pub pages: u32,
    /// Items returned.
    pub items: u64,
    /// Whether more items are there to fetch (a limit or a failed page).
    pub truncated: bool,
    /// Pass it back as `continuation` to go on at the next item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation: Option<String>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// With `partial`: the failure of the page it stopped at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PageFailure>,
}

/// A failed page, reported with `partial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PageFailure {
    /// The error's code (`UPSTREAM_ERROR`…).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// One page of a paginated action.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page {
    /// 1 for the first page fetched.
    pub number: u32,
    /// Its items (without those a continuation had returned already).
    pub items: Vec<Value>,
    /// The upstream's status.
    pub upstream_status: u16,
    position: Position,
    skipped: usize,
}

/// The limits of one `fetchAll`, checked.
struct Limits {
    pages: u32,
    items: u64,
    characters: u64,
    partial: bool,
}

impl Limits {
    fn new(options: &FetchAll) -> Result<Self, Error> {
        fn check<T: PartialOrd + Copy + std::fmt::Display + From<u8>>(
            name: &str,
            value: Option<T>,
            default: T,
            max: T,
        ) -> Result<T, Error> {
            let value = value.unwrap_or(default);
            if value < T::from(1) || value > max {
                return Err(Error::input(
                    "",
                    name,
                    format!("options.{name} must be between 1 and {max}"),
                ));
            }
            Ok(value)
        }
        Ok(Self {
            pages: check(
                "maxPages",
                options.max_pages,
                DEFAULT_MAX_PAGES,
                MAX_PAGES_LIMIT,
            )?,
            items: check(
                "maxItems",
                options.max_items,
                DEFAULT_MAX_ITEMS,
                MAX_ITEMS_LIMIT,
            )?
            .into(),
            characters: check(
                "maxCharacters",
                options.max_characters,
                DEFAULT_MAX_CHARACTERS,
                MAX_CHARACTERS_LIMIT,
            )?,
            partial: options.partial,
        })
    }
}

/// One paginated call in progress: what every page's request needs.
struct Session {
    exec: Executor,
    tenant: String,
    input: Value,
    options: CallOptions,
    target: Target,
    credential: Credential,
    /// The first page's URL: pages on another origin get no credentials.
    first_url: Url,
    pager: Pager,
    pages: u32,
}

impl Session {
    /// Starts at the first page, or where `options.fetchAll.continuation` says.
    fn new(
        exec: &Executor,
        call: &Call,
        input: Value,
        target: Target,
        credential: Credential,
    ) -> Result<Self, Error> {
        let action = target.action.clone();
        let spec = action.def.pagination.as_ref().ok_or_else(|| {
            Error::input(
                "",
                "fetchAll",
                format!(
                    "options.fetchAll: action '{}.{}' has no pagination settings; call it without fetchAll, or add pagination to its definition",
                    call.integration, call.action
                ),
            )
        })?;
        let first_url = request::build(&target.action, target.base(), &input)?.url;
        let mut session = Self {
            exec: exec.clone(),
            tenant: call.tenant.clone(),
            options: call.options.clone(),
            pager: Pager::new(spec, &input, None),
            input,
            target,
            credential,
            first_url,
            pages: 0,
        };
        let token = call
            .options
            .fetch_all
            .as_ref()
            .and_then(|f| f.continuation.as_deref());
        if let Some(token) = token {
            let Resume { position, skip } = session.binding().open(token)?;
            session.pager = Pager::new(spec, &session.input, Some((position, skip)));
        }
        Ok(session)
    }

    /// What a continuation of this call is bound to.
    fn binding(&self) -> Binding<'_> {
        Binding {
            key: &self.exec.inner.continuation_key,
            tenant: &self.tenant,
            integration: &self.target.integration.def.slug,
            action: &self.target.action.def.slug,
            connection: &self.target.connection.name,
            input: &self.input,
        }
    }

    /// The next page; `None` once the pager stopped.
    async fn next(&mut self, run: &mut Run) -> Option<Result<Page, Error>> {
        let (position, _) = self.pager.resume_point()?;
        Some(self.fetch(position, run).await)
    }

    /// One page, in a `page` span (decision 92).
    #[tracing::instrument(name = "page", level = "debug", skip_all, fields(page = self.pages + 1))]
    async fn fetch(&mut self, position: Position, run: &mut Run) -> Result<Page, Error> {
        let action = &self.target.action;
        let mut request = self
            .pager
            .request(&position, action, self.target.base(), &self.input)?;
        let url = request.url.clone();
        // A next-page URL on another origin gets what a redirect there gets:
        // no credential, no credential-bearing headers.
        let same_origin = url.origin() == self.first_url.origin();
        if !same_origin {
            strip_for_other_origin(&self.first_url, &url, &mut request.headers);
        }
        let scope = Scope {
            tenant: &self.tenant,
            target: &self.target,
            credential: same_origin.then_some(&self.credential),
            options: &self.options,
        };
        let response = self.exec.send(&scope, request, run).await?;
        let mut body = run.data.take().unwrap_or_else(|| response.data());
        // Steps 10 and 11 on each page, before its items are taken out.
        let json = super::validate_response::is_json(&response);
        self.exec.output(
            &self.tenant,
            &self.options,
            &self.target,
            json,
            &mut body,
            run,
        )?;
        let page = self
            .pager
            .accept(&position, &url, &response.headers, &response.body, body)?;
        self.pages += 1;
        tracing::debug!(
            request_id = %run.request_id,
            page = self.pages,
            items = page.items.len(),
            status = response.status.as_u16(),
            "page fetched"
        );
        Ok(Page {
            number: self.pages,
            items: page.items,
            upstream_status: response.status.as_u16(),
            position,
            skipped: page.skipped,
        })
    }
}

/// Where the page stream is.
enum State {
    Start(Executor, Box<Call>),
    Running(Box<Session>, Box<Run>),
    Done,
}

impl Executor {
    /// The pages of a paginated action as a stream: each page is fetched
    /// when the stream is polled for it, through the same steps as a call
    /// (limiter, breaker, authorize, retry), so memory stays flat however
    /// long the list is. It ends when the upstream names no next page or a
    /// loop guard stops it (a repeated cursor or URL, an empty, short or
    /// repeated page), and after the first error. A continuation in
    /// `call.options.fetch_all` is honoured; its limits are refused (the
    /// consumer stops by dropping the stream). Streams write no request-log
    /// entry; each page emits a `debug` tracing event.
    ///
    /// ```no_run
    /// # async fn demo(exec: waygate_core::pipeline::Executor, call: waygate_core::pipeline::Call) -> Result<(), waygate_core::Error> {
    /// use futures::TryStreamExt;
    /// let mut pages = exec.pages(call);
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("page {}: {} items", page.number, page.items.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pages(&self, call: Call) -> BoxStream<'static, Result<Page, Error>> {
        stream::unfold(
            State::Start(self.clone(), Box::new(call)),
            |state| async move {
                let (mut session, mut run) = match state {
                    State::Done => return None,
                    State::Running(session, run) => (session, run),
                    State::Start(exec, call) => {
                        let mut run = Box::new(Run::new(&call.options));
                        match exec.page_session(&call, &mut run).await {
                            Ok(session) => (Box::new(session), run),
                            Err(e) => return Some((Err(e), State::Done)),
                        }
                    }
                };
                match session.next(&mut run).await? {
                    Ok(page) => Some((Ok(page), State::Running(session, run))),
                    Err(e) => Some((Err(e), State::Done)),
                }
            },
        )
        .boxed()
    }

    /// The items of a paginated action, page after page, as a stream (see
    /// [`Executor::pages`]).
    pub fn items(&self, call: Call) -> BoxStream<'static, Result<Value, Error>> {
        self.pages(call)
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// The steps before the first page, for a stream.
    async fn page_session(&self, call: &Call, run: &mut Run) -> Result<Session, Error> {
        if let Some(f) = &call.options.fetch_all
            && (f.max_pages.is_some()
                || f.max_items.is_some()
                || f.max_characters.is_some()
                || f.partial)
        {
            return Err(Error::input(
                "",
                "fetchAll",
                "a page stream takes no maxPages, maxItems, maxCharacters or partial: stop by dropping the stream",
            ));
        }
        let target = self.target(call).await?;
        run.connection = Some(target.connection.name.clone());
        let input = super::prepared_input(&target, &call.input, &mut run.mappings);
        self.validate(&input, &target)?;
        let credential = self.credential(&call.tenant, &target).await?;
        self.no_connector(&target)?;
        Session::new(self, call, input.into_owned(), target, credential)
    }

    fn no_connector(&self, target: &Target) -> Result<(), Error> {
        match self.connector(target) {
            Some(_) => Err(Error::input(
                "",
                "fetchAll",
                "this action runs a connector, which does not page; call it without fetchAll",
            )),
            None => Ok(()),
        }
    }

    /// `fetchAll`: pages collected into one array within the limits; what
    /// happened goes to `run.pagination` (and so to the invocation's meta, on
    /// success and on failure).
    pub(super) async fn fetch_all(
        &self,
        call: &Call,
        input: &Value,
        options: &FetchAll,
        target: &Target,
        credential: &Credential,
        run: &mut Run,
    ) -> Result<Value, Error> {
        let limits = Limits::new(options)?;
        self.no_connector(target)?;
        let mut session = Session::new(
            self,
            call,
            input.clone(),
            target.clone(),
            credential.clone(),
        )?;
        let mut items = Vec::new();
        let mut characters = 0;
        let (stop, resume, failure) = loop {
            let Some(next) = session.pager.resume_point() else {
                let stop = session.pager.stop_reason().unwrap_or(StopReason::Complete);
                break (stop, None, None);
            };
            let cut = if session.pages >= limits.pages {
                Some(StopReason::MaxPages)
            } else if items.len() as u64 >= limits.items {
                Some(StopReason::MaxItems)
            } else if characters >= limits.characters {
                Some(StopReason::MaxCharacters)
            } else {
                None
            };
            if let Some(reason) = cut {
                break (reason, Some(next), None);
            }
            let Page {
                items: page,
                position,
                skipped,
                ..
            } = match session.fetch(next.0.clone(), run).await {
                Ok(page) => page,
                Err(e) => break (StopReason::PageFailed, Some(next), Some(e)),
            };
            let mut taken = 0;
            let mut cut = None;
            for item in page {
                let size = json_text_size(&item).characters;
                if items.len() as u64 >= limits.items {
                    cut = Some(StopReason::MaxItems);
                } else if characters + size > limits.characters && !items.is_empty() {
                    cut = Some(StopReason::MaxCharacters);
                }
                if cut.is_some() {
                    break;
                }
                characters += size;
                items.push(item);
                taken += 1;
            }
            if let Some(reason) = cut {
                break (reason, Some((position, skipped + taken)), None);
            }
        };
        let continuation =
            resume.map(|(position, skip)| session.binding().seal(&Resume { position, skip }));
        let mut meta = PaginationMeta {
            pages: session.pages,
            items: items.len() as u64,
            truncated: continuation.is_some(),
            continuation,
            stop_reason: stop,
            error: None,
        };
        match failure {
            // A first page that fails is the call failing, partial or not.
            Some(e) if limits.partial && session.pages > 0 => {
                meta.error = Some(PageFailure {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                });
                run.pagination = Some(meta);
                Ok(Value::Array(items))
            }
            Some(e) => {
                run.pagination = Some(meta);
                Err(e)
            }
            None => {
                run.pagination = Some(meta);
                Ok(Value::Array(items))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_their_range_are_refused_by_name() {
        for (options, name) in [
            (FetchAll::default().max_pages(0), "options.maxPages"),
            (
                FetchAll::default().max_items(MAX_ITEMS_LIMIT + 1),
                "options.maxItems",
            ),
            (
                FetchAll::default().max_characters(0),
                "options.maxCharacters",
            ),
        ] {
            let e = Limits::new(&options).err().expect("refused");
            assert_eq!(e.code(), "VALIDATION_ERROR");
            assert!(e.to_string().contains(name), "{e}");
        }
        let l = Limits::new(&FetchAll::default()).unwrap();
        assert_eq!((l.pages, l.items, l.characters), (5, 500, 100_000));
    }
}
