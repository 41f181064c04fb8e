//! The proof page's search: a consent id or an SSAID → that visitor's decisions in order, with
//! every proof field and the texts each decision was made on.

use super::ConsoleService;
use crate::domain::Ssaid;
use crate::service::policies::PolicySnapshot;
use crate::storage::{ConsentEvent, StorageError};
use app::console::{ProofEvent, ProofOutcome};

impl ConsoleService {
    /// What the proof page shows for `query`; `None` for a blank one (the bare search form).
    pub async fn proof(&self, query: &str) -> Result<Option<ProofOutcome>, StorageError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(None);
        }
        self.find_proof(query).await.map(Some)
    }

    async fn find_proof(&self, query: &str) -> Result<ProofOutcome, StorageError> {
        let (ssaid, matched) = if let Ok(id) = uuid::Uuid::parse_str(query) {
            match self.decisions.find_consent_event(id).await? {
                Some(event) => (event.ssaid, Some(id.to_string())),
                None => {
                    return Ok(ProofOutcome::NotFound(format!(
                        "No decision has the consent id {id} (it may have been erased or purged)."
                    )));
                }
            }
        } else if let Ok(ssaid) = Ssaid::parse(query) {
            (ssaid, None)
        } else {
            return Ok(ProofOutcome::Invalid(format!(
                "{query:?} is neither a consent id (a UUID) nor an SSAID."
            )));
        };
        let events = self.decisions.consent_events_for(&ssaid).await?;
        if events.is_empty() {
            return Ok(ProofOutcome::NotFound(format!(
                "No decision is stored under the SSAID {}.",
                ssaid.as_str()
            )));
        }
        let snapshot = self.policies.current().await;
        let events = events
            .into_iter()
            .map(|event| self.proof_event(&snapshot, event))
            .collect();
        Ok(ProofOutcome::Found {
            ssaid: ssaid.as_str().to_owned(),
            matched,
            events,
        })
    }

    fn proof_event(&self, snapshot: &PolicySnapshot, event: ConsentEvent) -> ProofEvent {
        let shown = snapshot
            .find(event.policy_version.as_str())
            .map(|published| {
                published
                    .policy
                    .view(&event.language, self.consent_domain.as_deref())
            });
        let id = event.id.to_string();
        ProofEvent {
            revoked: self.revoked.contains(&id),
            id,
            decided_at: event.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            action: event.action.as_str().to_owned(),
            source: event.source.as_str().to_owned(),
            categories: event.categories,
            policy_version: event.policy_version.to_string(),
            policy_hash: event.policy_hash,
            banner_text_hash: event.banner_text_hash,
            language: event.language,
            ip_prefix: event.ip_prefix,
            terminal_type: event.ua_class.as_str().to_owned(),
            origin: event.origin,
            shown,
        }
    }
}
