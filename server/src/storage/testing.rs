//! What only the black-box tests (`server/tests/api`) read from storage. It is on no port, so
//! no part of the service can come to depend on it.

use super::{Opened, Storage, StorageError};
use crate::domain::statistics::DecisionCount;
use chrono::NaiveDate;
use std::sync::Arc;

/// Reads for the tests' assertions.
#[async_trait::async_trait]
pub trait Inspect: Send + Sync {
    /// The console's counts of the days from `from` to `to`, both included: one row per day and
    /// combination of properties, written with the decisions beside their tallies (which are
    /// what the console reads).
    async fn decision_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DecisionCount>, StorageError>;
}

/// Every port, and the tests' reads.
pub trait TestStorage: Storage + Inspect {}

impl<T: Storage + Inspect + ?Sized> TestStorage for T {}

/// [`super::connect`], for a test: the same engine, opened and migrated the same way.
pub async fn connect(database_url: &str) -> Result<Arc<dyn TestStorage>, StorageError> {
    Ok(match Opened::open(database_url).await? {
        Opened::Sqlite(storage) => Arc::new(storage),
        Opened::Postgres(storage) => Arc::new(storage),
    })
}
