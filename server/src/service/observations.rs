//! Passive reports of undeclared identifiers (issue 31): embedding pages' loaders report the
//! names of cookies and storage keys they find; this re-checks them against the registry of
//! every still-valid policy version (the loader's own check is never trusted), counts the
//! undeclared ones, and shows them on the console's "Undeclared identifiers" page.

use super::console::charts::{self, Scale};
use crate::domain::observations::{ChoiceInForce, ObservationCount, ObservedNames};
use crate::domain::scan::draft::{Draft, to_toml};
use crate::domain::scan::{FindingKind, Profile, ScanReport, Subject};
use crate::domain::statistics::day_range;
use crate::infra::clock::Clock;
use crate::infra::metrics::Metrics;
use crate::service::policies::PolicyRegistry;
use crate::storage::ScanStore;
use crate::storage::{ObservationStore, StorageError};
use app::console::{
    IdentifiersPage, ScanFindingRow, ScanPage, ScanRow, ScannedPage, UndeclaredFinding,
};
use app::domain::IdentifierKind;
use app::domain::identifier::Identifier;
use app::domain::language::SUPPORTED_LANGUAGES;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How many days the console page sums, today included.
pub const PAGE_DAYS: u32 = 30;
/// The most findings the page lists: names with a random tail (`session_3f9a…`) can make one
/// row per report, and the most reported are the ones to declare first.
pub const FINDINGS_SHOWN: usize = 500;

pub struct Observations {
    storage: Arc<dyn ObservationStore>,
    /// The active scans kept by `server scan --record`, shown beside the passive findings.
    scans: Arc<dyn ScanStore>,
    policies: Arc<PolicyRegistry>,
    clock: Clock,
    metrics: Arc<Metrics>,
    /// `[observations] sample_rate`: the loader's share of page views that report.
    pub sample_rate: f64,
}

impl Observations {
    pub fn new(
        storage: Arc<dyn ObservationStore>,
        scans: Arc<dyn ScanStore>,
        policies: Arc<PolicyRegistry>,
        clock: Clock,
        metrics: Arc<Metrics>,
        sample_rate: f64,
    ) -> Self {
        Self {
            storage,
            scans,
            policies,
            clock,
            metrics,
            sample_rate,
        }
    }

    /// Counts the names of a report from `origin` that no still-valid version declares;
    /// returns how many that was.
    pub async fn record(
        &self,
        origin: String,
        names: BTreeSet<(IdentifierKind, String)>,
        choice: ChoiceInForce,
    ) -> Result<usize, StorageError> {
        let snapshot = self.policies.current().await;
        let undeclared: Vec<(IdentifierKind, String)> = names
            .into_iter()
            .filter(|(kind, name)| !snapshot.declares(*kind, name))
            .collect();
        if undeclared.is_empty() {
            return Ok(0);
        }
        let at = self.clock.now();
        let observed = ObservedNames {
            day: at.date_naive(),
            at,
            origin,
            choice,
            names: undeclared,
        };
        self.storage.add_observations(&observed).await?;
        for (kind, _) in &observed.names {
            self.metrics.undeclared_identifier_reported(kind.as_str());
        }
        Ok(observed.names.len())
    }

