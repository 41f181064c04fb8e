//! The service as the pages see it (`app::backend::ConsentBackend`), bound to one request.

use super::{ConsentService, RequestContext};
use app::backend::{BackendError, ConsentBackend, WithCookies};
use app::domain::my_data::{MyData, MyDecision, MySighting, latest};
use app::domain::{ConsentRequest, ConsentSource, ConsentStatus, Policy, RecordedChoice};
use std::sync::Arc;

/// The consent service and the request it answers; made per page render or server-function
/// call by the HTTP layer.
pub struct BoundConsent {
    pub service: Arc<ConsentService>,
    pub request: RequestContext,
    /// The status already read for this request (by the page cache), so a page rendered after
    /// it does not read it again: reading it may record a GPC default, which must happen once.
    pub status: Option<WithCookies<ConsentStatus>>,
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
        match &self.status {
            Some(status) => Ok(status.clone()),
            None => self.service.status(&self.request).await,
        }
    }

    async fn record(
        &self,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<WithCookies<RecordedChoice>, BackendError> {
        self.service.record(&self.request, consent, source).await
    }

    async fn my_data(&self) -> Result<MyData, BackendError> {
        let visitor = self.request.visitor.as_ref().ok_or_else(|| {
            BackendError::internal("\"Your data\" reached the service without a visitor")
        })?;
        let issued = &visitor.issued;
        let data = self
            .service
            .subject(
                &issued.ssaid,
                Some((issued.issued_at, issued.terminal_type)),
            )
            .await
            .map_err(BackendError::from)?;
        let (decisions, earlier_decisions) = latest(data.consent_events);
        let (sightings, earlier_sightings) = latest(data.sightings);
        Ok(MyData {
            ssaid: data.identifier.ssaid.as_str().to_owned(),
            issued_at: data.identifier.issued_at.map(|at| at.timestamp()),
            stored: data.identifier.stored,
            decisions: decisions
                .into_iter()
                .map(|event| MyDecision {
                    event_id: event.id.to_string(),
                    at: event.created_at.timestamp(),
                    action: event.action.to_owned(),
                    policy_version: event.policy_version,
                    network: event.ip_prefix,
                })
                .collect(),
            earlier_decisions,
            sightings: sightings
                .into_iter()
                .map(|sighting| MySighting {
                    day: sighting.day,
                    network: sighting.network,
                    service: sighting.service,
                })
                .collect(),
            earlier_sightings,
            matomo_visitor_id: data.matomo.visitor_id,
        })
    }
}
