//! The observations port: counts of the undeclared identifiers that embedding pages report
//! (no visitor in them: names, sites, days and the choice in force).

use super::StorageError;
use crate::domain::observations::{ObservationCount, ObservedNames};
use chrono::NaiveDate;

/// What the report endpoint writes and the console reads.
#[async_trait::async_trait]
pub trait ObservationStore: Send + Sync {
    /// Counts one more report of each name: one statement, whatever the number of names.
    async fn add_observations(&self, observed: &ObservedNames) -> Result<(), StorageError>;

    /// The counts of the days from `from` on, oldest first.
    async fn observations_since(
        &self,
        from: NaiveDate,
    ) -> Result<Vec<ObservationCount>, StorageError>;
}
