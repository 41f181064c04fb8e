//! The last hours of this instance's counters, for the console's operations page: once a
//! minute the counters' text exposition is read and the tracked totals kept (6 hours in
//! memory, per instance; a restart starts afresh). Reading the exposition, rather than each
//! metric, keeps this in step with whatever `/metrics` shows.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// One tracked total: a metric summed over the label sets that contain `labels`.
#[derive(Debug, Clone, Copy)]
pub struct Tracked {
    pub key: &'static str,
    pub title: &'static str,
    metric: &'static str,
    labels: &'static str,
}

/// The Matomo gate's totals.
pub const GATE: [Tracked; 5] = [
    tracked(
        "forwarded",
        "Hits forwarded",
        "zeccloud_matomo_hits_total",
        "outcome=\"forwarded\"",
    ),
    tracked(
        "anonymised",
        "Hits anonymised",
        "zeccloud_matomo_hits_total",
        "outcome=\"anonymised\"",
    ),
    tracked(
        "dropped",
        "Hits dropped",
        "zeccloud_matomo_hits_total",
        "outcome=\"dropped\"",
    ),
    tracked(
        "rejected",
        "Requests rejected",
        "zeccloud_matomo_rejected_requests_total",
        "",
    ),
    tracked(
        "upstream_errors",
        "Upstream errors",
        "zeccloud_matomo_upstream_errors_total",
        "",
    ),
];

/// Risk control's totals.
pub const RISK: [Tracked; 5] = [
    tracked(
        "ssaids_issued",
        "SSAIDs issued",
        "zeccloud_ssaids_issued_total",
        "",
    ),
    tracked(
        "tokens_refused",
        "Tokens refused",
        "zeccloud_tokens_refused_total",
        "",
    ),
    tracked(
        "forged",
        "Forged or foreign tokens",
        "zeccloud_tokens_refused_total",
        "reason=\"unknown_key\"",
    ),
    tracked(
        "assessments",
        "Assessments",
        "zeccloud_ssaid_assessments_total",
        "",
    ),
    tracked(
        "rate_limited",
        "Requests over a rate limit",
        "zeccloud_rate_limited_total",
        "",
    ),
];

const fn tracked(
    key: &'static str,
    title: &'static str,
    metric: &'static str,
    labels: &'static str,
) -> Tracked {
    Tracked {
        key,
        title,
        metric,
        labels,
    }
}

