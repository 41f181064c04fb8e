//! Counters for the operator, in the Prometheus/OpenMetrics text format (`GET /metrics`,
//! admin token). The Matomo gate's are the first.

use crate::infra::tokens::RefusalLabels;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

pub struct Metrics {
    registry: Registry,
    pub matomo: Arc<GateMetrics>,
    rate_limited: Family<LimitLabels, Counter>,
    purged: Family<TableLabels, Counter>,
    matomo_jobs: Family<StateLabels, Gauge>,
    matomo_job_attempts: Family<OutcomeLabels, Counter>,
    pages: Family<OutcomeLabels, Counter>,
    undeclared: Family<IdentifierKindLabels, Counter>,
}

/// What the consent core counts as it works: decisions, SSAIDs issued, erasures, console
/// sign-ins. Held by the core, registered by [`Metrics`].
#[derive(Debug, Default)]
pub struct ServiceCounters {
    decisions: Family<DecisionLabels, Counter>,
    ssaids_issued: Counter,
    erasures: Family<ChannelLabels, Counter>,
    sign_ins: Family<OutcomeLabels, Counter>,
    assessments: Family<RiskLabels, Counter>,
}

impl ServiceCounters {
    pub fn decision(&self, action: &'static str, source: &'static str) {
        self.decisions
            .get_or_create(&DecisionLabels { action, source })
            .inc();
    }

    pub fn ssaid_issued(&self) {
        self.ssaids_issued.inc();
    }

    pub fn erasure(&self, channel: &'static str) {
        self.erasures
            .get_or_create(&ChannelLabels { channel })
            .inc();
    }

    /// An SSAID assessed for a back end, by the risk found.
    pub fn assessment(&self, risk: &'static str) {
        self.assessments.get_or_create(&RiskLabels { risk }).inc();
    }

    /// A console sign-in: `signed_in` or `wrong_token` (refusals by budget are counted as
    /// `rate_limited{limit="sign_in"}`).
    pub fn sign_in(&self, outcome: &'static str) {
        self.sign_ins
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "decisions",
            "Consent decisions recorded, by action and source",
            self.decisions.clone(),
        );
        registry.register(
            "ssaids_issued",
            "SSAIDs issued (stored only with a first decision)",
            self.ssaids_issued.clone(),
        );
        registry.register(
            "erasures",
            "Data subjects erased, by channel",
            self.erasures.clone(),
        );
        registry.register(
            "console_sign_ins",
            "Console sign-in attempts, by outcome",
            self.sign_ins.clone(),
        );
        registry.register(
            "ssaid_assessments",
            "SSAIDs assessed for ZecCloud back ends, by risk",
            self.assessments.clone(),
        );
    }
}

impl Metrics {
    /// The registry, with the token signer's counter of refused tokens and the core's counters.
    pub fn new(tokens_refused: Family<RefusalLabels, Counter>, service: &ServiceCounters) -> Self {
        let mut registry = Registry::with_prefix("zeccloud");
        service.register(&mut registry);
        registry.register(
            "tokens_refused",
            "Cookies and tokens not trusted, by reason (unknown_key: forged or a retired key)",
            tokens_refused,
        );
        let matomo = Arc::new(GateMetrics::default());
        matomo.register(registry.sub_registry_with_prefix("matomo"));
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429, by limit",
            rate_limited.clone(),
        );
        let purged = Family::<TableLabels, Counter>::default();
        registry.register(
            "retention_purged_rows",
            "Rows the retention purge deleted (or cleared), by table",
            purged.clone(),
        );
        let matomo_jobs = Family::<StateLabels, Gauge>::default();
        registry.register(
            "matomo_erasure_jobs",
            "Erasures carried through to Matomo, by state (failed: a human must look)",
            matomo_jobs.clone(),
        );
        let matomo_job_attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "matomo_erasure_attempts",
            "Attempts at Matomo erasure jobs, by outcome",
            matomo_job_attempts.clone(),
        );
        let pages = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "pages_served",
            "Pages answered from the page cache (kept), rendered and kept, or rendered only",
            pages.clone(),
        );
        let undeclared = Family::<IdentifierKindLabels, Counter>::default();
        registry.register(
            "undeclared_identifier_reports",
            "Names of undeclared cookies and storage keys reported by embedding pages (one per \
             page view and name, sampled), by kind",
            undeclared.clone(),
        );
        Self {
            registry,
            matomo,
            rate_limited,
            purged,
            matomo_jobs,
            matomo_job_attempts,
            pages,
            undeclared,
        }
    }

    /// A cacheable page served: `kept` (from the page cache), `rendered` (and kept) or
    /// `not_kept` (rendered only: a cookie to set, or a value not cut out cleanly).
    pub fn page_served(&self, outcome: &'static str) {
        self.pages.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// The Matomo erasure jobs per state, as last counted.
    pub fn matomo_jobs(&self, counts: &std::collections::BTreeMap<String, i64>) {
        for state in ["pending", "done", "failed"] {
            self.matomo_jobs
                .get_or_create(&StateLabels { state })
                .set(counts.get(state).copied().unwrap_or(0));
        }
    }

    /// One attempt at a Matomo erasure job: `done`, `retry` or `failed`.
    pub fn matomo_job_attempt(&self, outcome: &'static str) {
        self.matomo_job_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Rows the retention purge took from `table`.
    pub fn purged(&self, table: &str, rows: u64) {
        self.purged
            .get_or_create(&TableLabels {
                table: table.to_owned(),
            })
            .inc_by(rows);
    }

    /// A name of kind `kind` (`cookie`, `local_storage`, `session_storage`) that a page
    /// reported and no still-valid policy version declares.
    pub fn undeclared_identifier_reported(&self, kind: &'static str) {
        self.undeclared
            .get_or_create(&IdentifierKindLabels { kind })
            .inc();
    }

    /// A request refused by the rate limit `limit` (`decisions` or `new_visitors`).
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited
            .get_or_create(&LimitLabels { limit })
            .inc();
    }

    /// The OpenMetrics text exposition of every counter.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(Family::default(), &ServiceCounters::default())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    action: &'static str,
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IdentifierKindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RiskLabels {
    risk: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HitLabels {
    outcome: HitOutcome,
    reason: HitReason,
}

/// Writes an enum label as its name in the exposition.
macro_rules! label_value {
    ($type:ty) => {
        impl EncodeLabelValue for $type {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
                EncodeLabelValue::encode(&self.as_str(), encoder)
            }
        }
    };
}

/// What the gate did with a hit. Labels are enums, not strings: the gate counts every hit,
/// and hashing a one-byte enum to find its counter costs less than hashing its name.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum HitOutcome {
    Forwarded,
    Anonymised,
    Dropped,
}