    /// The console page: the last [`PAGE_DAYS`] days' findings, summed per site, kind, name
    /// and choice, and the names reported per day and kind as a chart.
    pub async fn page(&self) -> Result<IdentifiersPage, StorageError> {
        let days = day_range(self.clock.now().date_naive(), PAGE_DAYS);
        let counts = self.storage.observations_since(days[0]).await?;
        let position: BTreeMap<_, _> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
        let mut per_kind: BTreeMap<IdentifierKind, Vec<i64>> = BTreeMap::new();
        for count in &counts {
            if let Some(&at) = position.get(&count.day) {
                per_kind
                    .entry(count.kind)
                    .or_insert_with(|| vec![0; days.len()])[at] += count.reports;
            }
        }
        let reports_per_day = (0..days.len())
            .map(|at| per_kind.values().map(|per_day| per_day[at]).sum())
            .collect();
        let labels: Vec<String> = days
            .iter()
            .map(|day| charts::day_label(&day.to_string()))
            .collect();
        let series: Vec<(String, Vec<Option<f64>>)> = per_kind
            .iter()
            .map(|(kind, per_day)| {
                let points = per_day.iter().map(|n| Some(*n as f64)).collect();
                (kind.as_str().to_owned(), points)
            })
            .collect();
        let chart = charts::chart(
            "chart-undeclared",
            "Undeclared names reported per day, by kind",
            |svg| {
                charts::line_chart(
                    &labels,
                    "Day (UTC)",
                    &series,
                    Scale::Count("Names reported"),
                    svg,
                )
            },
        );
        let mut findings = findings(counts);
        let not_shown = findings.len().saturating_sub(FINDINGS_SHOWN);
        findings.truncate(FINDINGS_SHOWN);
        Ok(IdentifiersPage {
            sample_rate: self.sample_rate,
            days: PAGE_DAYS,
            dates: days.iter().map(ToString::to_string).collect(),
            reports_per_day,
            findings,
            not_shown,
            charts: vec![chart],
            scans: self
                .scans
                .recent_scans(SCANS_SHOWN)
                .await?
                .into_iter()
                .map(|scan| ScanRow {
                    id: scan.id,
                    finished_at: minute(scan.finished_at),
                    start_urls: scan.start_urls,
                    pages: scan.pages,
                    violations: scan.violations,
                })
                .collect(),
        })
    }

    /// One stored scan for the console; `None` when no scan has the id.
    pub async fn scan_page(&self, id: i64) -> Result<Option<ScanPage>, StorageError> {
        let Some(json) = self.scans.scan_report(id).await? else {
            return Ok(None);
        };
        let report: ScanReport = serde_json::from_str(&json)
            .map_err(|err| StorageError::Corrupt(format!("stored scan {id}: {err}")))?;
        let pages = report
            .pages
            .into_iter()
            .map(|page| {
                let unchosen = [Profile::Rejected, Profile::Accepted]
                    .into_iter()
                    .filter(|&p| page.observed.profile(p).choice.is_none())
                    .map(|p| p.as_str().to_owned())
                    .collect();
                let findings = page
                    .findings
                    .into_iter()
                    .map(|finding| ScanFindingRow {
                        kind: finding.kind.describe().to_owned(),
                        drafted: finding.kind == FindingKind::NotDeclared
                            && matches!(finding.subject, Subject::Identifier { .. }),
                        subject: finding.subject.to_string(),
                        profiles: finding.profile_list(),
                        detail: finding.detail_with_setter(),
                    })
                    .collect();
                ScannedPage {
                    url: page.url,
                    findings,
                    unchosen,
                }
            })
            .collect();
        Ok(Some(ScanPage {
            id,
            started_at: minute(report.started_at),
            finished_at: minute(report.finished_at),
            registry: format!("{} ({})", report.registry_version, report.registry_source),
            pages,
            skipped: report
                .skipped
                .into_iter()
                .map(|skipped| (skipped.url, skipped.reason))
                .collect(),
            never_seen: report
                .never_seen
                .iter()
                .map(|hint| format!("{} {} ({})", hint.kind.as_str(), hint.name, hint.category))
                .collect(),
            draft: report.draft,
        }))
    }
}

/// How many stored scans the page lists.
pub const SCANS_SHOWN: i64 = 20;

/// `YYYY-MM-DD HH:MM`, as the console writes times (UTC).
fn minute(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// The days' counts summed per site, kind, name and choice: most reported first, then by name.
fn findings(counts: Vec<ObservationCount>) -> Vec<UndeclaredFinding> {
    let mut summed: BTreeMap<(String, IdentifierKind, String, ChoiceInForce), ObservationCount> =
        BTreeMap::new();
    for count in counts {
        let key = (
            count.origin.clone(),
            count.kind,
            count.name.clone(),
            count.choice,
        );
        summed
            .entry(key)
            .and_modify(|sum| {
                sum.reports += count.reports;
                sum.first_seen = sum.first_seen.min(count.first_seen);
                sum.last_seen = sum.last_seen.max(count.last_seen);
            })
            .or_insert(count);
    }
    let mut findings: Vec<UndeclaredFinding> = summed
        .into_values()
        .map(|sum| UndeclaredFinding {
            origin: sum.origin,
            kind: sum.kind.as_str().to_owned(),
            name: sum.name,
            choice: sum.choice.as_str().to_owned(),
            reports: sum.reports,
            first_seen: minute(sum.first_seen),
            last_seen: minute(sum.last_seen),
        })
        .collect();
    // Stable: equal counts keep the order of site, kind, name and choice.
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.reports));
    findings
}

