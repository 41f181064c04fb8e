//! One storage interface and one implementation of it ([`sql`]), written once for both engines:
//! SQLite (the embedded default) and PostgreSQL. The engine files hold only what differs: how
//! to connect, the migrations, and the type of event ids.

mod postgres;
mod sql;
mod sqlite;

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

use crate::domain::retention::PurgeCutoffs;
use crate::domain::rights::ErasureRecord;
use crate::domain::risk::{CounterKind, NetworkCount, Sighting};
use crate::domain::statistics::{DecisionCount, DecisionTally};
use crate::domain::{PolicyRecord, PublishOutcome, Ssaid, TerminalType};
use app::domain::{ConsentAction, ConsentSource, PolicyVersion};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsaidRecord {
    pub ssaid: Ssaid,
    pub issued_at: DateTime<Utc>,
    pub terminal_type: TerminalType,
}

/// Everything stored under one SSAID, as read for its data subject ("Your data", the access
/// export).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectRecords {
    /// Its row, if its visitor ever decided.
    pub ssaid: Option<SsaidRecord>,
    /// Its decisions, oldest first.
    pub consent_events: Vec<ConsentEvent>,
    /// Its sightings, oldest first.
    pub sightings: Vec<Sighting>,
}

/// One consent decision as recorded; rows are never updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    pub id: Uuid,
    pub ssaid: Ssaid,
    pub policy_version: PolicyVersion,
    pub categories: BTreeMap<String, bool>,
    pub action: ConsentAction,
    pub source: ConsentSource,
    pub created_at: DateTime<Utc>,
    /// When the visitor made the choice, if their page delivered it late (it retried while the
    /// service could not save it); `None`: made when recorded.
    pub made_at: Option<DateTime<Utc>>,
    /// Hash of the policy version the decision was made on.
    pub policy_hash: String,
    /// Hash of the exact banner text shown, in `language`.
    pub banner_text_hash: String,
    pub language: String,
    /// The visitor's network, truncated to /24 (IPv4) or /48 (IPv6).
    pub ip_prefix: Option<String>,
    /// Coarse user-agent class (the terminal type), never the User-Agent itself.
    pub ua_class: TerminalType,
    /// The site an embedded banner ran on.
    pub origin: Option<String>,
}

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

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// One failure answered to every decision of a group commit.
    #[error("{0}")]
    Shared(Arc<StorageError>),
    /// The group-commit writer has stopped (the service is shutting down).
    #[error("the decision writer has stopped")]
    WriterStopped,
}

impl StorageError {
    /// Whether the database cannot be reached for now (it is down, restarting, refusing
    /// connections, or every connection stayed busy past the pool's wait): the request may be
    /// tried again shortly, as opposed to a fault of ours.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // Connection exceptions (08…) and the server shutting down or starting (57P0…).
            Self::Database(sqlx::Error::Database(database)) => database
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
            Self::Shared(err) => err.is_unavailable(),
            Self::WriterStopped => true,
            _ => false,
        }
    }
}

