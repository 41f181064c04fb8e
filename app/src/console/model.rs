//! What the console's pages show, as the server computes it and the browser hydrates it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Decisions over a range of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Overview {
    /// The days (`YYYY-MM-DD`, UTC), oldest first; every per-day list follows them.
    pub days: Vec<String>,
    pub total: i64,
    pub decisions_per_day: Vec<i64>,
    /// Per action (`accept_all`, …, `gpc`): decisions per day.
    pub by_action: BTreeMap<String, Vec<i64>>,
    /// Per category: the percentage of each day's decisions granting it (none without any).
    pub grant_share: BTreeMap<String, Vec<Option<f64>>>,
    /// The categories whose grants are counted.
    pub categories: Vec<String>,
    /// Per policy version, embedding site, language, terminal type, jurisdiction and regime.
    pub dimensions: Vec<DimensionTable>,
    /// The charts, drawn on the server.
    pub charts: Vec<Chart>,
}

/// Decisions split by one property over the whole range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DimensionTable {
    pub title: String,
    /// Most decisions first.
    pub values: Vec<DimensionValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DimensionValue {
    pub value: String,
    pub decisions: i64,
    pub by_action: BTreeMap<String, i64>,
    /// Per category: how many of these decisions granted it.
    pub granted: BTreeMap<String, i64>,
}

/// A chart as SVG markup drawn by the server from the same numbers as the table under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Chart {
    /// The element id, for links and tests.
    pub id: String,
    pub title: String,
    pub svg: String,
}

/// One console page with everything it shows: rendered on the server, and read back from the
/// page by the browser to hydrate the same view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConsolePage {
    SignIn {
        /// Why the last attempt failed.
        error: Option<String>,
    },
    Overview {
        /// The range shown: the last 30 or 90 days.
        days: u32,
        overview: Overview,
    },
    Proof {
        query: String,
        outcome: Option<ProofOutcome>,
    },
    Export {
        /// The range offered (`YYYY-MM-DD`), the last 30 days by default.
        from: String,
        to: String,
    },
    Policies(PoliciesPage),
    Operations(OperationsPage),
    Log(LogPage),
    Identifiers(IdentifiersPage),
    /// One stored tracker scan.
    Scan(ScanPage),
    /// A registry entry to start from for one undeclared identifier.
    IdentifierDraft {
        kind: String,
        name: String,
        /// A `[[categories.identifiers]]` entry in the policy file's TOML.
        toml: String,
    },
}

impl ConsolePage {
    /// The page's title, also the current entry of the navigation.
    pub fn title(&self) -> &'static str {
        match self {
            Self::SignIn { .. } => "Sign in",
            Self::Overview { .. } => "Overview",
            Self::Proof { .. } => "Proof of consent",
            Self::Export { .. } => "Export",
            Self::Policies(_) => "Policies",
            Self::Operations(_) => "Operations",
            Self::Log(_) => "Consent log",
            Self::Identifiers(_) | Self::IdentifierDraft { .. } | Self::Scan(_) => {
                "Undeclared identifiers"
            }
        }
    }
}

/// What a search for a consent id or an SSAID found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProofOutcome {
    /// The visitor's decisions, oldest first; with a consent id, `matched` is that decision.
    Found {
        ssaid: String,
        matched: Option<String>,
        events: Vec<ProofEvent>,
    },
    NotFound(String),
    Invalid(String),
}

/// One decision with every field of its proof and the policy text as the visitor saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofEvent {
    pub id: String,
    pub decided_at: String,
    pub action: String,
    pub source: String,
    pub categories: BTreeMap<String, bool>,
    pub policy_version: String,
    pub policy_hash: String,
    pub banner_text_hash: String,
    pub language: String,
    pub ip_prefix: Option<String>,
    pub terminal_type: String,
    pub origin: Option<String>,
    pub revoked: bool,
    /// The stored policy version in the decision's language; none if it is not published.
    pub shown: Option<crate::domain::PolicyView>,
}

/// The published versions, a diff, and publishing a new version.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PoliciesPage {
    /// Oldest first; the last one is current.
    pub versions: Vec<VersionRow>,
    /// The diff asked for: between two published versions, or the current one and an upload.
    pub diff: Option<PolicyDiff>,
    /// An uploaded file that passed the checks, waiting for "Publish".
    pub pending: Option<PendingPublish>,
    /// What the last action did.
    pub notice: Option<Notice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: String,
    pub published_at: String,
    pub hash: String,
    pub material: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDiff {
    pub from: String,
    pub to: String,
    pub changes: Vec<PolicyChange>,
}

/// One field that differs: added (no `before`), removed (no `after`) or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyChange {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPublish {
    pub version: String,
    /// The file as uploaded, sent back with "Publish".
    pub source: String,
    pub material: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// An error (shown as an alert) or a confirmation.
    pub error: bool,
    pub text: String,
}