/// A registry entry to start from for the undeclared `name` of `kind`: a
/// `[[categories.identifiers]]` table of the policy file, what only a person can say marked
/// `TODO` (the provider, how long it lives, what it is for), as `server scan --draft` writes
/// them.
pub fn draft_entry(kind: IdentifierKind, name: &str) -> String {
    to_toml(&[Draft::from_name(kind, name)], &SUPPORTED_LANGUAGES)
}

/// Reads back a draft as the policy file does: under the `[[categories]]` entry it is added to.
pub fn parse_draft(draft: &str) -> Result<Identifier, String> {
    #[derive(serde::Deserialize)]
    struct File {
        categories: Vec<Category>,
    }
    #[derive(serde::Deserialize)]
    struct Category {
        identifiers: Vec<Identifier>,
    }
    let file: File =
        toml::from_str(&format!("[[categories]]\n{draft}")).map_err(|err| err.to_string())?;
    let mut identifiers = file
        .categories
        .into_iter()
        .flat_map(|category| category.identifiers);
    match (identifiers.next(), identifiers.next()) {
        (Some(identifier), None) => Ok(identifier),
        _ => Err("a draft is exactly one identifier".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::identifier::{HOST_ONLY, Lifetime};
    use chrono::{DateTime, NaiveDate, Utc};

    #[test]
    fn a_draft_parses_as_a_registry_entry_with_its_name_and_kind() {
        for (kind, name, duration) in [
            (IdentifierKind::Cookie, "ab_bucket", Lifetime::Months(13)),
            (
                IdentifierKind::LocalStorage,
                "a&b'c#d",
                Lifetime::Months(13),
            ),
            (
                IdentifierKind::SessionStorage,
                "tab.state",
                Lifetime::Session,
            ),
        ] {
            let draft = draft_entry(kind, name);
            let identifier = parse_draft(&draft).unwrap_or_else(|err| panic!("{err}\n{draft}"));
            assert_eq!(identifier.name, name);
            assert_eq!(identifier.kind, kind);
            assert_eq!(identifier.duration, duration);
            assert_eq!(identifier.domain, HOST_ONLY);
            assert!(!identifier.third_party_access);
            assert_eq!(identifier.provider, "TODO: who sets it");
            assert_eq!(
                identifier.purpose["en"],
                "TODO: what it is for, in the visitor's words"
            );
            assert!(identifier.check_name().is_ok(), "{name}");
        }
    }

    #[test]
    fn findings_sum_days_and_keep_the_earliest_and_latest_times() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let count = |day: u32, name: &str, reports, first: &str, last: &str| ObservationCount {
            day: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            origin: "https://docs.zeccloud.com".to_owned(),
            kind: IdentifierKind::Cookie,
            name: name.to_owned(),
            choice: ChoiceInForce::Rejected,
            reports,
            first_seen: at(first),
            last_seen: at(last),
        };
        let summed = findings(vec![
            count(
                7,
                "ab_bucket",
                2,
                "2026-12-07T10:00:00Z",
                "2026-12-07T11:30:00Z",
            ),
            count(7, "rare", 1, "2026-12-07T12:00:00Z", "2026-12-07T12:00:00Z"),
            count(
                8,
                "ab_bucket",
                3,
                "2026-12-08T01:00:00Z",
                "2026-12-08T02:45:00Z",
            ),
        ]);
        let rows: Vec<(&str, i64, &str, &str)> = summed
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.reports,
                    f.first_seen.as_str(),
                    f.last_seen.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("ab_bucket", 5, "2026-12-07 10:00", "2026-12-08 02:45"),
                ("rare", 1, "2026-12-07 12:00", "2026-12-07 12:00"),
            ]
        );
    }
}
