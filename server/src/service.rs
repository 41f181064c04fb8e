//! The consent service: checks decisions against the policy, records them, and signs the
//! consent cookie. Pages reach it as [`app::backend::ConsentBackend`]; the JSON API directly.

use crate::cookies::{self, CONSENT_COOKIE, CookiePolicy};
use crate::domain::ConsentClaims;
use crate::domain::claims::CONSENT_AUDIENCE;
use crate::storage::{ConsentEvent, Storage};
use crate::tokens::TokenSigner;
use crate::visitor::Visitor;
use app::backend::{BackendError, ConsentBackend, Recorded};
use app::domain::{ConsentRequest, ConsentSource, ConsentStatus, CurrentConsent, Decision, Policy};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use http::request::Parts;
use std::sync::Arc;

/// Now, to the microsecond: the precision both engines store.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

pub struct ConsentService {
    pub storage: Arc<dyn Storage>,
    pub tokens: Arc<TokenSigner>,
    pub cookies: CookiePolicy,
    pub policy: Arc<Policy>,
}

impl ConsentService {
    /// The standing decision carried by a trusted consent cookie, if any.
    pub fn current_consent(&self, headers: &http::HeaderMap) -> Option<CurrentConsent> {
        let token = cookies::read(headers, CONSENT_COOKIE)?;
        match self
            .tokens
            .verify::<ConsentClaims>(&token, CONSENT_AUDIENCE)
        {
            Ok(claims) => Some(claims.into_current()),
            Err(reason) => {
                tracing::info!(event = "consent_cookie_rejected", %reason, "ignoring untrusted consent cookie");
                None
            }
        }
    }

    /// The current policy in the visitor's language and their standing decision.
    pub fn status(&self, headers: &http::HeaderMap) -> ConsentStatus {
        ConsentStatus {
            policy: self.policy.view(&self.policy.default_language),
            current: self.current_consent(headers),
        }
    }

    pub async fn record_for(
        &self,
        visitor: &Visitor,
        request: ConsentRequest,
        source: ConsentSource,
    ) -> Result<Recorded, BackendError> {
        let decision = Decision::validate(&self.policy, request)?;
        let now = now();
        let event = ConsentEvent {
            id: uuid::Uuid::now_v7(),
            ssaid: visitor.ssaid.as_str().to_owned(),
            policy_version: decision.policy_version.clone(),
            categories: decision.category_states(),
            action: decision.action,
            source,
            created_at: now,
        };
        self.storage
            .insert_consent_event(&event)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "could not record a consent event");
                BackendError::Internal
            })?;
        tracing::info!(
            event = "consent_recorded",
            consent_id = %event.id,
            action = event.action.as_str(),
            source = source.as_str(),
            policy_version = %event.policy_version,
        );
        let lifetime = i64::try_from(self.cookies.consent_lifetime.as_secs()).unwrap_or(i64::MAX);
        let claims = ConsentClaims::new(&decision, event.id.to_string(), now.timestamp(), lifetime);
        let cookie = self.cookies.consent(self.tokens.sign(&claims));
        Ok(Recorded {
            consent: claims.into_current(),
            set_cookies: vec![cookie],
        })
    }
}

#[async_trait::async_trait]
impl ConsentBackend for ConsentService {
    fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policy)
    }

    async fn status(&self, request: &Parts) -> Result<ConsentStatus, BackendError> {
        Ok(ConsentService::status(self, &request.headers))
    }

    async fn record(
        &self,
        request: &Parts,
        consent: ConsentRequest,
        source: ConsentSource,
    ) -> Result<Recorded, BackendError> {
        let visitor = request.extensions.get::<Visitor>().ok_or_else(|| {
            tracing::error!("server function called outside the SSAID middleware");
            BackendError::Internal
        })?;
        self.record_for(visitor, consent, source).await
    }
}
