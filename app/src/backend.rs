//! The port between the pages and the consent service: the server binary implements it and
//! provides it as Leptos context, so server functions stay free of storage and signing details.

use crate::domain::{
    ConsentRequest, ConsentSource, ConsentStatus, DecisionError, Policy, RecordedChoice,
};
use http::HeaderValue;
use http::request::Parts;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait ConsentBackend: Send + Sync + 'static {
    /// The current policy.
    fn policy(&self) -> Arc<Policy>;

    /// The visitor's standing decision, why the banner must ask (if it must), and the current
    /// policy in their language. A browser sending `Sec-GPC: 1` without a decision gets the
    /// GPC default recorded here, hence the cookies.
    async fn status(&self, request: &Parts) -> Result<WithCookies<ConsentStatus>, BackendError>;

    /// Checks a decision against the current policy, records it, and returns the new standing
    /// decision with the `Set-Cookie` values that carry it and expire refused identifiers.
    async fn record(
        &self,
        request: &Parts,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError>;
}

/// The handle the server provides as context to pages and server functions.
pub type SharedBackend = Arc<dyn ConsentBackend>;

/// A value and the `Set-Cookie` headers the response must carry with it.
#[derive(Debug)]
pub struct WithCookies<T> {
    pub value: T,
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
