//! What every layer uses and no layer owns: configuration, the clock, cookie attributes, token
//! signing, logs and metrics, the visitor's country.

pub mod clock;
pub mod config;
pub mod cookies;
pub mod geoip;
pub mod metrics;
pub mod telemetry;
pub mod tokens;