/// This instance's Matomo gate and risk control over the last hours, and the erasure jobs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OperationsPage {
    /// When this instance started counting (UTC); the counters are per instance.
    pub started_at: String,
    pub bucket_minutes: u32,
    pub gate_configured: bool,
    /// The gate's and risk control's counters: increments per bucket, and totals.
    pub tables: Vec<CounterTable>,
    pub charts: Vec<Chart>,
    /// Whether erasures are carried through to Matomo (its Reporting API is configured).
    pub erasures_configured: bool,
    /// Matomo erasure jobs per state.
    pub erasure_counts: BTreeMap<String, i64>,
    /// The jobs not done: pending ones and the failed ones a human must look at.
    pub open_erasures: Vec<ErasureJobRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterTable {
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    /// Oldest first: a bucket's start (`HH:MM` UTC) and each counter's increment in it.
    pub rows: Vec<(String, Vec<u64>)>,
    /// Each counter since the instance started.
    pub totals: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureJobRow {
    pub erasure_id: String,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
}

/// The consent log (docs/consent-log.md): its name and keys, its latest signed head, the heads
/// a witness could have seen, and how the last check of the whole log came out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogPage {
    /// The log's name: the first line of every checkpoint.
    pub origin: String,
    /// The current key first, then retired ones.
    pub keys: Vec<LogKeyRow>,
    /// None only before the first head is signed.
    pub latest: Option<LogHeadRow>,
    /// The latest heads, latest first.
    pub heads: Vec<LogHeadRow>,
    /// Why the stored heads could not be listed (one does not verify): the page still shows
    /// the rest, and "Verify now" names the head.
    pub heads_unreadable: Option<String>,
    /// Seconds between heads while the log grows.
    pub head_interval_secs: u64,
    /// The last run of the whole-log check; none if it never ran.
    pub verification: Option<LogVerificationRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogKeyRow {
    /// Hex of the key's four-byte id.
    pub key_id: String,
    /// Go's `sumdb/note` verifier key: `name+keyid+base64(type ‖ key)`.
    pub verifier_key: String,
    /// Signs new heads (the others are retired and only verify older heads).
    pub current: bool,
}

/// A signed tree head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHeadRow {
    pub tree_size: u64,
    /// Base64 of the root hash, as the checkpoint writes it.
    pub root_hash: String,
    /// RFC 3339 (UTC, milliseconds), as the checkpoint writes it.
    pub timestamp: String,
    pub key_id: String,
    /// The whole signed note.
    pub checkpoint: String,
}

/// One run of the whole-log check (`server log verify`, or "Verify now").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogVerificationRow {
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub ran_at: String,
    pub leaves: u64,
    pub heads: u64,
    pub clean: bool,
    pub problems: u64,
    pub first_problem: Option<String>,
}

/// The cookies and storage keys that embedding pages hold and no still-valid policy version
/// declares, as the embed loader reports them (names only, sampled), over the last days. A
/// section of the active scans' results goes below the passive findings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IdentifiersPage {
    /// The share of page views whose loader reports (`[observations] sample_rate`); 0: off.
    pub sample_rate: f64,
    /// How many days are shown, today included.
    pub days: u32,
    /// The days (`YYYY-MM-DD`, UTC), oldest first, and the names reported on each (one per
    /// page view and name).
    pub dates: Vec<String>,
    pub reports_per_day: Vec<i64>,
    /// Most reported first, at most a few hundred.
    pub findings: Vec<UndeclaredFinding>,
    /// How many less reported findings are left out.
    pub not_shown: usize,
    pub charts: Vec<Chart>,
    /// The latest stored scans (`server scan --record`), latest first.
    pub scans: Vec<ScanRow>,
}

/// One stored scan in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRow {
    pub id: i64,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub finished_at: String,
    pub start_urls: String,
    pub pages: i64,
    pub violations: i64,
}

/// One stored scan: its findings page by page, its hints and its draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPage {
    pub id: i64,
    pub started_at: String,
    pub finished_at: String,
    /// The registry's policy version and where it was read.
    pub registry: String,
    pub pages: Vec<ScannedPage>,
    /// Linked pages that could not be scanned, with why.
    pub skipped: Vec<(String, String)>,
    /// Declared identifiers no page showed (`kind name (category)`).
    pub never_seen: Vec<String>,
    /// Registry entries for the undeclared identifiers, as policy TOML.
    pub draft: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedPage {
    pub url: String,
    pub findings: Vec<ScanFindingRow>,
    /// Profiles in which no choice could be made (no banner, no loader API).
    pub unchosen: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFindingRow {
    /// What is wrong, in words.
    pub kind: String,
    /// `cookie ab_bucket`, `host tracker.example`.
    pub subject: String,
    pub profiles: String,
    pub detail: String,
    /// Whether the scan's draft declares it (an undeclared identifier).
    pub drafted: bool,
}

/// One name reported from one embedding site under one choice, summed over the days shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndeclaredFinding {
    pub origin: String,
    /// `cookie`, `local_storage` or `session_storage`.
    pub kind: String,
    pub name: String,
    /// The choice in force on the page: `none` (not made yet), `accepted`, `rejected`, `custom`.
    pub choice: String,
    pub reports: i64,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub first_seen: String,
    pub last_seen: String,
}
