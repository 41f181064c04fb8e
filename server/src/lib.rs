#![forbid(unsafe_code)]
//! The ZecCloud Consent server: axum, Leptos SSR, SSAIDs, consent records on SQLite or PostgreSQL.

pub mod config;
pub mod cookies;
pub mod domain;
pub mod error;
pub mod matomo;
pub mod metrics;
pub mod policies;
pub mod routes;
pub mod service;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tokens;
pub mod visitor;
