//! Receipts: one recorded decision as a signed ISO/IEC TS 27560-shaped consent record.

use super::ConsentService;
use crate::domain::receipt::{
    PreviousDecision, ReceiptInput, ReceiptJurisdiction, ReceiptLogEntry,
};
use crate::domain::{ConsentReceipt, Ssaid};
use crate::storage::{ConsentEvent, StorageError};
use uuid::Uuid;

/// A signed receipt and the key that verifies it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SignedReceipt {
    pub receipt: ConsentReceipt,
    /// Compact JWS (EdDSA) whose payload is `receipt`.
    #[schema(pattern = "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$")]
    pub jws: String,
    /// The id of the key in `jwks_url` that verifies `jws`.
    pub kid: String,
    /// Where the public keys are (`GET /.well-known/jwks.json`).
    pub jwks_url: String,
}

impl ConsentService {
    /// The receipt of one recorded decision, for the visitor who made it (`requester`), or
    /// for anyone when `None` (an admin). `None` when there is no such record for this
    /// requester: existence is not revealed. `base_url` makes the links absolute.
    pub async fn receipt(
        &self,
        id: Uuid,
        requester: Option<&Ssaid>,
        base_url: &str,
    ) -> Result<Option<SignedReceipt>, StorageError> {
        let Some(event) = self.storage.find_consent_event(id).await? else {
            return Ok(None);
        };
        if requester.is_some_and(|ssaid| *ssaid != event.ssaid) {
            return Ok(None);
        }
        let snapshot = self.policies.current().await;
        let Some(published) = snapshot.find(event.policy_version.as_str()) else {
            return Err(StorageError::Corrupt(format!(
                "event {id} names unpublished policy version {}",
                event.policy_version
            )));
        };
        // The subject's decisions, oldest first: the one before this event decides its
        // event type, any after it supersedes it.
        let history = self.storage.consent_events_for(&event.ssaid).await?;
        let position = history.iter().position(|other| other.id == event.id);
        let superseded = position.is_some_and(|at| at + 1 < history.len());
        let previous_event = position
            .and_then(|at| at.checked_sub(1))
            .and_then(|at| history.get(at));
        let previous_policy = previous_event
            .map(|previous| {
                snapshot
                    .find(previous.policy_version.as_str())
                    .map(|published| &published.policy)
                    .ok_or_else(|| {
                        StorageError::Corrupt(format!(
                            "event {} names unpublished policy version {}",
                            previous.id, previous.policy_version
                        ))
                    })
            })
            .transpose()?;
        let previous = previous_event
            .zip(previous_policy)
            .map(|(previous, policy)| PreviousDecision {
                policy,
                categories: &previous.categories,
                regime: jurisdiction_of(previous).regime,
            });
        let notice_url = if published.policy.notice_url.starts_with('/') {
            format!("{base_url}{}", published.policy.notice_url)
        } else {
            published.policy.notice_url.clone()
        };
        let receipt = ConsentReceipt::build(ReceiptInput {
            record_id: event.id.to_string(),
            ssaid: event.ssaid.as_str(),
            policy: &published.policy,
            policy_hash: &published.record.hash,
            language: &event.language,
            shown_text_hash: &event.banner_text_hash,
            categories: &event.categories,
            action: event.action,
            source: event.source.as_str(),
            origin: event.origin.as_deref(),
            decided_at: event.created_at,
            made_at: event.made_at,
            superseded,
            previous,
            jurisdiction: jurisdiction_of(&event),
            controller: self.controller.clone(),
            record_storage: self.record_storage.clone(),
            log: self.log_entry(&event, base_url).await?,
            notice_url,
            preferences_url: format!("{base_url}/preferences"),
            expiry: &self.expiry,
            now: self.clock.now(),
        });
        Ok(Some(SignedReceipt {
            jws: self.receipts.sign(&receipt),
            receipt,
            kid: self.receipts.kid().to_owned(),
            jwks_url: format!("{base_url}/.well-known/jwks.json"),
        }))
    }
}

impl ConsentService {
    /// The decision's leaf as its receipt states it.
    async fn log_entry(
        &self,
        event: &ConsentEvent,
        base_url: &str,
    ) -> Result<Option<ReceiptLogEntry>, StorageError> {
        let Some(stored) = self.storage.log_leaf_of_decision(event.id).await? else {
            return Ok(None);
        };
        Ok(Some(ReceiptLogEntry {
            leaf_index: stored.index,
            leaf_hash: crate::service::log::base64_hash(stored.leaf.hash()),
            leaf_data: stored.leaf.data(),
            record: String::from_utf8_lossy(&event.log_record()).into_owned(),
            salt: event.log_salt.clone(),
            inclusion: format!("{base_url}/api/v1/log/inclusion?event_id={}", event.id),
        }))
    }
}

/// The jurisdiction a receipt states for `event`: as recorded, or, for a decision recorded
/// before jurisdictions existed, opt-in (the only regime there was), saying it was not recorded.
fn jurisdiction_of(event: &ConsentEvent) -> ReceiptJurisdiction {
    match &event.jurisdiction {
        Some(place) => ReceiptJurisdiction {
            name: place.name.clone(),
            regime: place.regime,
            country: place.country.clone(),
            country_source: place.source,
            recorded: true,
        },
        None => ReceiptJurisdiction::before_jurisdictions(),
    }
}
