//! The purge port: the retention purge (§04) over every table.

use super::StorageError;
use crate::domain::retention::PurgeCutoffs;
use std::collections::BTreeMap;

/// Deleting what has outlived its retention: what the retention service uses.
#[async_trait::async_trait]
pub trait PurgeStore: Send + Sync {
    /// Deletes (or with `dry_run` counts) what the cut-offs say, in batches of `batch` rows so
    /// it never holds long locks; rows per table. On PostgreSQL only one instance purges at a
    /// time: `None` when another one is purging.
    /// `progress` hears each table's running total after every batch.
    async fn purge(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
        batch: i64,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<Option<BTreeMap<String, u64>>, StorageError>;
}
