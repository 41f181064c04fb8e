//! The retention purge (notice §04): hourly in every instance (on PostgreSQL one at a time),
//! by hand with `server purge`, or now with `POST /api/v1/admin/retention/purge`. What goes and
//! when is `domain::retention`; storage deletes in bounded batches.

use crate::domain::retention::RetentionSettings;
use crate::infra::clock::Clock;
use crate::infra::metrics::Metrics;
use crate::storage::{PurgeStore, StorageError};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(60 * 60);
const FIRST_AFTER: Duration = Duration::from_secs(60);
/// Rows per statement: small enough that no batch holds a lock for long.
const BATCH: i64 = 500;

pub struct Retention {
    storage: Arc<dyn PurgeStore>,
    settings: RetentionSettings,
    sightings_days: u32,
    longest_choice: TimeDelta,
    clock: Clock,
    metrics: Option<Arc<Metrics>>,
}

impl Retention {
    pub fn new(
        storage: Arc<dyn PurgeStore>,
        settings: RetentionSettings,
        sightings_days: u32,
        longest_choice: TimeDelta,
        clock: Clock,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Self {
            storage,
            settings,
            sightings_days,
            longest_choice,
            clock,
            metrics,
        }
    }

    /// Purges as of `as_of` (now when `None`); rows per table, `None` when another instance
    /// is purging. `dry_run` counts without deleting.
    pub async fn run(
        &self,
        as_of: Option<DateTime<Utc>>,
        dry_run: bool,
    ) -> Result<Option<BTreeMap<String, u64>>, StorageError> {
        self.run_with_progress(as_of, dry_run, &|_, _| {}).await
    }

    /// [`Retention::run`], telling `progress` each table's running total (the CLI's bar).
    pub async fn run_with_progress(
        &self,
        as_of: Option<DateTime<Utc>>,
        dry_run: bool,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<Option<BTreeMap<String, u64>>, StorageError> {
        let as_of = as_of.unwrap_or_else(|| self.clock.now());
        let cutoffs = self
            .settings
            .cutoffs(self.sightings_days, self.longest_choice, as_of);
        let report = self
            .storage
            .purge(&cutoffs, dry_run, BATCH, progress)
            .await?;
        if let Some(report) = &report
            && !dry_run
        {
            if let Some(metrics) = &self.metrics {
                for (table, rows) in report {
                    metrics.purged(table, *rows);
                }
            }
            tracing::info!(event = "retention_purged", ?report);
        }
        Ok(report)
    }

    /// Every hour, the first a minute after start (not at once: a start is busy enough, and
    /// an admin's purge right after it would find the lock taken); ends with the service.
    pub fn spawn_hourly(self: &Arc<Self>) {
        let retention = Arc::downgrade(self);
        tokio::spawn(async move {
            let first = tokio::time::Instant::now() + FIRST_AFTER;
            let mut hourly = tokio::time::interval_at(first, EVERY);
            loop {
                hourly.tick().await;
                let Some(retention) = retention.upgrade() else {
                    return;
                };
                if let Err(err) = retention.run(None, false).await {
                    tracing::warn!(error = %err, "retention purge failed; retrying within the hour");
                }
            }
        });
    }
}
