//! What a group of decisions adds to the console's statistics: their counts, one row per day
//! and combination of properties however many decisions of the group share it, and the tallies
//! of those counts per dimension value. Pure; storage writes the rows with the decisions, so
//! the statistics are exact: they change with the decisions or not at all.

use super::statistics::{DecisionCount, DecisionTally, tallies};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// What a `decision_counts` row is kept by: a day and a combination of properties, each as
/// stored. Ordered field by field, the names as stored (a day's text sorts as the day), which
/// is the order writers take the rows in: two instances writing overlapping groups lock the
/// same rows in the same order, so they wait for each other instead of deadlocking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CountKey {
    pub day: NaiveDate,
    pub policy_version: String,
    /// The embedding site; empty for the service's own pages.
    pub origin: String,
    pub language: String,
    pub terminal_type: String,
    /// The jurisdiction's name; empty before jurisdictions existed.
    pub jurisdiction: String,
    /// `Regime::as_str`.
    pub regime: &'static str,
    /// `ConsentAction::as_str`.
    pub action: &'static str,
    /// `ConsentSource::as_str`.
    pub source: &'static str,
    /// The granted categories, sorted and comma-separated (`statistics::granted_key`).
    pub granted: String,
}

impl CountKey {
    /// The key of a count's row.
    pub fn of(count: &DecisionCount) -> Self {
        Self {
            day: count.day,
            policy_version: count.policy_version.clone(),
            origin: count.origin.clone(),
            language: count.language.clone(),
            terminal_type: count.terminal_type.clone(),
            jurisdiction: count.jurisdiction.clone(),
            regime: count.regime.as_str(),
            action: count.action.as_str(),
            source: count.source.as_str(),
            granted: count.granted.join(","),
        }
    }
}

/// The statistics rows a group adds to, each with how much it adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollUp {
    /// One per key, in key order.
    pub counts: Vec<(CountKey, i64)>,
    /// One per day, dimension value and action or granted category, in key order.
    pub tallies: Vec<DecisionTally>,
}

/// Rolls decisions up into the rows they add to: `decisions` are counted as they come (a
/// decision as its count of one, `ConsentEvent::counted`), summed per key.
pub fn roll_up(decisions: &[DecisionCount]) -> RollUp {
    let mut counts: BTreeMap<CountKey, i64> = BTreeMap::new();
    for decision in decisions {
        *counts.entry(CountKey::of(decision)).or_default() += decision.decisions;
    }
    RollUp {
        counts: counts.into_iter().collect(),
        tallies: tallies(decisions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::statistics::{
        Counted, Dimension, granted_key, parse_granted_key, summarize, summarize_tallies,
    };
    use app::domain::{ConsentAction, ConsentSource};

    /// One decision, `"DAY ACTION [GRANTED,…]"`, made on the service's own pages by a desktop
    /// browser in English.
    fn decision(described: &str) -> DecisionCount {
        let mut words = described.split(' ');
        let day = words.next().unwrap().parse().unwrap();
        let action = ConsentAction::parse(words.next().unwrap()).unwrap();
        let granted = parse_granted_key(words.next().unwrap_or_default());
        DecisionCount {
            day,
            action,
            granted,
            decisions: 1,
            source: ConsentSource::Banner,
            origin: String::new(),
            policy_version: "2026-11-27".to_owned(),
            terminal_type: "desktop".to_owned(),
            language: "en".to_owned(),
            jurisdiction: String::new(),
            regime: app::domain::Regime::OptIn,
        }
    }

    #[test]
    fn decisions_sharing_a_key_are_one_row() {
        let group = [
            decision("2026-11-02 custom a,n"),
            decision("2026-11-02 custom n"),
            decision("2026-11-02 custom a,n"),
        ];
        let rolled = roll_up(&group);
        let rows: Vec<_> = rolled
            .counts
            .iter()
            .map(|(key, decisions)| (key.granted.as_str(), *decisions))
            .collect();
        assert_eq!(rows, [("a,n", 2), ("n", 1)]);
        let (key, _) = &rolled.counts[0];
        assert_eq!(
            (key.action, key.source, key.origin.as_str()),
            ("custom", "banner", "")
        );
        // As stored: the same text as the categories' own key.
        let categories = BTreeMap::from([
            ("a".to_owned(), true),
            ("m".to_owned(), false),
            ("n".to_owned(), true),
        ]);
        assert_eq!(key.granted, granted_key(&categories));
    }

    #[test]
    fn rows_are_in_the_order_of_their_stored_text() {
        // By day first, then by the action's name ("accept_all" < "custom" < "reject_all"),
        // whatever the order of the enum or of the group.
        let group = [
            decision("2026-11-03 accept_all"),
            decision("2026-11-02 reject_all"),
            decision("2026-11-02 custom"),
            decision("2026-11-02 accept_all"),
        ];
        let order: Vec<_> = roll_up(&group)
            .counts
            .iter()
            .map(|(key, _)| format!("{} {}", key.day, key.action))
            .collect();
        assert_eq!(
            order,
            [
                "2026-11-02 accept_all",
                "2026-11-02 custom",
                "2026-11-02 reject_all",
                "2026-11-03 accept_all",
            ]
        );
    }

    #[test]
    fn the_tallies_sum_the_group_per_dimension_value() {
        let on_a_site = DecisionCount {
            origin: "https://s.test".to_owned(),
            ..decision("2026-11-02 accept_all n")
        };
        let group = [
            decision("2026-11-02 accept_all a,n"),
            on_a_site,
            decision("2026-11-02 accept_all a,n"),
        ];
        let rolled = roll_up(&group);
        assert_eq!(rolled.counts.len(), 2);
        assert_eq!(summarize_tallies(&rolled.tallies), summarize(&group));
        let own_pages = rolled.tallies.iter().find(|tally| {
            tally.dimension == Dimension::Origin
                && tally.value.is_empty()
                && tally.counted == Counted::Granted("a".to_owned())
        });
        assert_eq!(own_pages.map(|tally| tally.decisions), Some(2));
        // One per key, in key order, as writers take them.
        let keys: Vec<_> = rolled
            .tallies
            .iter()
            .map(|t| (t.day, t.dimension, t.value.clone(), t.counted.clone()))
            .collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
