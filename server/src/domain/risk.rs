//! Risk control with the SSAID (notice §01): the signals an assessment reports and the
//! documented thresholds that turn them into `low`, `elevated` or `high`. Pure rules; the
//! counting and the storage of sightings live in `crate::service::risk`.

use super::TerminalType;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the calling back end was doing when it asked: a known kind or its own word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessedEvent(String);

#[derive(Debug, thiserror::Error)]
#[error(
    "event must be page, login, signup, order, api, or 1 to 32 letters, digits, '-', '_' or '.'"
)]
pub struct InvalidEvent;

impl AssessedEvent {
    pub const KNOWN: [&'static str; 5] = ["page", "login", "signup", "order", "api"];

    pub fn parse(raw: &str) -> Result<Self, InvalidEvent> {
        let valid = !raw.is_empty()
            && raw.len() <= 32
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidEvent)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One SSAID seen from one network on one day, as kept (counts, never addresses or
/// User-Agents): one row per SSAID, network and day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub ssaid: super::Ssaid,
    /// The truncated network (/24, /48), as the consent proof keeps it.
    pub network: String,
    pub day: NaiveDate,
    /// Every coarse terminal type seen that day from there.
    pub terminal_types: TerminalTypes,
    pub seen_count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The back end that asked last, and what for.
    pub last_service: String,
    pub last_event: String,
}

/// What the per-network counters count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterKind {
    /// SSAIDs issued.
    Minted,
    /// Tokens presented that were forged, foreign-signed or signed with a retired key.
    Forged,
}

impl CounterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minted => "minted",
            Self::Forged => "forged",
        }
    }
}

/// Counts of one kind from one address in one window, to add to what storage holds. The
/// network's counts are the sums of its addresses'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressCount {
    /// The address's keyed hash (`network::address_key`), never the address.
    pub address: String,
    /// Its truncated network (/24, /48).
    pub network: String,
    pub kind: CounterKind,
    pub window_start: DateTime<Utc>,
    pub count: i64,
}

/// A network's count as risk control weighs it: each address adds at most `per_address`, so
/// the network's signal grows with the number of distinct addresses that contributed and one
/// noisy address cannot raise its neighbours' risk alone (its own signal does that).
pub fn network_weight(per_address_counts: impl IntoIterator<Item = u64>, per_address: u64) -> u64 {
    per_address_counts
        .into_iter()
        .map(|count| count.min(per_address))
        .sum()
}

/// The counters' windows: five minutes, so "the last hour" is twelve of them.
pub const COUNTER_WINDOW_SECS: i64 = 300;

/// The start of the window `at` falls in.
pub fn window_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let secs = at.timestamp();
    DateTime::from_timestamp(secs - secs.rem_euclid(COUNTER_WINDOW_SECS), 0).unwrap_or(at)
}

/// A set of terminal types, stored as a bit set so that a sighting's row can add to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TerminalTypes(u8);

impl TerminalTypes {
    const ALL: [TerminalType; 5] = [
        TerminalType::Desktop,
        TerminalType::Mobile,
        TerminalType::Tablet,
        TerminalType::Bot,
        TerminalType::Unknown,
    ];

    pub fn of(terminal_type: TerminalType) -> Self {
        let index = Self::ALL
            .iter()
            .position(|known| *known == terminal_type)
            .expect("every terminal type is listed");
        Self(1 << index)
    }

