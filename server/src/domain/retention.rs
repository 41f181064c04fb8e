//! Retention (notice §04): how long each kind of stored data lives, and the cut-off times a
//! purge "as of" a moment deletes before. Pure; the purge itself is in storage.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// `[retention]` in the settings. The defaults and their reasons are in
/// `consent.sample.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// The network prefix of a decision is cleared after this many days (access-log-like).
    pub network_prefix_days: u32,
    /// An SSAID record left without any decision is deleted this long after it was issued.
    pub unused_ssaid_days: u32,
    /// A decision is kept while it is the standing choice and this many days after it was
    /// superseded or expired: as long as the consent may have to be demonstrated.
    pub proof_retention_days: u32,
    /// An erasure's evidence is kept this long.
    pub erasure_record_days: u32,
    /// The console's daily counts and their tallies (no visitor in them) are kept this long.
    pub statistics_days: u32,
    /// The daily counts of undeclared identifiers reported by embedding pages (no visitor in
    /// them either) are kept this long.
    pub observations_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            network_prefix_days: 90,
            unused_ssaid_days: 90,
            proof_retention_days: 3 * 365,
            erasure_record_days: 3 * 365,
            statistics_days: 3 * 365,
            observations_days: 90,
        }
    }
}

impl RetentionSettings {
    pub fn check(&self) -> Result<(), String> {
        let all = [
            self.network_prefix_days,
            self.unused_ssaid_days,
            self.proof_retention_days,
            self.erasure_record_days,
            self.statistics_days,
            self.observations_days,
        ];
        if all.contains(&0) {
            return Err("retention: every period must be at least one day".to_owned());
        }
        Ok(())
    }

    /// What a purge as of `as_of` deletes before. `sightings_days` is the risk-control
    /// setting; `longest_choice` how long a standing decision holds at most (the consent
    /// cookie's lifetime), after which even the latest decision has ended.
    pub fn cutoffs(
        &self,
        sightings_days: u32,
        longest_choice: TimeDelta,
        as_of: DateTime<Utc>,
    ) -> PurgeCutoffs {
        let days = |days: u32| as_of - TimeDelta::days(i64::from(days));
        let proof_ended_before = days(self.proof_retention_days);
        PurgeCutoffs {
            as_of,
            sightings_before: days(sightings_days),
            address_counters_before: as_of - ADDRESS_COUNTERS_KEPT,
            prefixes_before: days(self.network_prefix_days),
            superseded_before: proof_ended_before,
            decided_before: proof_ended_before - longest_choice,
            unused_ssaids_before: days(self.unused_ssaid_days),
            erasures_before: days(self.erasure_record_days),
            statistics_before: days(self.statistics_days),
            observations_before: days(self.observations_days),
        }
    }
}

/// How long risk control's per-address counts are kept: only the last hour is ever read, and
/// a day leaves room for a purge that did not run; not a setting, as nothing needs them longer.
pub const ADDRESS_COUNTERS_KEPT: TimeDelta = TimeDelta::days(1);

/// The cut-off times of one purge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Revocations whose cookie expired before this go.
    pub as_of: DateTime<Utc>,
    pub sightings_before: DateTime<Utc>,
    /// Risk control's per-address counts (keyed hashes) of windows before this go.
    pub address_counters_before: DateTime<Utc>,
    pub prefixes_before: DateTime<Utc>,
    /// A decision superseded by a later one made before this goes.
    pub superseded_before: DateTime<Utc>,
    /// Any decision made before this goes: even as the standing choice it has expired, and
    /// its proof period has passed.
    pub decided_before: DateTime<Utc>,
    pub unused_ssaids_before: DateTime<Utc>,
    pub erasures_before: DateTime<Utc>,
    /// Daily counts of days before this go.
    pub statistics_before: DateTime<Utc>,
    /// Daily counts of undeclared identifiers of days before this go.
    pub observations_before: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_count_back_from_the_purge_date() {
        let as_of = DateTime::parse_from_rfc3339("2027-11-27T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cutoffs = RetentionSettings::default().cutoffs(90, TimeDelta::days(365), as_of);
        assert_eq!(
            cutoffs.sightings_before.to_rfc3339(),
            "2027-08-29T00:00:00+00:00"
        );
        assert_eq!(cutoffs.prefixes_before, cutoffs.sightings_before);
        assert_eq!(
            cutoffs.address_counters_before.to_rfc3339(),
            "2027-11-26T00:00:00+00:00"
        );
        assert_eq!(
            cutoffs.superseded_before.to_rfc3339(),
            "2024-11-27T00:00:00+00:00"
        );
        assert_eq!(
            cutoffs.decided_before.to_rfc3339(),
            "2023-11-28T00:00:00+00:00"
        );
        assert_eq!(cutoffs.erasures_before, cutoffs.superseded_before);
        assert_eq!(cutoffs.statistics_before, cutoffs.superseded_before);
        assert_eq!(cutoffs.observations_before, cutoffs.sightings_before);
    }

    #[test]
    fn periods_must_be_at_least_a_day() {
        assert!(RetentionSettings::default().check().is_ok());
        let none = RetentionSettings {
            proof_retention_days: 0,
            ..RetentionSettings::default()
        };
        assert!(none.check().is_err());
    }
}
