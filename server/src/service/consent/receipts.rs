//! Receipts: one recorded decision as a signed ISO/IEC TS 27560-shaped consent record.

use super::ConsentService;
use crate::domain::receipt::ReceiptInput;
use crate::domain::{ConsentReceipt, Ssaid};
use crate::storage::StorageError;
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
        let latest = self.storage.latest_consent_event_for(&event.ssaid).await?;
        let superseded = latest.is_some_and(|last| last.id != event.id);
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
            controller: self.controller.clone(),
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
