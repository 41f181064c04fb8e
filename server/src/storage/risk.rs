//! The risk port: where SSAIDs were seen (sightings) and how many events came from each
//! address and network (counters), which SSAID assessments read.

use super::StorageError;
use crate::domain::Ssaid;
use crate::domain::risk::{AddressCount, CounterKind, Sighting};
use chrono::{DateTime, Utc};

/// Sightings and per-address counters: what risk control uses.
#[async_trait::async_trait]
pub trait RiskStore: Send + Sync {
    /// Adds one sighting: a new row for its SSAID, network and day, or that row's counts,
    /// terminal types, last time and caller updated (never more than one row per day).
    async fn record_sighting(&self, sighting: &Sighting) -> Result<(), StorageError>;
    /// The SSAID's sightings last seen at or after `since`, oldest first.
    async fn sightings_of(
        &self,
        ssaid: &Ssaid,
        since: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, StorageError>;
    /// Adds counts to the per-address counters (one upsert each).
    async fn add_address_counts(&self, counts: &[AddressCount]) -> Result<(), StorageError>;
    /// A network's counts of `kind` over the windows starting at or after `since`, per address
    /// (its keyed hash), in no particular order.
    async fn counts_by_address(
        &self,
        network: &str,
        kind: CounterKind,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, u64)>, StorageError>;
}
