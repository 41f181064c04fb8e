//! The consent log's port (docs/consent-log.md): its leaves, numbered by the database in commit
//! order; its signed heads; what `server log verify` reads; the verification results.

use super::StorageError;
use crate::domain::log::{LogContents, StoredLeaf};
use chrono::{DateTime, Utc};

/// One run of the whole-log check, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerification {
    pub ran_at: DateTime<Utc>,
    pub tree_size: u64,
    pub heads: u64,
    pub clean: bool,
    pub problems: u64,
    /// The first problem, as a sentence.
    pub first_problem: Option<String>,
}

#[async_trait::async_trait]
pub trait LogStore: Send + Sync {
    /// Up to `limit` leaves from index `start` on, in order.
    async fn log_leaves_from(
        &self,
        start: u64,
        limit: u64,
    ) -> Result<Vec<StoredLeaf>, StorageError>;
    /// The hashes of up to `limit` leaves from index `start` on, in order: what an instance
    /// reads to catch up with the tree.
    async fn log_leaf_hashes_from(
        &self,
        start: u64,
        limit: u64,
    ) -> Result<Vec<crate::domain::log::Hash>, StorageError>;
    /// The leaf of one consent decision.
    async fn log_leaf_of_decision(
        &self,
        event_id: uuid::Uuid,
    ) -> Result<Option<StoredLeaf>, StorageError>;
    /// Logs the records written without a leaf (decisions from before the log, or written by
    /// an older release during a rolling upgrade; policy versions published before the log),
    /// in the order they were recorded. Returns how many it logged.
    async fn log_unlogged_records(&self) -> Result<u64, StorageError>;
    /// Stores a signed head unless one of that size is stored; whether it was stored.
    async fn store_log_head(
        &self,
        tree_size: u64,
        root_hash: &str,
        signed_at: DateTime<Utc>,
        key_id: &str,
        note: &str,
    ) -> Result<bool, StorageError>;
    /// The largest stored head's note.
    async fn latest_log_head(&self) -> Result<Option<String>, StorageError>;
    /// The stored head of one size.
    async fn log_head_of_size(&self, tree_size: u64) -> Result<Option<String>, StorageError>;
    /// The `limit` largest heads, largest first.
    async fn recent_log_heads(&self, limit: u64) -> Result<Vec<String>, StorageError>;
    /// Everything the whole-log check reads: every leaf, every record's digest (its commitment
    /// recomputed from the stored columns), the deleted leaves, every head.
    async fn log_contents(&self) -> Result<LogContents, StorageError>;
    async fn record_log_verification(
        &self,
        verification: &LogVerification,
    ) -> Result<(), StorageError>;
    async fn last_log_verification(&self) -> Result<Option<LogVerification>, StorageError>;
}
