//! The port between the pages and the consent service. The server binds its service to the
//! request being answered (what the HTTP layer read from it: the visitor, a trusted consent,
//! the language, GPC, the network) and provides it as Leptos context, so pages and server
//! functions see neither headers nor storage nor signing.

use crate::ErrorCode;
use crate::domain::{
    ConsentRequest, ConsentSource, ConsentStatus, DecisionError, Policy, RecordedChoice,
};
use http::HeaderValue;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait ConsentBackend: Send + Sync + 'static {
    /// The current policy.
    fn policy(&self) -> Arc<Policy>;

    /// The language this request is answered in (`<html lang>`, the banner's texts).
    fn language(&self) -> &'static str;

    /// The visitor's standing decision, why the banner must ask (if it must), and the current
    /// policy in their language. A browser sending `Sec-GPC: 1` without a decision gets the
    /// GPC default recorded here, hence the cookies.
    async fn status(&self) -> Result<WithCookies<ConsentStatus>, BackendError>;

    /// Checks a decision against the current policy, records it, and returns the new standing
    /// decision with the `Set-Cookie` values that carry it and expire refused identifiers.
    async fn record(
        &self,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError>;

    /// What is stored under the visitor's SSAID (notice §07), as "Your data" shows it.
    async fn my_data(&self) -> Result<crate::domain::my_data::MyData, BackendError>;
}

/// The handle the server provides as context to pages and server functions, bound to the
/// request being answered.
pub type SharedBackend = Arc<dyn ConsentBackend>;

/// A value and the `Set-Cookie` headers the response must carry with it.
#[derive(Debug, Clone)]
pub struct WithCookies<T> {
    pub value: T,
    pub set_cookies: Vec<HeaderValue>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Invalid(#[from] DecisionError),
    /// The cause is for the log, where the response is made; visitors see only the message.
    #[error("the consent service failed; please try again")]
    Internal(String),
    /// Storage cannot be reached for now (a database restart, an outage): nothing was saved,
    /// and trying again shortly will do.
    #[error("your choice could not be saved right now; please try again in a moment")]
    Unavailable(String),
}

impl BackendError {
    /// Wraps a failure whose details must not reach the visitor.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The answer's code, and with it its status: the same for the JSON API and the server
    /// functions.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(invalid) => invalid.code(),
            Self::Internal(_) => ErrorCode::Internal,
            Self::Unavailable(_) => ErrorCode::StorageUnavailable,
        }
    }
}
