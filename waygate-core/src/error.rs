//! The one error type of an invocation, shaped as DESIGN.md §4 describes.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::invocation::InvocationMeta;
use crate::model::DefinitionError;
use crate::schema::Violation;

/// What went wrong; see [`Error::kind`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The integration, action or connection does not exist.
    NotFound {
        /// What was looked for: `integration 'slack'`.
        what: String,
    },
    /// The input breaks the action's input schema or cannot be put on the wire.
    InvalidInput {
        /// Each problem with its JSON pointer.
        violations: Vec<Violation>,
    },
    /// A definition cannot run.
    InvalidDefinition(DefinitionError),
    /// The integration or connection is configured so that no request can be built
    /// (no base URL, a credential of the wrong type…).
    Config {
        /// What to fix.
        message: String,
    },
    /// The connection has no usable credential (missing, expired, revoked).
    Credentials {
        /// What is wrong with it.
        message: String,
    },
    /// The outbound URL policy refused the target.
    UrlRefused {
        /// Why, with the host (never a query string).
        reason: String,
    },
    /// The circuit breaker is open; nothing was sent.
    CircuitOpen {
        /// When a probe will be let through.
        retry_after: Duration,
    },
    /// A rate limit, Waygate's own outbound one or the upstream's 429.
    RateLimited {
        /// How long to wait, when known.
        retry_after: Option<Duration>,
        /// The upstream status (429) when the upstream said so.
        upstream_status: Option<u16>,
        /// The upstream's body, when it answered.
        upstream_body: Option<Value>,
    },
    /// The upstream answered with an error status.
    Upstream {
        /// Its HTTP status.
        status: u16,
        /// Its body, parsed as JSON when it is JSON, else as text (truncated).
        body: Value,
    },
    /// No answer in time.
    Timeout {
        /// `connect` or `total`.
        phase: TimeoutPhase,
        /// The limit that ran out.
        after: Duration,
    },
    /// The upstream could not be reached or the exchange broke off.
    Transport {
        /// What happened, without URL secrets.
        message: String,
    },
    /// The upstream answered 2xx with a body that does not fit the expected output.
    InvalidResponse {
        /// What does not fit, and where.
        message: String,
        /// The body as received, when it was read whole: a typed call whose
        /// output does not decode keeps what the upstream, having acted on
        /// the request, answered.
        body: Option<Value>,
    },
    /// The upstream answered 2xx with data that breaks the action's output
    /// schema, and the action validates responses in `strict` mode.
    ResponseValidation {
        /// Each mismatch with its JSON pointer and rule.
        violations: Vec<Violation>,
    },
    /// Waygate's own storage failed; the request was not sent.
    Storage {
        /// What failed.
        message: String,
    },
    /// A connector's own failure.
    Connector {
        /// What the connector said.
        message: String,
    },
}

/// Which timeout ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPhase {
    /// Establishing the connection.
    Connect,
    /// The whole attempt.
    Total,
}

/// What a caller (person or agent) should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResolutionAction {
    /// Change the input and call again.
    RetryWithModifiedInput,
    /// Call again later.
    RetryAfterDelay,
    /// Re-authorise or replace the credential.
    RefreshCredentials,
    /// Fix the integration or connection.
    CheckIntegrationConfig,
    /// The upstream is at fault.
    ContactExternalProvider,
    /// Something only an operator can fix.
    EscalateToAdmin,
}

/// The `suggestedResolution` of the error shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedResolution {
    /// What to do.
    pub action: ResolutionAction,
    /// The same in words.
    pub description: String,
    /// Whether calling again unchanged may succeed.
    pub retryable: bool,
    /// How long to wait first, when known.
    pub retry_after_ms: Option<u64>,
}

