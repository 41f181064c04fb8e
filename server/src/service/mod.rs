//! What the service does, one module per job, none of which sees an HTTP request: the consent
//! core (deciding, recording, receipts), a visitor's rights, SSAID risk control, retention,
//! policy versions, the operator console's data, the Matomo gate (tracking hits), the Matomo
//! erasure (a visitor's analytics data) and the reports of undeclared identifiers.

pub mod consent;
pub mod console;
pub mod log;
pub mod matomo_erasure;
pub mod matomo_gate;
pub mod observations;
pub mod policies;
pub mod retention;
pub mod rights;
pub mod risk;

pub use consent::{
    BoundConsent, ConsentService, PseudonymKey, RequestContext, SignedReceipt, Standing, Visitor,
};
