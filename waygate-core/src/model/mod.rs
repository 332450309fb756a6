//! The integration model: the data a definition file holds.
//!
//! [`IntegrationDef`] and everything under it *is* the "config as code" format of
//! `API.md`, in JSON or YAML. [`check`] tells whether a definition can run.

mod action;
mod auth;
mod check;
mod format;
mod integration;
mod policy;
mod template;

pub use action::{
    ActionDef, BodyEncoding, BodySpec, CacheSpec, PaginationSpec, PaginationStrategy,
    ParamLocation, ParamStyle, Parameter, ValidationMode,
};
pub use auth::{ApiKeyLocation, AuthSpec, OAuth2Flow};
pub use check::{DefinitionError, Problem, check};
pub use format::FormatError;
pub use integration::{Defaults, IntegrationDef};
pub use policy::{BreakerConfig, RateLimitConfig, RetryConfig};
pub use template::{PathTemplate, Segment};
