//! The Matomo jobs port: an erasure's job to delete its visitor's visits in Matomo, stored with
//! the erasure and carried through by a worker.

use super::StorageError;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where an erasure stands on Matomo's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatomoJobState {
    Pending,
    Done,
    /// Gave up after `erasure_max_attempts`: a human must look.
    Failed,
}

impl MatomoJobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Done, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == raw)
    }
}

/// Which Matomo erasure jobs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobSelection {
    /// Every one, done ones included (they live as long as their erasure's evidence).
    All,
    /// Those not done: pending and failed (what an operator looks at).
    Open,
    /// The pending ones due by then: what a worker polls, without reading the finished ones.
    DueBy(DateTime<Utc>),
}

/// An erasure's job against Matomo.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatomoJob {
    pub erasure_id: Uuid,
    /// Matomo's visitor id to delete; cleared once done.
    pub visitor_id: Option<String>,
    pub state: MatomoJobState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// Matomo's counts per table, once done.
    pub deleted: Option<BTreeMap<String, u64>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Reading and advancing the Matomo erasure jobs: what the Matomo erasure worker uses (and the
/// console and admin API, which list them).
#[async_trait::async_trait]
pub trait MatomoJobStore: Send + Sync {
    /// Matomo erasure jobs, oldest first, as `which` selects them.
    async fn matomo_jobs(&self, which: JobSelection) -> Result<Vec<MatomoJob>, StorageError>;
    /// How many Matomo erasure jobs are in each state.
    async fn matomo_job_counts(&self) -> Result<BTreeMap<String, i64>, StorageError>;
    /// Takes a due pending job until `until`; false when another instance has it.
    async fn claim_matomo_job(
        &self,
        erasure_id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
    /// A job done: Matomo's counts go into it and into its erasure's evidence.
    async fn finish_matomo_job(
        &self,
        erasure_id: Uuid,
        deleted: &BTreeMap<String, u64>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// A failed attempt: tried again at `next_attempt_at`, or given up.
    async fn retry_matomo_job(
        &self,
        erasure_id: Uuid,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        give_up: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;
}
