//! The integration model: the data a definition file holds.
//!
//! [`IntegrationDef`] and everything under it *is* the "config as code" format of
//! `API.md`, in JSON or YAML. [`check`] tells whether a definition can run.

mod action;
mod auth;
mod check;
mod format;
mod integration;
mod mapping;
mod policy;
mod template;

pub use action::{
    ActionDef, BodyEncoding, BodySpec, CacheSpec, PaginationSpec, PaginationStrategy,
    ParamLocation, ParamStyle, Parameter, ValidationMode, ValidationSpec,
};
pub use auth::{ApiKeyLocation, AuthSpec, OAuth2Flow};
pub use check::{
    DefinitionError, MAX_TAG_CHARS, MAX_TAGS, Problem, check, check_mappings, scheme_name_problem,
    tag_problem,
};
pub use format::FormatError;
pub use integration::{DEFAULT_AUTH_SCHEME, Defaults, IntegrationDef};
pub use mapping::{FieldMapping, Mappings, Transform};
pub use policy::{BreakerConfig, RateLimitConfig, RetryConfig};
pub use template::{PathTemplate, Segment};