    pub fn from_bits(bits: i64) -> Self {
        Self(u8::try_from(bits & 0x1f).unwrap_or(0))
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn len(self) -> u64 {
        u64::from(self.0.count_ones())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A signal's value and the window it counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Signal {
    pub value: u64,
    /// `1h`, `24h`, `30d` or `now`.
    #[schema(pattern = "^(1h|24h|30d|now)$")]
    pub window: &'static str,
}

/// Everything an assessment measures. Network counts come from every instance; the SSAID's
/// spread from its sightings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// SSAIDs issued to the assessed address in the last hour (its own minting bursts).
    pub new_identifiers_from_address: u64,
    /// SSAIDs issued to the network in the last hour, weighed by address
    /// ([`RiskThresholds::network_share`]): a burst spread over many addresses.
    pub new_identifiers_from_network: u64,
    /// Forged, foreign-signed or retired-key tokens presented from the address in the last hour.
    pub forged_tokens_from_address: u64,
    /// The same from the network, weighed by address like the identifiers.
    pub forged_tokens_from_network: u64,
    /// Distinct networks and terminal types the SSAID was seen with (24 h, 30 days); zero
    /// without a valid SSAID.
    pub networks_24h: u64,
    pub networks_30d: u64,
    pub terminal_types_24h: u64,
    pub terminal_types_30d: u64,
    /// The browser now reports another terminal type than the one the SSAID was issued to.
    pub terminal_type_changed: bool,
}

impl Signals {
    /// The SSAID's spread, from its sightings (this one included), as of `now`.
    pub fn with_spread(mut self, sightings: &[Sighting], now: DateTime<Utc>) -> Self {
        let day_ago = now - chrono::TimeDelta::hours(24);
        let spread = |recent: bool| {
            let mut networks = BTreeSet::new();
            let mut types = TerminalTypes::default();
            for sighting in sightings
                .iter()
                .filter(|s| !recent || s.last_seen >= day_ago)
            {
                networks.insert(sighting.network.as_str());
                types = types.union(sighting.terminal_types);
            }
            (networks.len() as u64, types.len())
        };
        (self.networks_24h, self.terminal_types_24h) = spread(true);
        (self.networks_30d, self.terminal_types_30d) = spread(false);
        self
    }

    /// The signals by name, each with its window, as the API answers them.
    pub fn named(&self) -> BTreeMap<&'static str, Signal> {
        let signal = |value, window| Signal { value, window };
        BTreeMap::from([
            (
                "new_identifiers_from_address",
                signal(self.new_identifiers_from_address, "1h"),
            ),
            (
                "forged_tokens_from_address",
                signal(self.forged_tokens_from_address, "1h"),
            ),
            (
                "new_identifiers_from_network",
                signal(self.new_identifiers_from_network, "1h"),
            ),
            (
                "forged_tokens_from_network",
                signal(self.forged_tokens_from_network, "1h"),
            ),
            ("networks", signal(self.networks_24h, "24h")),
            ("networks_30d", signal(self.networks_30d, "30d")),
            ("terminal_types", signal(self.terminal_types_24h, "24h")),
            ("terminal_types_30d", signal(self.terminal_types_30d, "30d")),
            (
                "terminal_type_changed",
                signal(u64::from(self.terminal_type_changed), "now"),
            ),
        ])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Elevated,
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Elevated => "elevated",
            Self::High => "high",
        }
    }
}

/// Where each signal turns the risk `elevated` and `high` (`[risk]` in the settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskThresholds {
    pub new_identifiers_elevated: u64,
    pub new_identifiers_high: u64,
    pub forged_tokens_elevated: u64,
    pub forged_tokens_high: u64,
    /// Distinct networks of one SSAID in 24 h.
    pub networks_elevated: u64,
    pub networks_high: u64,
    /// A terminal type other than the one issued to: `elevated`, never more on its own (one
    /// person's browser may report a desktop site on a phone).
    pub terminal_type_changed_elevates: bool,
    /// How many distinct addresses a network's count needs to reach `high`: each address adds
    /// at most `high / network_addresses_for_high` (rounded up) to it. The address's own
    /// signal uses the thresholds unweighed.
    pub network_addresses_for_high: u64,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        Self {
            new_identifiers_elevated: 20,
            new_identifiers_high: 100,
            forged_tokens_elevated: 3,
            forged_tokens_high: 20,
            networks_elevated: 3,
            networks_high: 5,
            terminal_type_changed_elevates: true,
            network_addresses_for_high: 10,
        }
    }
}

