//! The operations page: this instance's Matomo gate and risk counters over the last hours, in
//! tables and line charts, and the erasures carried through to Matomo.

use super::ConsoleService;
use super::{charts, history};
use crate::storage::{JobSelection, StorageError};
use app::console::{Chart, CounterTable, ErasureJobRow, OperationsPage};
use chrono::TimeDelta;

/// The operations page's steps.
const BUCKET_MINUTES: u32 = 10;

impl ConsoleService {
    pub async fn operations(&self) -> Result<OperationsPage, StorageError> {
        let exposition = self.metrics.encode();
        let tables = vec![
            self.counter_table(&exposition, "gate", "Matomo gate", &history::GATE),
            self.counter_table(&exposition, "risk", "Risk control", &history::RISK),
        ];
        let charts = tables.iter().map(line_chart).collect();
        let open_erasures = self
            .matomo_jobs
            .matomo_jobs(JobSelection::Open)
            .await?
            .into_iter()
            .map(|job| ErasureJobRow {
                erasure_id: job.erasure_id.to_string(),
                state: job.state.as_str().to_owned(),
                attempts: job.attempts,
                next_attempt_at: job.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                last_error: job.last_error,
            })
            .collect();
        Ok(OperationsPage {
            started_at: self
                .history
                .started_at()
                .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            bucket_minutes: BUCKET_MINUTES,
            gate_configured: self.configured.gate,
            tables,
            charts,
            erasures_configured: self.configured.erasures,
            erasure_counts: self.matomo_jobs.matomo_job_counts().await?,
            open_erasures,
        })
    }

    /// The `tracked` counters' increments per step, and their totals since the start.
    fn counter_table(
        &self,
        exposition: &str,
        id: &str,
        title: &str,
        tracked: &[history::Tracked],
    ) -> CounterTable {
        let bucket = TimeDelta::minutes(i64::from(BUCKET_MINUTES));
        let totals = history::totals(exposition, tracked);
        CounterTable {
            id: id.to_owned(),
            title: title.to_owned(),
            columns: tracked
                .iter()
                .map(|series| series.title.to_owned())
                .collect(),
            rows: self
                .history
                .increments(tracked, bucket)
                .into_iter()
                .map(|(at, values)| (at.format("%H:%M").to_string(), values))
                .collect(),
            totals: tracked
                .iter()
                .map(|series| totals.get(series.key).copied().unwrap_or(0.0) as u64)
                .collect(),
        }
    }
}

/// A table's columns as lines over its steps.
fn line_chart(table: &CounterTable) -> Chart {
    let labels: Vec<String> = table.rows.iter().map(|(at, _)| at.clone()).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = table
        .columns
        .iter()
        .enumerate()
        .map(|(position, column)| {
            let points = table
                .rows
                .iter()
                .map(|(_, values)| Some(values[position] as f64))
                .collect();
            (column.clone(), points)
        })
        .collect();
    charts::chart(
        &format!("chart-{}", table.id),
        &format!("{} per {BUCKET_MINUTES} minutes", table.title),
        |svg| {
            charts::line_chart(
                &labels,
                "Time (UTC)",
                &series,
                charts::Scale::Count("Count"),
                svg,
            )
        },
    )
}
