//! # waygate-discover
//!
//! Documentation discovery for Waygate: crawling doc sites, finding linked
//! OpenAPI specs, and extracting actions with an LLM or heuristics. It holds no
//! code yet; OpenAPI documents are imported by `waygate_core::import` today.
