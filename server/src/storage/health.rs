//! The health port: whether the database answers.

use super::StorageError;

/// What readiness checks (the operations listener's `/healthz/ready`).
#[async_trait::async_trait]
pub trait StorageHealth: Send + Sync {
    /// One trivial query.
    async fn ping(&self) -> Result<(), StorageError>;
}
