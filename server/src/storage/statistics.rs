//! The statistics port: what the console and the audit export read about decisions in bulk.
//! The counts and tallies are written with the decisions (`DecisionStore`).

use super::{ConsentEvent, StorageError};
use crate::domain::statistics::DecisionTally;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The console's overview and the audit export.
#[async_trait::async_trait]
pub trait StatisticsStore: Send + Sync {
    /// The tallies of the days from `from` to `to`, both included: per day and dimension
    /// value, decisions by action and by granted category, written with the counts.
    async fn decision_tallies(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DecisionTally>, StorageError>;
    /// Up to `limit` decisions made in `[from, to)`, in order of time and id, after the
    /// decision `after` (its time and id) when given: the audit export reads them page by
    /// page, in constant memory however many there are.
    async fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> Result<Vec<ConsentEvent>, StorageError>;
}
