//! Steps 6 to 8 for one request, the one request path of every call, page
//! and connector request: authorize → guard (breaker admission, then per
//! attempt the rate limit) → transport → classify → retry. Each step is its
//! own module; this one only says their order.

use std::time::Duration;

use http::header::HeaderValue;
use tracing::Instrument as _;

use super::breaker::Guard;
use super::record::Redactor;
use super::resolve::Target;
use super::retry::{self, RetryAction, ShouldAttempt, Strategy};
use super::{CallOptions, Executor, Run, UpstreamResponse, authorize, request::HttpRequest, trace};
use crate::credential::Credential;
use crate::error::{Error, ErrorKind};

/// What every request of one invocation shares: who calls, what, with which
/// credential (`None` for a request that must carry none: a next page on
/// another origin) and options.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) target: &'a Target,
    pub(crate) credential: Option<&'a Credential>,
    pub(crate) options: &'a CallOptions,
}

impl Executor {
    /// Sends one request through steps 6 to 8; the breakers learn the last
    /// attempt's outcome.
    pub(crate) async fn send(
        &self,
        scope: &Scope<'_>,
        mut request: HttpRequest,
        run: &mut Run,
    ) -> Result<UpstreamResponse, Error> {
        let target = scope.target;
        let idempotency_key = authorize(scope, &mut request)?;
        let credential = scope.credential.unwrap_or(&Credential::None);
        // Step 12's request half. Redaction is paid for only when something
        // will be logged or returned.
        let redactor = || Redactor::for_credential(target.auth(), credential);
        let logging = self.inner.log_sink.is_some();
        if logging {
            run.request = Some(redactor().request(&request));
        }
        let may_repeat = target.action.idempotent() || idempotency_key.is_some();
        let key = target.state_key(scope.tenant);
        let clock = &self.inner.clock;
        let mut breaker = self.admit(target, &key)?;
        let options = scope.options;
        let strategy = Strategy::new(
            target
                .action
                .policies
                .retry
                .overlaid(options.retry.as_ref()),
        );
        let timeout = options.timeout.unwrap_or(target.action.policies.timeout);
        loop {
            self.rate_limit(&key, target, timeout).await?;
            run.attempts += 1;
            let span = trace::attempt(run.attempts);
            let sent_at = clock.instant();
            let outcome = self
                .inner
                .exchange
                .send(&request, &run.request_id_header, timeout)
                .instrument(span.clone())
                .await;
            trace::attempted(&span, &outcome, clock.instant().duration_since(sent_at));
            let verdict = retry::classify(&outcome, clock.now());
            if let (Some(guard), Some(health)) = (&mut breaker, verdict.health) {
                guard.attempted(health, clock.instant());
            }
            if let Ok(r) = &outcome {
                run.upstream_status = Some(r.status.as_u16());
            }
            match strategy.should_attempt(run.attempts, verdict.retry, may_repeat) {
                ShouldAttempt::YesAfter(delay) => clock.sleep(delay).await,
                ShouldAttempt::No => {
                    let response = outcome?;
                    if logging {
                        let data = response.data();
                        run.response = Some(redactor().response(&data));
                        run.data = Some(data);
                    }
                    return finish(response, run.data.as_ref(), verdict.retry, redactor);
                }
            }
        }
    }

    /// Step 7a: breaker admission, once per invocation; the guard records
    /// its outcome when the caller returns, however it returns (breaker.rs).
    fn admit(&self, target: &Target, key: &str) -> Result<Option<Guard>, Error> {
        let policy = &target.integration.policies.breaker;
        if !policy.enabled {
            return Ok(None);
        }
        let now = self.inner.clock.instant();
        self.inner
            .breakers
            .admit(key, &target.action.def.slug, policy, now)
            .map(Some)
            .map_err(|retry_after| Error::new(ErrorKind::CircuitOpen { retry_after }))
    }

    /// Step 7b: waits for the outbound rate limit when the wait fits in the
    /// timeout, else refuses at once (decision 3).
    #[tracing::instrument(name = "rate_limit", level = "debug", skip_all)]
    async fn rate_limit(&self, key: &str, target: &Target, timeout: Duration) -> Result<(), Error> {
        let Some(policy) = target.integration.policies.rate_limit else {
            return Ok(());
        };
        let Some(wait) = self.inner.limiters.wait_time(key, policy) else {
            return Ok(());
        };
        if wait <= timeout {
            self.inner.clock.sleep(wait).await;
            match self.inner.limiters.wait_time(key, policy) {
                None => return Ok(()),
                Some(again) => return Err(outbound_limit(again)),
            }
        }
        Err(outbound_limit(wait))
    }
}

/// Steps 5 (the idempotency key, generated when the action takes one) and 6
/// (the credential, unless the scope carries none), applied once for all
/// attempts; returns the key.
#[tracing::instrument(name = "authorize", level = "debug", skip_all)]
pub(super) fn authorize(
    scope: &Scope<'_>,
    request: &mut HttpRequest,
) -> Result<Option<String>, Error> {
    let target = scope.target;
    let key = idempotency_key(target, scope.options);
    set_idempotency_key(target, key.as_deref(), request)?;
    if let Some(credential) = scope.credential {
        authorize::apply(
            target.auth(),
            &target.action.def.parameters,
            credential,
            request,
        )?;
    }
    Ok(key)
}

/// The idempotency key of one request, kept across its attempts: the caller's,
/// or a fresh random UUID when the action takes a key (`idempotencyKey: true`).
fn idempotency_key(target: &Target, options: &CallOptions) -> Option<String> {
    options.idempotency_key.clone().or_else(|| {
        target.action.def.idempotency_key.then(|| {
            uuid::Builder::from_random_bytes(rand::random())
                .into_uuid()
                .to_string()
        })
    })
}

/// Step 5's last part: the idempotency key in the integration's header.
fn set_idempotency_key(
    target: &Target,
    key: Option<&str>,
    request: &mut HttpRequest,
) -> Result<(), Error> {
    let Some(key) = key else {
        return Ok(());
    };
    let value = HeaderValue::from_str(key).map_err(|_| {
        Error::input(
            "",
            "idempotencyKey",
            "the idempotency key must be visible ASCII",
        )
    })?;
    request.headers.insert(
        target.integration.policies.idempotency_header.clone(),
        value,
    );
    Ok(())
}

fn outbound_limit(wait: Duration) -> Error {
    Error::new(ErrorKind::RateLimited {
        retry_after: Some(wait),
        upstream_status: None,
        upstream_body: None,
    })
}

/// A final upstream answer: success, or the error its status means. An error
/// body is scrubbed of the credential's secrets: upstreams do echo them back.
/// `parsed` is the body as JSON when logging has parsed it already.
fn finish<'a>(
    response: UpstreamResponse,
    parsed: Option<&serde_json::Value>,
    verdict: RetryAction,
    redactor: impl FnOnce() -> Redactor<'a>,
) -> Result<UpstreamResponse, Error> {
    let status = response.status.as_u16();
    if response.status.is_success() {
        return Ok(response);
    }
    let body = match parsed {
        Some(data) => redactor().value(data),
        None => redactor().value(&response.data()),
    };
    let kind = if status == 429 {
        let retry_after = match verdict {
            RetryAction::Retry(_, delay) => delay,
            RetryAction::NoOpinion => None,
        };
        ErrorKind::RateLimited {
            retry_after,
            upstream_status: Some(429),
            upstream_body: Some(body),
        }
    } else {
        ErrorKind::Upstream { status, body }
    };
    Err(Error::new(kind).sent())
}
