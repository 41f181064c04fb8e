//! What every layer uses and no layer owns: configuration, the clock, cookie attributes, token
//! signing, logs and metrics.

pub mod clock;
pub mod config;
pub mod cookies;
pub mod metrics;
pub mod telemetry;
pub mod tokens;