impl RiskThresholds {
    pub fn check(&self) -> Result<(), String> {
        let pairs = [
            (
                "new_identifiers",
                self.new_identifiers_elevated,
                self.new_identifiers_high,
            ),
            (
                "forged_tokens",
                self.forged_tokens_elevated,
                self.forged_tokens_high,
            ),
            ("networks", self.networks_elevated, self.networks_high),
        ];
        if self.network_addresses_for_high == 0 {
            return Err("risk.network_addresses_for_high must be above 0".to_owned());
        }
        for (name, elevated, high) in pairs {
            if elevated == 0 || high < elevated {
                return Err(format!(
                    "risk.{name}_elevated must be above 0 and at most {name}_high"
                ));
            }
        }
        Ok(())
    }

    /// The most one address adds to its network's count of a signal whose `high` is `high`.
    pub fn network_share(&self, high: u64) -> u64 {
        high.div_ceil(self.network_addresses_for_high.max(1))
    }

    /// The highest level any signal reaches, and the signals that reached it.
    pub fn assess(&self, signals: &Signals) -> (Risk, Vec<&'static str>) {
        let level = |value: u64, elevated: u64, high: u64| {
            if value >= high {
                Risk::High
            } else if value >= elevated {
                Risk::Elevated
            } else {
                Risk::Low
            }
        };
        let changed = if signals.terminal_type_changed && self.terminal_type_changed_elevates {
            Risk::Elevated
        } else {
            Risk::Low
        };
        let levels = [
            (
                "new_identifiers_from_address",
                level(
                    signals.new_identifiers_from_address,
                    self.new_identifiers_elevated,
                    self.new_identifiers_high,
                ),
            ),
            (
                "forged_tokens_from_address",
                level(
                    signals.forged_tokens_from_address,
                    self.forged_tokens_elevated,
                    self.forged_tokens_high,
                ),
            ),
            (
                "new_identifiers_from_network",
                level(
                    signals.new_identifiers_from_network,
                    self.new_identifiers_elevated,
                    self.new_identifiers_high,
                ),
            ),
            (
                "forged_tokens_from_network",
                level(
                    signals.forged_tokens_from_network,
                    self.forged_tokens_elevated,
                    self.forged_tokens_high,
                ),
            ),
            (
                "networks",
                level(
                    signals.networks_24h,
                    self.networks_elevated,
                    self.networks_high,
                ),
            ),
            ("terminal_type_changed", changed),
        ];
        let risk = levels
            .iter()
            .map(|(_, level)| *level)
            .max()
            .unwrap_or(Risk::Low);
        let because = levels
            .iter()
            .filter(|(_, level)| risk > Risk::Low && *level == risk)
            .map(|(name, _)| *name)
            .collect();
        (risk, because)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Ssaid;

    fn sighting(
        network: &str,
        terminal: TerminalType,
        hours_ago: i64,
        now: DateTime<Utc>,
    ) -> Sighting {
        let seen = now - chrono::TimeDelta::hours(hours_ago);
        Sighting {
            ssaid: Ssaid::from_random_bytes([1; 16]),
            network: network.to_owned(),
            day: seen.date_naive(),
            terminal_types: TerminalTypes::of(terminal),
            seen_count: 1,
            first_seen: seen,
            last_seen: seen,
            last_service: "console".to_owned(),
            last_event: "login".to_owned(),
        }
    }

    #[test]
    fn events_are_known_words_or_short_free_text() {
        for good in ["login", "page", "password-reset", "v2.checkout_step"] {
            assert!(AssessedEvent::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "with space", "<script>", &"x".repeat(33)] {
            assert!(AssessedEvent::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn windows_start_on_five_minutes() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T05:43:21Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(window_start(at).to_rfc3339(), "2026-11-27T05:40:00+00:00");
        assert_eq!(window_start(window_start(at)), window_start(at));
    }

    #[test]
    fn terminal_types_form_a_set() {
        let set = TerminalTypes::of(TerminalType::Mobile)
            .union(TerminalTypes::of(TerminalType::Desktop))
            .union(TerminalTypes::of(TerminalType::Mobile));
        assert_eq!(set.len(), 2);
        assert_eq!(TerminalTypes::from_bits(set.bits()), set);
        assert!(TerminalTypes::default().is_empty());
    }

    #[test]
    fn spread_counts_networks_and_types_per_window() {
        let now = Utc::now();
        let sightings = [
            sighting("203.0.113.0/24", TerminalType::Desktop, 1, now),
            sighting("198.51.100.0/24", TerminalType::Desktop, 2, now),
            sighting("192.0.2.0/24", TerminalType::Mobile, 24 * 10, now),
        ];
        let signals = Signals::default().with_spread(&sightings, now);
        assert_eq!((signals.networks_24h, signals.networks_30d), (2, 3));
        assert_eq!(
            (signals.terminal_types_24h, signals.terminal_types_30d),
            (1, 2)
        );
    }

    #[test]
    fn the_highest_level_wins_and_names_its_signals() {
        let thresholds = RiskThresholds::default();
        assert_eq!(thresholds.assess(&Signals::default()), (Risk::Low, vec![]));
        let burst = Signals {
            new_identifiers_from_network: 100,
            networks_24h: 3,
            ..Signals::default()
        };
        assert_eq!(
            thresholds.assess(&burst),
            (Risk::High, vec!["new_identifiers_from_network"])
        );
        let spread = Signals {
            networks_24h: 3,
            terminal_type_changed: true,
            ..Signals::default()
        };
        assert_eq!(
            thresholds.assess(&spread),
            (Risk::Elevated, vec!["networks", "terminal_type_changed"])
        );
        let quiet = RiskThresholds {
            terminal_type_changed_elevates: false,
            ..RiskThresholds::default()
        };
        let changed = Signals {
            terminal_type_changed: true,
            ..Signals::default()
        };
        assert_eq!(quiet.assess(&changed).0, Risk::Low);
    }

    #[test]
    fn one_address_adds_at_most_its_share_to_the_network() {
        let thresholds = RiskThresholds::default();
        let share = thresholds.network_share(thresholds.new_identifiers_high);
        assert_eq!(share, 10);
        assert_eq!(thresholds.network_share(thresholds.forged_tokens_high), 2);
        // One noisy address and two quiet neighbours: the network stays low.
        let noisy = network_weight([100, 1, 1], share);
        assert_eq!(noisy, 12);
        let neighbour = Signals {
            new_identifiers_from_network: noisy,
            ..Signals::default()
        };
        assert_eq!(thresholds.assess(&neighbour).0, Risk::Low);
        // The noisy address itself is high on its own signal.
        let itself = Signals {
            new_identifiers_from_address: 100,
            new_identifiers_from_network: noisy,
            ..Signals::default()
        };
        assert_eq!(
            thresholds.assess(&itself),
            (Risk::High, vec!["new_identifiers_from_address"])
        );
        // Two busy addresses make it elevated; ten make it high.
        assert_eq!(network_weight([30, 30], share), 20);
        let spread = Signals {
            new_identifiers_from_network: network_weight([10; 10], share),
            ..Signals::default()
        };
        assert_eq!(
            thresholds.assess(&spread),
            (Risk::High, vec!["new_identifiers_from_network"])
        );
        assert_eq!(network_weight([], share), 0);
    }

    #[test]
    fn thresholds_must_be_ordered() {
        assert!(RiskThresholds::default().check().is_ok());
        let inverted = RiskThresholds {
            networks_elevated: 6,
            networks_high: 5,
            ..RiskThresholds::default()
        };
        assert!(inverted.check().is_err());
        let no_addresses = RiskThresholds {
            network_addresses_for_high: 0,
            ..RiskThresholds::default()
        };
        assert!(no_addresses.check().is_err());
    }
}