/// The tracked totals in an OpenMetrics text exposition.
pub fn totals(exposition: &str, tracked: &[Tracked]) -> BTreeMap<&'static str, f64> {
    let mut totals: BTreeMap<&'static str, f64> =
        tracked.iter().map(|series| (series.key, 0.0)).collect();
    for line in exposition.lines().filter(|line| !line.starts_with('#')) {
        let Some((name_and_labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = name_and_labels
            .split_once('{')
            .unwrap_or((name_and_labels, ""));
        for series in tracked {
            if name == series.metric && labels.contains(series.labels) {
                *totals.entry(series.key).or_default() += value;
            }
        }
    }
    totals
}

/// The tracked totals at one moment.
type Sample = (DateTime<Utc>, BTreeMap<&'static str, f64>);

/// Samples of the tracked totals, oldest first.
#[derive(Debug, Default)]
pub struct CounterHistory {
    samples: Mutex<VecDeque<Sample>>,
}

/// How often the totals are sampled.
pub const SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long samples are kept: the operations page shows the last 6 hours.
pub const KEPT: TimeDelta = TimeDelta::hours(6);

impl CounterHistory {
    pub fn record(&self, at: DateTime<Utc>, exposition: &str) {
        let tracked: Vec<Tracked> = GATE.iter().chain(RISK.iter()).copied().collect();
        let mut samples = self.samples.lock().expect("history lock");
        samples.push_back((at, totals(exposition, &tracked)));
        while samples
            .front()
            .is_some_and(|(oldest, _)| *oldest < at - KEPT - TimeDelta::minutes(1))
        {
            samples.pop_front();
        }
    }

    /// When the first sample was taken: the instance's start.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.samples
            .lock()
            .expect("history lock")
            .front()
            .map(|(at, _)| *at)
    }

    /// Samples `metrics` now and then every [`SAMPLE_EVERY`]; stops when the service is
    /// dropped.
    pub fn spawn_sampling(
        self: &std::sync::Arc<Self>,
        metrics: std::sync::Arc<crate::infra::metrics::Metrics>,
        clock: crate::infra::clock::Clock,
    ) {
        let history = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(SAMPLE_EVERY);
            loop {
                every_minute.tick().await;
                let Some(history) = history.upgrade() else {
                    return;
                };
                history.record(clock.now(), &metrics.encode());
            }
        });
    }

    /// Per `bucket` (from the first sample on), how much each tracked total grew: the start
    /// of each bucket and the increments, for `tracked`.
    pub fn increments(
        &self,
        tracked: &[Tracked],
        bucket: TimeDelta,
    ) -> Vec<(DateTime<Utc>, Vec<u64>)> {
        let samples = self.samples.lock().expect("history lock");
        let Some((first, _)) = samples.front() else {
            return Vec::new();
        };
        let mut buckets: Vec<(DateTime<Utc>, Vec<u64>)> = Vec::new();
        for pair in samples.iter().collect::<Vec<_>>().windows(2) {
            let ((_, before), (at, after)) = (pair[0], pair[1]);
            let index = (*at - *first).num_seconds().max(1) - 1;
            let start = *first + bucket * i32::try_from(index / bucket.num_seconds()).unwrap_or(0);
            if buckets.last().is_none_or(|(last, _)| *last != start) {
                buckets.push((start, vec![0; tracked.len()]));
            }
            let (_, grown) = buckets.last_mut().expect("just pushed");
            for (position, series) in tracked.iter().enumerate() {
                let delta = after.get(series.key).copied().unwrap_or(0.0)
                    - before.get(series.key).copied().unwrap_or(0.0);
                // A counter never shrinks; a negative step is a reset (not on one instance).
                grown[position] += delta.max(0.0) as u64;
            }
        }
        buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPOSITION: &str = "\
# HELP zeccloud_matomo_hits Tracking hits decided, by outcome and reason.
# TYPE zeccloud_matomo_hits counter
zeccloud_matomo_hits_total{outcome=\"forwarded\",reason=\"consent\"} 7
zeccloud_matomo_hits_total{outcome=\"dropped\",reason=\"no_consent\"} 2
zeccloud_matomo_hits_total{outcome=\"dropped\",reason=\"gpc\"} 1
zeccloud_tokens_refused_total{reason=\"unknown_key\"} 3
zeccloud_tokens_refused_total{reason=\"expired\"} 4
zeccloud_ssaids_issued_total 12
";

    #[test]
    fn totals_sum_the_matching_label_sets() {
        let totals = totals(
            EXPOSITION,
            &[GATE[0], GATE[2], RISK[0], RISK[1], RISK[2], GATE[4]],
        );
        assert_eq!(totals["forwarded"], 7.0);
        assert_eq!(totals["dropped"], 3.0);
        assert_eq!(totals["ssaids_issued"], 12.0);
        assert_eq!(totals["tokens_refused"], 7.0);
        assert_eq!(totals["forged"], 3.0);
        assert_eq!(totals["upstream_errors"], 0.0, "absent counts as none");
    }

    #[test]
    fn increments_per_bucket_from_minute_samples() {
        let history = CounterHistory::default();
        let start = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for minute in 0..=20 {
            let issued = minute * 2;
            history.record(
                start + TimeDelta::minutes(minute),
                &format!("zeccloud_ssaids_issued_total {issued}\n"),
            );
        }
        let buckets = history.increments(&RISK[..1], TimeDelta::minutes(10));
        assert_eq!(buckets.len(), 2);
        assert_eq!(buckets[0].0, start);
        assert_eq!(buckets[0].1, [20]);
        assert_eq!(buckets[1].0, start + TimeDelta::minutes(10));
        assert_eq!(buckets[1].1, [20]);
    }

    #[test]
    fn samples_older_than_six_hours_go() {
        let history = CounterHistory::default();
        let start = Utc::now();
        for hour in 0..10 {
            history.record(
                start + TimeDelta::hours(hour),
                "zeccloud_ssaids_issued_total 1\n",
            );
        }
        let kept = history.samples.lock().unwrap().len();
        assert_eq!(
            kept, 7,
            "the last six hours and the sample that starts them"
        );
    }
}
