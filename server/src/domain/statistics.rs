//! The operator console's numbers: decisions per day counted by policy version, embedding
//! site, language, terminal type, action, source and granted categories (one stored row per
//! combination and day), and the roll-ups the console shows. Pure; storage keeps the counts.

use app::console::{DimensionTable, DimensionValue, Overview};
use app::domain::{ConsentAction, ConsentSource};
use chrono::{NaiveDate, TimeDelta};
use std::collections::BTreeMap;

/// Decisions of one day with the same properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionCount {
    pub day: NaiveDate,
    pub policy_version: String,
    /// The embedding site; empty for the service's own pages.
    pub origin: String,
    pub language: String,
    pub terminal_type: String,
    pub action: ConsentAction,
    pub source: ConsentSource,
    /// The granted categories, sorted.
    pub granted: Vec<String>,
    pub decisions: i64,
}

/// How the granted categories of a decision are stored: sorted (a `BTreeMap` iterates in
/// order), comma-separated. Category ids never contain a comma.
pub fn granted_key(categories: &BTreeMap<String, bool>) -> String {
    categories
        .iter()
        .filter(|(_, granted)| **granted)
        .map(|(category, _)| category.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse_granted_key(raw: &str) -> Vec<String> {
    raw.split(',')
        .filter(|category| !category.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What the console splits decisions by, besides the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dimension {
    PolicyVersion,
    Origin,
    Language,
    TerminalType,
}

impl Dimension {
    pub const ALL: [Self; 4] = [
        Self::PolicyVersion,
        Self::Origin,
        Self::Language,
        Self::TerminalType,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::PolicyVersion => "Policy version",
            Self::Origin => "Embedding site",
            Self::Language => "Language",
            Self::TerminalType => "Terminal type",
        }
    }

    fn value_of(self, count: &DecisionCount) -> String {
        match self {
            Self::PolicyVersion => count.policy_version.clone(),
            Self::Origin if count.origin.is_empty() => "(own pages)".to_owned(),
            Self::Origin => count.origin.clone(),
            Self::Language => count.language.clone(),
            Self::TerminalType => count.terminal_type.clone(),
        }
    }
}

/// The days from `to - (days - 1)` to `to`, oldest first.
pub fn day_range(to: NaiveDate, days: u32) -> Vec<NaiveDate> {
    (0..i64::from(days))
        .rev()
        .map(|back| to - TimeDelta::days(back))
        .collect()
}

/// One day's counts summed by everything the overview shows: a few hundred numbers, however
/// many stored rows (one per combination of properties) the day has. A day's summary never
/// changes once the day is over, so the console keeps them (`crate::console::day_summaries`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaySummary {
    pub decisions: i64,
    pub by_action: BTreeMap<&'static str, i64>,
    /// Per category: how many decisions granted it.
    pub granted: BTreeMap<String, i64>,
    pub by_dimension: BTreeMap<(Dimension, String), Tally>,
}

/// Decisions of one value of a dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub decisions: i64,
    pub by_action: BTreeMap<&'static str, i64>,
    pub granted: BTreeMap<String, i64>,
}

impl Tally {
    fn add(&mut self, count: &DecisionCount) {
        self.decisions += count.decisions;
        *self.by_action.entry(count.action.as_str()).or_default() += count.decisions;
        for category in &count.granted {
            *self.granted.entry(category.clone()).or_default() += count.decisions;
        }
    }
}

/// The stored counts summed per day.
pub fn summarize(counts: &[DecisionCount]) -> BTreeMap<NaiveDate, DaySummary> {
    let mut days: BTreeMap<NaiveDate, DaySummary> = BTreeMap::new();
    for count in counts {
        let day = days.entry(count.day).or_default();
        day.decisions += count.decisions;
        *day.by_action.entry(count.action.as_str()).or_default() += count.decisions;
        for category in &count.granted {
            *day.granted.entry(category.clone()).or_default() += count.decisions;
        }
        for dimension in Dimension::ALL {
            day.by_dimension
                .entry((dimension, dimension.value_of(count)))
                .or_default()
                .add(count);
        }
    }
    days
}

/// The console's overview of `days` (oldest first) from the stored counts. `categories` are
/// the categories whose share of grants is shown (the current policy's optional ones). A
/// category's share on a day is the share of that day's decisions granting it.
pub fn overview(days: &[NaiveDate], categories: &[String], counts: &[DecisionCount]) -> Overview {
    let summaries = summarize(counts);
    overview_of(days, categories, |day| summaries.get(&day))
}

/// The overview from each day's summary (`None`: no decisions that day).
pub fn overview_of<'s>(
    days: &[NaiveDate],
    categories: &[String],
    summary_of: impl Fn(NaiveDate) -> Option<&'s DaySummary>,
) -> Overview {
    let mut by_action: BTreeMap<String, Vec<i64>> = ConsentAction::ALL
        .iter()
        .map(|action| (action.as_str().to_owned(), vec![0; days.len()]))
        .collect();
    let mut decisions_per_day = vec![0_i64; days.len()];
    let mut granted_per_day: BTreeMap<String, Vec<i64>> = categories
        .iter()
        .map(|category| (category.clone(), vec![0; days.len()]))
        .collect();
    let mut by_dimension: BTreeMap<Dimension, BTreeMap<String, DimensionValue>> = BTreeMap::new();
    for (position, day) in days.iter().enumerate() {
        let Some(summary) = summary_of(*day) else {
            continue;
        };
        for (action, decisions) in &summary.by_action {
            if let Some(per_day) = by_action.get_mut(*action) {
                per_day[position] += decisions;
            }
        }
        decisions_per_day[position] += summary.decisions;
        for (category, per_day) in &mut granted_per_day {
            per_day[position] += summary.granted.get(category).copied().unwrap_or(0);
        }
        for ((dimension, value), tally) in &summary.by_dimension {
            let row = by_dimension
                .entry(*dimension)
                .or_default()
                .entry(value.clone())
                .or_insert_with(|| DimensionValue {
                    value: value.clone(),
                    decisions: 0,
                    by_action: ConsentAction::ALL
                        .iter()
                        .map(|action| (action.as_str().to_owned(), 0))
                        .collect(),
                    granted: categories
                        .iter()
                        .map(|category| (category.clone(), 0))
                        .collect(),
                });
            row.decisions += tally.decisions;
            for (action, decisions) in &tally.by_action {
                *row.by_action.entry((*action).to_owned()).or_default() += decisions;
            }
            for (category, granted) in &mut row.granted {
                *granted += tally.granted.get(category).copied().unwrap_or(0);
            }
        }
    }
    let grant_share = granted_per_day
        .into_iter()
        .map(|(category, granted)| {
            let shares = granted
                .iter()
                .zip(&decisions_per_day)
                .map(|(granted, decisions)| share(*granted, *decisions))
                .collect();
            (category, shares)
        })
        .collect();
    Overview {
        days: days.iter().map(|day| day.to_string()).collect(),
        total: decisions_per_day.iter().sum(),
        decisions_per_day,
        by_action,
        grant_share,
        categories: categories.to_vec(),
        dimensions: Dimension::ALL
            .iter()
            .map(|dimension| {
                let mut values: Vec<DimensionValue> = by_dimension
                    .remove(dimension)
                    .unwrap_or_default()
                    .into_values()
                    .collect();
                // Most decisions first; ties by name, so the order is stable.
                values.sort_by(|a, b| b.decisions.cmp(&a.decisions).then(a.value.cmp(&b.value)));
                DimensionTable {
                    title: dimension.title().to_owned(),
                    values,
                }
            })
            .collect(),
        charts: Vec::new(),
    }
}