impl HitOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forwarded => "forwarded",
            Self::Anonymised => "anonymised",
            Self::Dropped => "dropped",
        }
    }
}

label_value!(HitOutcome);

/// Why the gate did it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum HitReason {
    Consent,
    NoConsent,
    Gpc,
}

impl HitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::NoConsent => "no_consent",
            Self::Gpc => "gpc",
        }
    }
}

label_value!(HitReason);

/// Why a forward did not reach Matomo (or was not tried).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum UpstreamError {
    Timeout,
    Connect,
    /// Matomo answered, but not with success.
    Status,
    /// Shed: every slot for forwards was taken.
    Overloaded,
    Other,
}

impl UpstreamError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Status => "status",
            Self::Overloaded => "overloaded",
            Self::Other => "other",
        }
    }
}

label_value!(UpstreamError);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    table: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: UpstreamError,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

/// What the gate did with the hits it was sent, and how the upstream answered.
pub struct GateMetrics {
    hits: Family<HitLabels, Counter>,
    rejected: Family<CodeLabels, Counter>,
    upstream_errors: Family<KindLabels, Counter>,
    upstream_latency: Histogram,
    /// Hits per request to Matomo: above 1 when hits waited and left together.
    hits_per_forward: Histogram,
    in_flight: Gauge,
}

impl Default for GateMetrics {
    fn default() -> Self {
        Self {
            hits: Family::default(),
            rejected: Family::default(),
            upstream_errors: Family::default(),
            // 1 ms … ~16 s.
            upstream_latency: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            // 1 … 256: a forward carries at most 200.
            hits_per_forward: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
            in_flight: Gauge::default(),
        }
    }
}

impl GateMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "hits",
            "Tracking hits decided, by outcome and reason",
            self.hits.clone(),
        );
        registry.register(
            "rejected_requests",
            "Tracking requests refused as malformed or from a foreign origin",
            self.rejected.clone(),
        );
        registry.register(
            "upstream_errors",
            "Forwards that failed: timeout, connect, status, overloaded (shed) or other",
            self.upstream_errors.clone(),
        );
        registry.register(
            "upstream_latency_seconds",
            "Time of each successful forward to Matomo",
            self.upstream_latency.clone(),
        );
        registry.register(
            "hits_per_forward",
            "Hits each request to Matomo carried (more than one when hits waited and were merged)",
            self.hits_per_forward.clone(),
        );
        registry.register(
            "forwards_in_flight",
            "Forwards to Matomo under way",
            self.in_flight.clone(),
        );
    }

    pub fn hit(&self, outcome: HitOutcome, reason: HitReason) {
        self.hits
            .get_or_create(&HitLabels { outcome, reason })
            .inc();
    }

    pub fn rejected(&self, code: &'static str) {
        self.rejected.get_or_create(&CodeLabels { code }).inc();
    }

    pub fn upstream_error(&self, kind: UpstreamError) {
        self.upstream_errors
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    pub fn upstream_latency(&self, took: Duration) {
        self.upstream_latency.observe(took.as_secs_f64());
    }

    /// Counts a forward of `hits` hits as under way until the returned guard drops.
    pub fn forward_started(self: &Arc<Self>, hits: usize) -> InFlight {
        #[allow(clippy::cast_precision_loss)] // at most 200
        self.hits_per_forward.observe(hits as f64);
        self.in_flight.inc();
        InFlight(Arc::clone(self))
    }
}

pub struct InFlight(Arc<GateMetrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_appear_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.matomo.hit(HitOutcome::Dropped, HitReason::Gpc);
        metrics.matomo.hit(HitOutcome::Dropped, HitReason::Gpc);
        metrics.matomo.upstream_error(UpstreamError::Timeout);
        metrics.matomo.upstream_latency(Duration::from_millis(3));
        let guard = metrics.matomo.forward_started(3);
        let text = metrics.encode();
        assert!(
            text.contains(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="gpc"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"zeccloud_matomo_upstream_errors_total{kind="timeout"} 1"#));
        assert!(text.contains("zeccloud_matomo_upstream_latency_seconds_count 1"));
        assert!(
            text.contains("zeccloud_matomo_hits_per_forward_sum 3.0"),
            "{text}"
        );
        assert!(text.contains("zeccloud_matomo_forwards_in_flight 1"));
        drop(guard);
        assert!(
            metrics
                .encode()
                .contains("zeccloud_matomo_forwards_in_flight 0")
        );
    }
}
