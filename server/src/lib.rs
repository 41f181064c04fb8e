#![forbid(unsafe_code)]
//! The ZecCloud Consent server: axum, Leptos SSR, SSAIDs, consent records on SQLite or PostgreSQL.
//!
//! One folder per layer, outermost first: `http` (the edge: extractors, middleware, the
//! connection loop), `routes` (thin handlers), `service` (what the service does), `storage`
//! (SQLite and PostgreSQL), `domain` (pure rules, no I/O), and `infra` (configuration, clock,
//! cookies, tokens, logs and metrics, used by every layer). `startup` and `state` put them
//! together.

pub mod domain;
pub mod error;
pub mod http;
pub mod infra;
pub mod routes;
pub mod service;
pub mod startup;
pub mod state;
pub mod storage;