/// `granted / decisions` as a percentage, none on a day without decisions.
fn share(granted: i64, decisions: i64) -> Option<f64> {
    (decisions > 0).then(|| granted as f64 * 100.0 / decisions as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn count(
        on: &str,
        origin: &str,
        action: ConsentAction,
        granted: &[&str],
        decisions: i64,
    ) -> DecisionCount {
        DecisionCount {
            day: day(on),
            policy_version: "2026-11-27".to_owned(),
            origin: origin.to_owned(),
            language: "en".to_owned(),
            terminal_type: "desktop".to_owned(),
            action,
            source: ConsentSource::Banner,
            granted: granted.iter().map(|c| (*c).to_owned()).collect(),
            decisions,
        }
    }

    #[test]
    fn granted_keys_are_sorted_and_round_trip() {
        let categories = BTreeMap::from([
            ("necessary".to_owned(), true),
            ("analytics".to_owned(), true),
            ("marketing".to_owned(), false),
        ]);
        assert_eq!(granted_key(&categories), "analytics,necessary");
        assert_eq!(
            parse_granted_key("analytics,necessary"),
            ["analytics", "necessary"]
        );
        assert!(parse_granted_key("").is_empty());
    }

    #[test]
    fn day_range_ends_today_oldest_first() {
        assert_eq!(
            day_range(day("2026-03-01"), 3),
            [day("2026-02-27"), day("2026-02-28"), day("2026-03-01")]
        );
    }

    #[test]
    fn overview_sums_by_day_action_share_and_dimension() {
        let days = day_range(day("2026-11-27"), 2);
        let categories = vec!["analytics".to_owned(), "marketing".to_owned()];
        let counts = [
            count(
                "2026-11-26",
                "",
                ConsentAction::AcceptAll,
                &["analytics", "marketing", "necessary"],
                3,
            ),
            count(
                "2026-11-26",
                "https://www.zeccloud.test",
                ConsentAction::RejectAll,
                &["necessary"],
                1,
            ),
            count(
                "2026-11-27",
                "",
                ConsentAction::Custom,
                &["analytics", "necessary"],
                2,
            ),
            // Outside the range: ignored.
            count(
                "2026-11-01",
                "",
                ConsentAction::AcceptAll,
                &["analytics"],
                9,
            ),
        ];
        let overview = overview(&days, &categories, &counts);
        assert_eq!(overview.days, ["2026-11-26", "2026-11-27"]);
        assert_eq!(overview.total, 6);
        assert_eq!(overview.decisions_per_day, [4, 2]);
        assert_eq!(overview.by_action["accept_all"], [3, 0]);
        assert_eq!(overview.by_action["reject_all"], [1, 0]);
        assert_eq!(overview.by_action["custom"], [0, 2]);
        assert_eq!(overview.by_action["gpc"], [0, 0]);
        assert_eq!(overview.grant_share["analytics"], [Some(75.0), Some(100.0)]);
        assert_eq!(overview.grant_share["marketing"], [Some(75.0), Some(0.0)]);
        let sites = &overview.dimensions[1];
        assert_eq!(sites.title, "Embedding site");
        assert_eq!(sites.values[0].value, "(own pages)");
        assert_eq!(sites.values[0].decisions, 5);
        assert_eq!(sites.values[0].granted["analytics"], 5);
        assert_eq!(sites.values[1].value, "https://www.zeccloud.test");
        assert_eq!(sites.values[1].by_action["reject_all"], 1);
        assert_eq!(sites.values[1].granted["marketing"], 0);
    }

    #[test]
    fn a_day_without_decisions_has_no_share() {
        let days = day_range(day("2026-11-27"), 1);
        let overview = overview(&days, &["analytics".to_owned()], &[]);
        assert_eq!(overview.total, 0);
        assert_eq!(overview.grant_share["analytics"], [None]);
        assert!(
            overview
                .dimensions
                .iter()
                .all(|table| table.values.is_empty())
        );
    }
}
