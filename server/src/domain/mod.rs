//! Server-side rules with no I/O: identifiers, token claims, terminal types.

pub mod claims;
pub mod terminal;

pub use claims::{ConsentClaims, Ssaid, SsaidClaims};
pub use terminal::TerminalType;
