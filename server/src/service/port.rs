//! The service as the pages see it (`app::backend::ConsentBackend`), bound to one request.

use super::{ConsentService, RequestContext};
use app::backend::{BackendError, ConsentBackend, WithCookies};
use app::domain::{ConsentRequest, ConsentSource, ConsentStatus, Policy, RecordedChoice};
use std::sync::Arc;

/// The consent service and the request it answers; made per page render or server-function
/// call by the HTTP layer.
pub struct BoundConsent {
    pub service: Arc<ConsentService>,
    pub request: RequestContext,
}

#[async_trait::async_trait]
impl ConsentBackend for BoundConsent {
    fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.service.policies.cached().current().policy)
    }

    fn language(&self) -> &'static str {
        self.request.language
    }

    async fn status(&self) -> Result<WithCookies<ConsentStatus>, BackendError> {
        self.service.status(&self.request).await
    }

    async fn record(
        &self,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        self.service.record(&self.request, consent, source).await
    }
}