#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Applies the embedded migrations for this engine.
    async fn migrate(&self) -> Result<(), StorageError>;
    async fn ping(&self) -> Result<(), StorageError>;
    /// Records a decision, storing the decider's SSAID first unless it is already stored, in
    /// one transaction: SSAIDs are written only when a decision needs them, and a valid token
    /// whose row is missing (after a restore) is stored again rather than failing.
    async fn insert_consent_event(
        &self,
        visitor: &SsaidRecord,
        event: &ConsentEvent,
    ) -> Result<(), StorageError> {
        self.insert_consent_events(&[(visitor.clone(), event.clone())])
            .await
    }
    /// Records several decisions (with their SSAIDs) in one transaction, so they share one
    /// commit and one fsync (group commit, `crate::service::consent::group_commit`): all or none.
    async fn insert_consent_events(
        &self,
        decisions: &[(SsaidRecord, ConsentEvent)],
    ) -> Result<(), StorageError>;
    async fn find_consent_event(&self, id: Uuid) -> Result<Option<ConsentEvent>, StorageError>;
    /// The latest decision of one SSAID: one row, however many it made.
    async fn latest_consent_event_for(
        &self,
        ssaid: &Ssaid,
    ) -> Result<Option<ConsentEvent>, StorageError>;
    /// All decisions of one SSAID, oldest first.
    async fn consent_events_for(&self, ssaid: &Ssaid) -> Result<Vec<ConsentEvent>, StorageError>;
    /// Adds one sighting: a new row for its SSAID, network and day, or that row's counts,
    /// terminal types, last time and caller updated (never more than one row per day).
    async fn record_sighting(&self, sighting: &Sighting) -> Result<(), StorageError>;
    /// The SSAID's sightings last seen at or after `since`, oldest first.
    async fn sightings_of(
        &self,
        ssaid: &Ssaid,
        since: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, StorageError>;
    /// Adds counts to the per-network counters (one upsert each).
    async fn add_network_counts(&self, counts: &[NetworkCount]) -> Result<(), StorageError>;
    /// A network's count of `kind` over the windows starting at or after `since`.
    async fn network_count(
        &self,
        network: &str,
        kind: CounterKind,
        since: DateTime<Utc>,
    ) -> Result<u64, StorageError>;
    /// The retention purge (§04): deletes (or with `dry_run` counts) what the cut-offs say, in
    /// batches of `batch` rows so it never holds long locks; rows per table. On PostgreSQL
    /// only one instance purges at a time: `None` when another one is purging.
    /// `progress` hears each table's running total after every batch.
    async fn purge(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
        batch: i64,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<Option<BTreeMap<String, u64>>, StorageError>;
    /// Deletes every sighting of one SSAID (erasure); returns how many rows went.
    async fn erase_sightings(&self, ssaid: &Ssaid) -> Result<u64, StorageError>;
    /// Everything stored under an SSAID, read on one connection: `find_ssaid`,
    /// `consent_events_for` and every sighting, without three trips through the pool (it is
    /// most of a kept preference center's cost).
    async fn subject_records(&self, ssaid: &Ssaid) -> Result<SubjectRecords, StorageError>;
    /// The stored record of an SSAID, if its visitor ever decided.
    async fn find_ssaid(&self, ssaid: &Ssaid) -> Result<Option<SsaidRecord>, StorageError>;
    /// Erases everything stored under an SSAID in one transaction, through the one deletion
    /// mechanism proof of consent admits: its decisions (whose ids are revoked for
    /// `revoke_for` after they were made), sightings and record. Stores and returns `evidence`
    /// with the rows deleted per table, and the revoked consent ids.
    /// With `matomo_visitor_id`, a job to delete the visitor's visits in Matomo is stored in
    /// the same transaction (the evidence then says `pending`).
    async fn erase_subject(
        &self,
        ssaid: &Ssaid,
        revoke_for: chrono::TimeDelta,
        evidence: ErasureRecord,
        matomo_visitor_id: Option<&str>,
    ) -> Result<(ErasureRecord, Vec<Uuid>), StorageError>;
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
    /// Earlier erasures of the same subject (by its keyed hash), oldest first.
    async fn erasures_of(&self, subject_hash: &str) -> Result<Vec<ErasureRecord>, StorageError>;
    /// Stops honouring a consent id until `expires_at` (when its cookie would have expired).
    async fn revoke_consent(
        &self,
        event_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;
    /// Consent ids revoked and not yet past their cookie's expiry at `now`.
    async fn revoked_consents(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, StorageError>;
    /// Stores a policy version unless its version id is taken; a taken id is never changed.
    async fn publish_policy(&self, record: &PolicyRecord) -> Result<PublishOutcome, StorageError>;
    /// Every published version, oldest first; the last one is current.
    async fn policy_versions(&self) -> Result<Vec<PolicyRecord>, StorageError>;
    /// The console's counts of the days from `from` to `to`, both included.
    async fn decision_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DecisionCount>, StorageError>;
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

/// Opens the engine the URL names and applies its migrations.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    let storage: Arc<dyn Storage> = if database_url.starts_with("sqlite:") {
        Arc::new(SqliteStorage::connect(database_url).await?)
    } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        Arc::new(PostgresStorage::connect(database_url).await?)
    } else {
        return Err(StorageError::UnsupportedUrl);
    };
    storage.migrate().await?;
    Ok(storage)
}
