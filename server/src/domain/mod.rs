//! Server-side rules with no I/O: identifiers, token claims, terminal types, published policy
//! versions, address truncation, consent receipts and Matomo tracking hits.

pub mod claims;
pub mod log;
pub mod network;
pub mod observations;
pub mod origin;
pub mod policy_diff;
pub mod published;
pub mod receipt;
pub mod retention;
pub mod rights;
pub mod risk;
pub mod rollup;
pub mod scan;
pub mod statistics;
pub mod terminal;
pub mod tracking;

// Property tests over the parsers of this module and its neighbours.
#[cfg(test)]
mod properties;

pub use claims::{ConsentClaims, Ssaid, SsaidClaims};
pub use published::{PolicyRecord, PublishOutcome, banner_text_hash, policy_hash};
pub use receipt::ConsentReceipt;
pub use terminal::TerminalType;
