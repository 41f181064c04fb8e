//! The operator console's server side: its pages' data, charts, session and audit export.

pub mod charts;
pub mod day_summaries;
pub mod export;
pub mod history;
