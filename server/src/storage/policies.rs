//! The policies port: the published policy versions, append-only.

use super::StorageError;
use crate::domain::{PolicyRecord, PublishOutcome};

/// Publishing and reading policy versions: what the policy registry uses.
#[async_trait::async_trait]
pub trait PolicyStore: Send + Sync {
    /// Stores a policy version unless its version id is taken; a taken id is never changed.
    async fn publish_policy(&self, record: &PolicyRecord) -> Result<PublishOutcome, StorageError>;
    /// Every published version, oldest first; the last one is current.
    async fn policy_versions(&self) -> Result<Vec<PolicyRecord>, StorageError>;
}
