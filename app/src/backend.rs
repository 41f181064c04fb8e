//! The port between the pages and the consent service: the server binary implements it and
//! provides it as Leptos context, so server functions stay free of storage and signing details.

use crate::domain::decision::CurrentConsent;
use crate::domain::{ConsentRequest, ConsentSource, ConsentStatus, DecisionError, Policy};
use http::HeaderValue;
use http::request::Parts;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait ConsentBackend: Send + Sync + 'static {
    /// The current policy.
    fn policy(&self) -> Arc<Policy>;

    /// The visitor's standing decision and the current policy in their language.
    async fn status(&self, request: &Parts) -> Result<ConsentStatus, BackendError>;

    /// Checks a decision against the current policy, records it, and returns the new standing
    /// decision with the `Set-Cookie` values that carry it.
    async fn record(
        &self,
        request: &Parts,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<Recorded, BackendError>;
}

/// The handle the server provides as context to pages and server functions.
pub type SharedBackend = Arc<dyn ConsentBackend>;

#[derive(Debug)]
pub struct Recorded {
    pub consent: CurrentConsent,
    pub set_cookies: Vec<HeaderValue>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Invalid(#[from] DecisionError),
    /// Details are logged by the implementation and never shown to visitors.
    #[error("the consent service failed; please try again")]
    Internal,
}