impl SuggestedResolution {
    /// What to do about an error known only by its code and the upstream's
    /// status (a logged call keeps no more); `None` for a code Waygate does
    /// not give. Without the error itself, no retry delay is known.
    pub fn for_code(code: &str, upstream_status: Option<u16>) -> Option<Self> {
        let (action, description) = advice(code, upstream_status)?;
        Some(Self {
            action,
            description: description.to_owned(),
            retryable: retryable(code, upstream_status),
            retry_after_ms: None,
        })
    }
}

/// Whether calling again unchanged may succeed, by error code (and, for an
/// upstream error, its status).
fn retryable(code: &str, upstream_status: Option<u16>) -> bool {
    match code {
        "CIRCUIT_OPEN"
        | "RATE_LIMITED"
        | "UPSTREAM_TIMEOUT"
        | "UPSTREAM_UNREACHABLE"
        | "STORAGE_UNAVAILABLE" => true,
        "UPSTREAM_ERROR" => matches!(upstream_status, Some(408 | 425 | 500 | 502 | 503 | 504)),
        _ => false,
    }
}

/// What to do, by error code (and, for an upstream error, its status): one
/// table for live errors and logged ones.
fn advice(code: &str, upstream_status: Option<u16>) -> Option<(ResolutionAction, &'static str)> {
    use ResolutionAction as A;
    Some(match (code, upstream_status) {
        ("NOT_FOUND", _) => (
            A::CheckIntegrationConfig,
            "check the integration, action and connection names",
        ),
        ("VALIDATION_ERROR", _) => (
            A::RetryWithModifiedInput,
            "fix the fields named in details.violations and call again",
        ),
        ("INVALID_DEFINITION", _) => (
            A::CheckIntegrationConfig,
            "fix the fields named in details.problems",
        ),
        ("CONFIGURATION_ERROR", _) => (
            A::CheckIntegrationConfig,
            "fix the integration or connection settings",
        ),
        ("CREDENTIALS_ERROR", _) => (
            A::RefreshCredentials,
            "re-authorise the connection or replace its credential",
        ),
        ("URL_NOT_ALLOWED", _) => (
            A::EscalateToAdmin,
            "the target address is not allowed by the outbound URL policy",
        ),
        ("CIRCUIT_OPEN", _) => (
            A::RetryAfterDelay,
            "the upstream is failing; wait until the breaker lets a probe through",
        ),
        ("RATE_LIMITED", _) => (
            A::RetryAfterDelay,
            "wait for the rate limit to reset, then call again",
        ),
        ("UPSTREAM_ERROR", Some(401)) => (
            A::RefreshCredentials,
            "the upstream rejected the credential",
        ),
        ("UPSTREAM_ERROR", Some(403)) => (
            A::CheckIntegrationConfig,
            "the credential lacks permission (scopes, plan) for this action",
        ),
        ("UPSTREAM_ERROR", Some(400..=499)) => (
            A::RetryWithModifiedInput,
            "the upstream rejected the input; see details.upstreamBody",
        ),
        ("UPSTREAM_ERROR", _) => (
            A::ContactExternalProvider,
            "the upstream failed; try later or contact the provider",
        ),
        ("UPSTREAM_TIMEOUT" | "UPSTREAM_UNREACHABLE", _) => (
            A::RetryAfterDelay,
            "the upstream did not answer; try again later",
        ),
        ("UPSTREAM_RESPONSE_INVALID", _) => (
            A::ContactExternalProvider,
            "the upstream's answer does not match the expected output",
        ),
        ("RESPONSE_VALIDATION_ERROR", _) => (
            A::CheckIntegrationConfig,
            "the upstream's answer breaks the action's output schema at details.violations: \
             update the schema if the API changed, or set the action's validation to warn or lenient",
        ),
        ("STORAGE_UNAVAILABLE", _) => (
            A::EscalateToAdmin,
            "Waygate's storage is unavailable; try again or tell the operator",
        ),
        ("CONNECTOR_ERROR", _) => (A::EscalateToAdmin, "the connector failed; see the message"),
        _ => return None,
    })
}

