//! The subjects port: everything stored under one SSAID, as its data subject reads it and as
//! erasure deletes it, and the consent ids that are no longer honoured.

use super::{ConsentEvent, SsaidRecord, StorageError};
use crate::domain::Ssaid;
use crate::domain::rights::ErasureRecord;
use crate::domain::risk::Sighting;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Everything stored under one SSAID, as read for its data subject ("Your data", the access
/// export).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectRecords {
    /// Its row, if its visitor ever decided.
    pub ssaid: Option<SsaidRecord>,
    /// Its decisions, oldest first.
    pub consent_events: Vec<ConsentEvent>,
    /// Its sightings, oldest first.
    pub sightings: Vec<Sighting>,
}

/// A data subject's rights (access and erasure) and revocation: what the rights service uses.
#[async_trait::async_trait]
pub trait SubjectStore: Send + Sync {
    /// Everything stored under an SSAID, read on one connection: its row, its decisions and
    /// every sighting, without three trips through the pool (it is most of a kept preference
    /// center's cost).
    async fn subject_records(&self, ssaid: &Ssaid) -> Result<SubjectRecords, StorageError>;
    /// Erases everything stored under an SSAID in one transaction, through the one deletion
    /// mechanism proof of consent admits: its decisions (whose ids are revoked for
    /// `revoke_for` after they were made), sightings and record. Stores and returns `evidence`
    /// with the rows deleted per table, and the revoked consent ids.
    /// With `matomo_visitor_id`, a job to delete the visitor's visits in Matomo is stored in
    /// the same transaction (the evidence then says `pending`).
    async fn erase_subject(
        &self,
        ssaid: &Ssaid,
        revoke_for: chrono::TimeDelta,
        evidence: ErasureRecord,
        matomo_visitor_id: Option<&str>,
    ) -> Result<(ErasureRecord, Vec<Uuid>), StorageError>;
    /// Earlier erasures of the same subject (by its keyed hash), oldest first.
    async fn erasures_of(&self, subject_hash: &str) -> Result<Vec<ErasureRecord>, StorageError>;
    /// Stops honouring a consent id until `expires_at` (when its cookie would have expired).
    async fn revoke_consent(
        &self,
        event_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Consent ids revoked and not yet past their cookie's expiry at `now`.
    async fn revoked_consents(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, StorageError>;
}
