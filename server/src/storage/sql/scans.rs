//! [`ScanStore`]: the tracker audit's stored scans.

use crate::storage::scans::{NewScan, ScanSummary};
use crate::storage::{ScanStore, StorageError};
use sqlx::Row;

for_both_engines! {
    #[async_trait::async_trait]
    impl ScanStore {
        async fn record_scan(&self, scan: &NewScan) -> Result<i64, StorageError> {
            let row = sqlx::query::<DB>(
                "INSERT INTO tracker_scans \
                 (started_at, finished_at, start_urls, pages, violations, report) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(scan.started_at)
            .bind(scan.finished_at)
            .bind(scan.start_urls.as_str())
            .bind(scan.pages)
            .bind(scan.violations)
            .bind(scan.report.as_str())
            .fetch_one(&self.pool)
            .await?;
            Ok(row.try_get("id")?)
        }

        async fn recent_scans(&self, limit: i64) -> Result<Vec<ScanSummary>, StorageError> {
            let rows = sqlx::query::<DB>(
                "SELECT id, started_at, finished_at, start_urls, pages, violations \
                 FROM tracker_scans ORDER BY finished_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(ScanSummary {
                        id: row.try_get("id")?,
                        started_at: row.try_get("started_at")?,
                        finished_at: row.try_get("finished_at")?,
                        start_urls: row.try_get("start_urls")?,
                        pages: row.try_get("pages")?,
                        violations: row.try_get("violations")?,
                    })
                })
                .collect()
        }

        async fn scan_report(&self, id: i64) -> Result<Option<String>, StorageError> {
            let row = sqlx::query::<DB>("SELECT report FROM tracker_scans WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|row| row.try_get("report")).transpose()?)
        }
    }
}
