//! The tracker audit's port: stored scans (`server scan --record`), for the console.

use super::StorageError;
use chrono::{DateTime, Utc};

/// A scan to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScan {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The start URLs, separated by spaces.
    pub start_urls: String,
    pub pages: i64,
    pub violations: i64,
    /// The whole report as JSON (`server scan --json`).
    pub report: String,
}

/// A stored scan as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSummary {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub start_urls: String,
    pub pages: i64,
    pub violations: i64,
}

#[async_trait::async_trait]
pub trait ScanStore: Send + Sync {
    /// Keeps a scan; its id.
    async fn record_scan(&self, scan: &NewScan) -> Result<i64, StorageError>;
    /// The `limit` latest scans, latest first.
    async fn recent_scans(&self, limit: i64) -> Result<Vec<ScanSummary>, StorageError>;
    /// One scan's report JSON.
    async fn scan_report(&self, id: i64) -> Result<Option<String>, StorageError>;
}
