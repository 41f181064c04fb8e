#![forbid(unsafe_code)]
//! The ZecCloud Consent server: axum, Leptos SSR, SSAIDs, consent records on SQLite or PostgreSQL.

pub mod clock;
pub mod config;
pub mod console;
pub mod cookies;
pub mod domain;
pub mod embed_assets;
pub mod error;
pub mod http;
pub mod matomo;
pub mod matomo_privacy;
pub mod metrics;
pub mod openapi;
pub mod policies;
pub mod retention;
pub mod risk;
pub mod routes;
pub mod serve;
pub mod service;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod tokens;