/// An invocation failed. One type for every step, with queries for callers:
/// [`code`](Self::code), [`is_retryable`](Self::is_retryable),
/// [`upstream_status`](Self::upstream_status), [`may_have_been_sent`](Self::may_have_been_sent).
///
/// Its `Display` and `Debug` never contain credentials: credentials never enter it.
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    meta: Option<InvocationMeta>,
    sent: bool,
    /// The error this one was made from, for [`std::error::Error::source`].
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self(Box::new(Inner {
            kind,
            meta: None,
            sent: false,
            source: None,
        }))
    }

    /// Keeps `source` as the cause this error reports.
    fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// A definition that cannot be used, with the one problem found at `field`.
    fn definition(field: String, message: String) -> Self {
        Self::new(ErrorKind::InvalidDefinition(DefinitionError {
            problems: vec![crate::model::Problem { field, message }],
        }))
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound { what: what.into() })
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config {
            message: message.into(),
        })
    }

    /// The credential cannot be used (`CREDENTIALS_ERROR`, resolution
    /// `REFRESH_CREDENTIALS`): what a custom
    /// [`ResolveCredential`](crate::credential::ResolveCredential) returns when
    /// it has no usable credential.
    pub fn credentials(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Credentials {
            message: message.into(),
        })
    }

    /// The connection needs a person to authorise it again (`needs_reauth`);
    /// its suggested resolution is `REFRESH_CREDENTIALS`.
    pub(crate) fn needs_reauth(connection: &str) -> Self {
        Self::credentials(format!(
            "connection '{connection}' needs to be authorised again: the provider refused its refresh token"
        ))
    }

    /// An input problem at one place, for steps after schema validation
    /// (a value that cannot go into a header, say).
    pub(crate) fn input(pointer: &str, rule: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput {
            violations: vec![Violation {
                pointer: pointer.to_owned(),
                rule: rule.to_owned(),
                expected: None,
                message: message.into(),
            }],
        })
    }

    /// An error raised by a [`Connector`](crate::Connector).
    pub fn connector(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connector {
            message: message.into(),
        })
    }

    /// The same error, its message prefixed with where it happened (kinds
    /// with a free-text message; the others name their place already).
    pub(crate) fn in_context(mut self, place: &str) -> Self {
        match &mut self.0.kind {
            ErrorKind::Config { message } | ErrorKind::Credentials { message } => {
                *message = format!("{place}: {message}");
            }
            _ => {}
        }
        self
    }

    /// Marks that the request reached (or may have reached) the upstream.
    pub(crate) fn sent(mut self) -> Self {
        self.0.sent = true;
        self
    }

    pub(crate) fn with_meta(mut self, meta: InvocationMeta) -> Self {
        self.0.meta = Some(meta);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Request id, attempts and duration of the failed invocation, when it got
    /// that far.
    pub fn meta(&self) -> Option<&InvocationMeta> {
        self.0.meta.as_ref()
    }

    /// The stable machine-readable code: `VALIDATION_ERROR`, `UPSTREAM_ERROR`…
    pub fn code(&self) -> &'static str {
        match &self.0.kind {
            ErrorKind::NotFound { .. } => "NOT_FOUND",
            ErrorKind::InvalidInput { .. } => "VALIDATION_ERROR",
            ErrorKind::InvalidDefinition(_) => "INVALID_DEFINITION",
            ErrorKind::Config { .. } => "CONFIGURATION_ERROR",
            ErrorKind::Credentials { .. } => "CREDENTIALS_ERROR",
            ErrorKind::UrlRefused { .. } => "URL_NOT_ALLOWED",
            ErrorKind::CircuitOpen { .. } => "CIRCUIT_OPEN",
            ErrorKind::RateLimited { .. } => "RATE_LIMITED",
            ErrorKind::Upstream { .. } => "UPSTREAM_ERROR",
            ErrorKind::Timeout { .. } => "UPSTREAM_TIMEOUT",
            ErrorKind::Transport { .. } => "UPSTREAM_UNREACHABLE",
            ErrorKind::InvalidResponse { .. } => "UPSTREAM_RESPONSE_INVALID",
            ErrorKind::ResponseValidation { .. } => "RESPONSE_VALIDATION_ERROR",
            ErrorKind::Storage { .. } => "STORAGE_UNAVAILABLE",
            ErrorKind::Connector { .. } => "CONNECTOR_ERROR",
        }
    }

    /// Whether calling again unchanged may succeed.
    pub fn is_retryable(&self) -> bool {
        retryable(self.code(), self.upstream_status())
    }

    /// The upstream's HTTP status, when it answered.
    pub fn upstream_status(&self) -> Option<u16> {
        match &self.0.kind {
            ErrorKind::Upstream { status, .. } => Some(*status),
            ErrorKind::RateLimited {
                upstream_status, ..
            } => *upstream_status,
            _ => None,
        }
    }

    /// The upstream's body, when it answered and the error kept it: an error
    /// status, a 429, or a success whose body did not fit the expected output.
    pub fn upstream_body(&self) -> Option<&Value> {
        match &self.0.kind {
            ErrorKind::Upstream { body, .. } => Some(body),
            ErrorKind::RateLimited { upstream_body, .. } => upstream_body.as_ref(),
            ErrorKind::InvalidResponse { body, .. } => body.as_ref(),
            _ => None,
        }
    }

    /// How long to wait before calling again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.0.kind {
            ErrorKind::CircuitOpen { retry_after } => Some(*retry_after),
            ErrorKind::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the upstream may have received the request. `false` means
    /// certainly not (validation, an open breaker, a refused connection).
    pub fn may_have_been_sent(&self) -> bool {
        self.0.sent
    }

    /// Structured details for the error shape: violations, upstream status and
    /// body… and, for a `fetchAll` whose page failed, `pagination` (what was
    /// fetched, and the continuation that retries the failed page).
    pub fn details(&self) -> Value {
        let mut details = self.kind_details();
        let pagination = self.meta().and_then(|m| m.pagination.as_ref());
        if let (Some(p), Value::Object(map)) = (pagination, &mut details) {
            map.insert("pagination".into(), json!(p));
        }
        details
    }

    fn kind_details(&self) -> Value {
        match &self.0.kind {
            ErrorKind::InvalidInput { violations }
            | ErrorKind::ResponseValidation { violations } => json!({ "violations": violations }),
            ErrorKind::InvalidDefinition(e) => json!({
                "problems": e.problems.iter().map(|p| json!({"field": p.field, "message": p.message})).collect::<Vec<_>>()
            }),
            ErrorKind::Upstream { status, body } => {
                json!({"upstreamStatus": status, "upstreamBody": body})
            }
            ErrorKind::RateLimited {
                upstream_status,
                upstream_body,
                retry_after,
            } => json!({
                "upstreamStatus": upstream_status,
                "upstreamBody": upstream_body,
                "retryAfterMs": retry_after.map(|d| d.as_millis() as u64),
            }),
            ErrorKind::CircuitOpen { retry_after } => {
                json!({"retryAfterMs": retry_after.as_millis() as u64})
            }
            ErrorKind::InvalidResponse {
                body: Some(body), ..
            } => json!({"upstreamBody": body}),
            ErrorKind::Timeout { phase, after } => {
                json!({"phase": phase, "timeoutMs": after.as_millis() as u64})
            }
            _ => json!({}),
        }
    }

    /// What the caller should do next.
    pub fn suggested_resolution(&self) -> SuggestedResolution {
        let (action, description) = advice(self.code(), self.upstream_status())
            .unwrap_or((ResolutionAction::EscalateToAdmin, "see the message"));
        SuggestedResolution {
            action,
            description: description.to_owned(),
            retryable: self.is_retryable(),
            retry_after_ms: self.retry_after().map(|d| d.as_millis() as u64),
        }
    }

    /// The whole error shape of DESIGN.md §4, ready to serialise.
    pub fn to_json(&self) -> Value {
        json!({"error": {
            "code": self.code(),
            "message": self.to_string(),
            "details": self.details(),
            "requestId": self.meta().map(|m| m.request_id.clone()),
            "suggestedResolution": self.suggested_resolution(),
        }})
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            ErrorKind::NotFound { what } => write!(f, "{what} not found"),
            ErrorKind::InvalidInput { violations }
            | ErrorKind::ResponseValidation { violations } => {
                match &self.0.kind {
                    ErrorKind::InvalidInput { .. } => write!(f, "invalid input")?,
                    _ => write!(f, "the upstream's response breaks the output schema")?,
                }
                for (i, v) in violations.iter().enumerate() {
                    write!(f, "{} {}", if i == 0 { ":" } else { ";" }, v.message)?;
                }
                Ok(())
            }
            ErrorKind::InvalidDefinition(e) => write!(f, "{e}"),
            ErrorKind::Config { message } => write!(f, "configuration problem: {message}"),
            ErrorKind::Credentials { message } => write!(f, "credential problem: {message}"),
            ErrorKind::UrlRefused { reason } => write!(f, "outbound URL refused: {reason}"),
            ErrorKind::CircuitOpen { retry_after } => {
                write!(
                    f,
                    "circuit open after repeated upstream failures; next probe in {} ms",
                    retry_after.as_millis()
                )
            }
            ErrorKind::RateLimited {
                retry_after,
                upstream_status,
                ..
            } => {
                let whose = if upstream_status.is_some() {
                    "upstream"
                } else {
                    "outbound"
                };
                match retry_after {
                    Some(d) => write!(
                        f,
                        "{whose} rate limit reached; retry after {} ms",
                        d.as_millis()
                    ),
                    None => write!(f, "{whose} rate limit reached"),
                }
            }
            ErrorKind::Upstream { status, .. } => write!(f, "upstream answered HTTP {status}"),
            ErrorKind::Timeout { phase, after } => {
                let what = match phase {
                    TimeoutPhase::Connect => "connecting to the upstream",
                    TimeoutPhase::Total => "waiting for the upstream",
                };
                write!(f, "timed out {what} after {} ms", after.as_millis())
            }
            ErrorKind::Transport { message } => write!(f, "upstream unreachable: {message}"),
            ErrorKind::InvalidResponse { message, .. } => {
                write!(f, "unexpected upstream response: {message}")
            }
            ErrorKind::Storage { message } => write!(f, "storage unavailable: {message}"),
            ErrorKind::Connector { message } => write!(f, "connector failed: {message}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code())
            .field("kind", &self.0.kind)
            .field("sent", &self.0.sent)
            .field("meta", &self.0.meta)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let Some(source) = &self.0.source {
            return Some(source.as_ref());
        }
        match &self.0.kind {
            ErrorKind::InvalidDefinition(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::storage::StoreError> for Error {
    fn from(e: crate::storage::StoreError) -> Self {
        Self::new(ErrorKind::Storage {
            message: e.to_string(),
        })
    }
}

impl From<crate::tools::NameCollision> for Error {
    fn from(e: crate::tools::NameCollision) -> Self {
        Self::config(e.to_string())
    }
}

impl From<crate::url_policy::Refused> for Error {
    fn from(refused: crate::url_policy::Refused) -> Self {
        Self::new(ErrorKind::UrlRefused { reason: refused.0 })
    }
}

impl From<DefinitionError> for Error {
    fn from(e: DefinitionError) -> Self {
        Self::new(ErrorKind::InvalidDefinition(e))
    }
}

/// A definition that does not parse: `INVALID_DEFINITION` at its line and
/// column, so `?` works on [`IntegrationDef::from_yaml`](crate::IntegrationDef::from_yaml).
impl From<crate::model::FormatError> for Error {
    fn from(e: crate::model::FormatError) -> Self {
        let field = match (e.line(), e.column()) {
            (Some(line), Some(column)) => format!("line {line}, column {column}"),
            (Some(line), None) => format!("line {line}"),
            _ => "document".to_owned(),
        };
        Self::definition(field, e.to_string()).caused_by(e)
    }
}

/// An OpenAPI document that cannot be imported: `INVALID_DEFINITION` naming
/// the file and JSON pointer, so `?` works on the importer.
#[cfg(feature = "import")]
impl From<crate::import::ImportError> for Error {
    fn from(e: crate::import::ImportError) -> Self {
        let field = match (e.file(), e.pointer()) {
            (Some(file), Some(pointer)) => format!("{file}#{pointer}"),
            (Some(file), None) => file.to_owned(),
            (None, Some(pointer)) => format!("#{pointer}"),
            (None, None) => "document".to_owned(),
        };
        Self::definition(field, e.to_string()).caused_by(e)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    #[cfg(feature = "import")]
    use crate::import::{self, ImportOptions};

    #[test]
    fn a_logged_errors_resolution_is_the_live_errors() {
        for (e, status) in [
            (
                Error::new(ErrorKind::Upstream {
                    status: 401,
                    body: Value::Null,
                }),
                Some(401),
            ),
            (
                Error::new(ErrorKind::Upstream {
                    status: 422,
                    body: Value::Null,
                }),
                Some(422),
            ),
            (
                Error::new(ErrorKind::Upstream {
                    status: 503,
                    body: Value::Null,
                }),
                Some(503),
            ),
            (Error::credentials("no token"), None),
            (Error::connector("boom"), None),
        ] {
            let live = e.suggested_resolution();
            let logged = SuggestedResolution::for_code(e.code(), status).expect("a known code");
            assert_eq!(logged, live, "{}", e.code());
        }
        assert!(SuggestedResolution::for_code("NOT_A_CODE", None).is_none());
        assert!(
            SuggestedResolution::for_code("UPSTREAM_ERROR", Some(503))
                .unwrap()
                .retryable
        );
    }

    #[cfg(feature = "yaml")]
    fn parse(text: &str) -> Result<crate::IntegrationDef, Error> {
        Ok(crate::IntegrationDef::from_yaml(text)?)
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn a_definition_that_does_not_parse_converts_with_its_place_and_cause() {
        let e = parse("slug: crm\nname: [unclosed\n").unwrap_err();
        assert_eq!(e.code(), "INVALID_DEFINITION");
        let ErrorKind::InvalidDefinition(d) = e.kind() else {
            panic!("{e:?}");
        };
        assert!(d.problems[0].field.starts_with("line "), "{d:?}");
        let cause = e.source().expect("the parse error is kept");
        assert!(cause.to_string().contains("YAML"), "{cause}");
    }

    #[cfg(feature = "import")]
    #[test]
    fn an_import_error_converts_naming_the_place() {
        let run = || -> Result<(), Error> {
            let spec = r##"{"openapi": "3.0.0", "paths": {"/a": {"$ref": "#/nowhere"}}}"##;
            import::from_str(spec, &ImportOptions::default())?;
            Ok(())
        };
        let e = run().unwrap_err();
        assert_eq!(e.code(), "INVALID_DEFINITION");
        assert!(e.source().is_some(), "the import error is kept");
        assert!(e.to_string().contains("nowhere"), "{e}");
    }

    #[test]
    fn a_definition_error_is_its_own_source() {
        let e = Error::from(DefinitionError {
            problems: vec![crate::model::Problem {
                field: "slug".into(),
                message: "empty".into(),
            }],
        });
        assert!(e.source().unwrap().to_string().contains("slug: empty"));
        assert_eq!(Error::credentials("no token").code(), "CREDENTIALS_ERROR");
    }
}
