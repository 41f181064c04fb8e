//! The operator console's server side: the data each of its pages shows ([`ConsoleService`]),
//! their charts, the overview's day summaries, this instance's counter history and the audit
//! export. Nothing here sees a request: the routes read it and render what this returns.

pub mod charts;
pub mod day_summaries;
pub mod export;
pub mod history;
mod log;
mod operations;
mod policies;
mod proof;

pub use policies::PolicyOutcome;

use crate::domain::statistics::day_range;
use crate::infra::clock::Clock;
use crate::infra::metrics::Metrics;
use crate::service::ConsentService;
use crate::service::log::ConsentLog;
use crate::service::policies::PolicyRegistry;
use crate::service::rights::RevokedConsents;
use crate::storage::{DecisionStore, MatomoJobStore, StatisticsStore, StorageError};
use app::console::Overview;
use day_summaries::DaySummaries;
use export::{DayRange, ExportRequest, Exporter};
use history::CounterHistory;
use std::sync::Arc;

/// The optional parts this instance runs, as the operations page reports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Configured {
    /// The gate in front of Matomo.
    pub gate: bool,
    /// Erasures carried through to Matomo's Reporting API.
    pub erasures: bool,
}

/// Loads what the console's pages show, from storage, the published policies and this
/// instance's counters.
pub struct ConsoleService {
    /// The console reads decisions (proof search), their statistics and the Matomo erasure
    /// jobs, and writes nothing there (publishing goes through the policy registry).
    decisions: Arc<dyn DecisionStore>,
    statistics: Arc<dyn StatisticsStore>,
    matomo_jobs: Arc<dyn MatomoJobStore>,
    clock: Clock,
    policies: Arc<PolicyRegistry>,
    /// Whether each decision is still honoured.
    revoked: Arc<RevokedConsents>,
    /// The parent domain the consent cookie is set on, named in the texts a decision showed.
    consent_domain: Option<String>,
    metrics: Arc<Metrics>,
    /// The last hours of this instance's counters.
    history: Arc<CounterHistory>,
    /// The overview's days that are over, summed once.
    day_summaries: DaySummaries,
    configured: Configured,
    /// The consent log: its heads and keys, and the whole-log check.
    log: Arc<ConsentLog>,
}

impl ConsoleService {
    /// The console over the consent core's storage, clock and policies, and the consent log.
    pub fn new(
        consent: &ConsentService,
        log: Arc<ConsentLog>,
        metrics: Arc<Metrics>,
        history: Arc<CounterHistory>,
        configured: Configured,
    ) -> Self {
        Self {
            decisions: consent.storage.clone(),
            statistics: consent.storage.clone(),
            matomo_jobs: consent.storage.clone(),
            clock: consent.clock.clone(),
            policies: Arc::clone(&consent.policies),
            revoked: Arc::clone(&consent.revoked),
            consent_domain: consent.cookies.consent_domain.clone(),
            metrics,
            history,
            day_summaries: DaySummaries::default(),
            configured,
            log,
        }
    }

    /// The overview of the last `days` days (today included), without its charts: the
    /// statistics the admin API answers.
    pub async fn overview(&self, days: u32) -> Result<Overview, StorageError> {
        let now = self.clock.now();
        let range = day_range(now.date_naive(), days);
        let snapshot = self.policies.cached();
        let categories: Vec<String> = snapshot
            .current()
            .policy
            .categories
            .iter()
            .filter(|category| !category.required())
            .map(|category| category.id.to_string())
            .collect();
        self.day_summaries
            .overview(self.statistics.as_ref(), now, &range, &categories)
            .await
    }

    /// The overview with its charts, as the console's first page shows it.
    pub async fn overview_page(&self, days: u32) -> Result<Overview, StorageError> {
        let mut overview = self.overview(days).await?;
        overview.charts = charts::draw_all(&overview);
        Ok(overview)
    }

    /// The days the export form offers at first: the last 30, today included.
    pub fn export_days(&self) -> DayRange {
        let today = self.clock.now().date_naive();
        DayRange {
            from: today - chrono::TimeDelta::days(29),
            to: today,
        }
    }

    /// The export that `request` asks for, read from storage as it is written.
    pub fn export(&self, request: ExportRequest) -> Exporter {
        Exporter::new(Arc::clone(&self.statistics), request.range, request.format)
    }
}
