//! The operator console's numbers: decisions per day counted by policy version, embedding
//! site, language, terminal type, jurisdiction, regime, action, source and granted categories (one stored row per
//! combination and day), their tallies per dimension value (stored beside them, what the
//! overview reads), and the roll-ups the console shows. Pure; storage keeps the counts.

use app::console::{DimensionTable, DimensionValue, Overview};
use app::domain::{ConsentAction, ConsentSource, Regime};
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
    /// The policy's jurisdiction the decision was made in; empty for decisions recorded
    /// before jurisdictions existed.
    pub jurisdiction: String,
    /// Its regime (opt-in for decisions recorded before jurisdictions: the only one there was).
    pub regime: Regime,
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
    Jurisdiction,
    Regime,
}

impl Dimension {
    pub const ALL: [Self; 6] = [
        Self::PolicyVersion,
        Self::Origin,
        Self::Language,
        Self::TerminalType,
        Self::Jurisdiction,
        Self::Regime,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::PolicyVersion => "Policy version",
            Self::Origin => "Embedding site",
            Self::Language => "Language",
            Self::TerminalType => "Terminal type",
            Self::Jurisdiction => "Jurisdiction",
            Self::Regime => "Regime",
        }
    }

    /// How storage names the dimension: the column of the counts that holds it.
    pub fn column(self) -> &'static str {
        match self {
            Self::PolicyVersion => "policy_version",
            Self::Origin => "origin",
            Self::Language => "language",
            Self::TerminalType => "terminal_type",
            Self::Jurisdiction => "jurisdiction",
            Self::Regime => "regime",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|dimension| dimension.column() == raw)
    }

    /// The count's value as stored.
    fn stored_value(self, count: &DecisionCount) -> &str {
        match self {
            Self::PolicyVersion => &count.policy_version,
            Self::Origin => &count.origin,
            Self::Language => &count.language,
            Self::TerminalType => &count.terminal_type,
            Self::Jurisdiction => &count.jurisdiction,
            Self::Regime => count.regime.as_str(),
        }
    }

    /// A stored value as the overview names it.
    fn label(self, stored: &str) -> String {
        match self {
            Self::Origin if stored.is_empty() => "(own pages)".to_owned(),
            Self::Jurisdiction if stored.is_empty() => "(before jurisdictions)".to_owned(),
            _ => stored.to_owned(),
        }
    }

    fn value_of(self, count: &DecisionCount) -> String {
        self.label(self.stored_value(count))
    }
}

/// What a tally counts: the decisions taking an action, or those granting a category.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Counted {
    /// `ConsentAction::as_str`.
    Action(&'static str),
    Granted(String),
}

impl Counted {
    /// How storage names the kind of count.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Action(_) => "action",
            Self::Granted(_) => "granted",
        }
    }

    /// The action or the category.
    pub fn name(&self) -> &str {
        match self {
            Self::Action(action) => action,
            Self::Granted(category) => category,
        }
    }

    pub fn parse(kind: &str, name: &str) -> Option<Self> {
        match kind {
            "action" => ConsentAction::parse(name).map(|action| Self::Action(action.as_str())),
            "granted" => Some(Self::Granted(name.to_owned())),
            _ => None,
        }
    }
}

/// Decisions of one day and one value of a dimension taking one action or granting one
/// category: the counts summed over everything else. These marginals are all the overview
/// shows, and a day has about as many of them however busy it was (about 120 at ten million
/// decisions, against about 1,200 combinations), so storage keeps them beside the counts and
/// the overview reads them instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTally {
    pub day: NaiveDate,
    pub dimension: Dimension,
    /// As stored in the counts (`origin` empty for the service's own pages).
    pub value: String,
    pub counted: Counted,
    pub decisions: i64,
}

/// A tally's key: day, dimension, stored value, what it counts. Ordered, so that writers
/// update tallies in one order.
pub type TallyKey = (NaiveDate, Dimension, String, Counted);

/// Adds a count to the tallies it is part of: its action and each category it granted, per
/// dimension.
pub fn add_to_tallies(tallies: &mut BTreeMap<TallyKey, i64>, count: &DecisionCount) {
    for dimension in Dimension::ALL {
        let value = dimension.stored_value(count);
        *tallies
            .entry((
                count.day,
                dimension,
                value.to_owned(),
                Counted::Action(count.action.as_str()),
            ))
            .or_default() += count.decisions;
        for category in &count.granted {
            *tallies
                .entry((
                    count.day,
                    dimension,
                    value.to_owned(),
                    Counted::Granted(category.clone()),
                ))
                .or_default() += count.decisions;
        }
    }
}

/// The tallies of the counts, in key order.
pub fn tallies(counts: &[DecisionCount]) -> Vec<DecisionTally> {
    let mut sums = BTreeMap::new();
    for count in counts {
        add_to_tallies(&mut sums, count);
    }
    sums.into_iter()
        .map(
            |((day, dimension, value, counted), decisions)| DecisionTally {
                day,
                dimension,
                value,
                counted,
                decisions,
            },
        )
        .collect()
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
/// changes once the day is over, so the console keeps them (`crate::service::console::day_summaries`).
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

/// The stored tallies summed per day: the same as [`summarize`] of the counts they were
/// tallied from. Every decision has exactly one policy version, so the day's own numbers are
/// the sums over the policy versions.
pub fn summarize_tallies(tallies: &[DecisionTally]) -> BTreeMap<NaiveDate, DaySummary> {
    let mut days: BTreeMap<NaiveDate, DaySummary> = BTreeMap::new();
    for tally in tallies {
        let day = days.entry(tally.day).or_default();
        let whole_day = tally.dimension == Dimension::PolicyVersion;
        let value = day
            .by_dimension
            .entry((tally.dimension, tally.dimension.label(&tally.value)))
            .or_default();
        match &tally.counted {
            Counted::Action(action) => {
                value.decisions += tally.decisions;
                *value.by_action.entry(action).or_default() += tally.decisions;
                if whole_day {
                    day.decisions += tally.decisions;
                    *day.by_action.entry(action).or_default() += tally.decisions;
                }
            }
            Counted::Granted(category) => {
                *value.granted.entry(category.clone()).or_default() += tally.decisions;
                if whole_day {
                    *day.granted.entry(category.clone()).or_default() += tally.decisions;
                }
            }
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
    use proptest::prelude::*;

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
            jurisdiction: String::new(),
            regime: Regime::OptIn,
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
    fn tallies_are_the_counts_summed_per_dimension_value() {
        let counts = [
            count("2026-11-26", "", ConsentAction::AcceptAll, &["a", "n"], 3),
            count(
                "2026-11-26",
                "https://s.test",
                ConsentAction::AcceptAll,
                &["n"],
                2,
            ),
            count("2026-11-27", "", ConsentAction::Gpc, &[], 0),
        ];
        let tallies = tallies(&counts);
        let find = |on: &str, dimension, value: &str, counted: Counted| {
            tallies
                .iter()
                .find(|t| {
                    t.day == day(on)
                        && t.dimension == dimension
                        && t.value == value
                        && t.counted == counted
                })
                .map(|t| t.decisions)
        };
        let accepted = || Counted::Action("accept_all");
        assert_eq!(
            find("2026-11-26", Dimension::Origin, "", accepted()),
            Some(3)
        );
        assert_eq!(
            find("2026-11-26", Dimension::Language, "en", accepted()),
            Some(5)
        );
        let necessary = Counted::Granted("n".to_owned());
        assert_eq!(
            find("2026-11-26", Dimension::TerminalType, "desktop", necessary),
            Some(5)
        );
        // A count of nothing still says the value was seen, as its count row does.
        let gpc = Counted::Action("gpc");
        assert_eq!(find("2026-11-27", Dimension::Origin, "", gpc), Some(0));
        // Day 26: 6 dimensions × (1 action + 2 categories) for "", + 6 × 2 for the site,
        // less the 5 values both share (version, language, terminal type, jurisdiction,
        // regime) × 2 (action, "n").
        assert_eq!(
            tallies
                .iter()
                .filter(|t| t.day == day("2026-11-26"))
                .count(),
            18 + 12 - 10
        );
        assert_eq!(summarize_tallies(&tallies), summarize(&counts));
        for dimension in Dimension::ALL {
            assert_eq!(Dimension::parse(dimension.column()), Some(dimension));
        }
        for counted in [accepted(), Counted::Granted("x".to_owned())] {
            assert_eq!(
                Counted::parse(counted.kind(), counted.name()),
                Some(counted)
            );
        }
        assert_eq!(Counted::parse("action", "maybe"), None);
    }

    fn arbitrary_count() -> impl Strategy<Value = DecisionCount> {
        (
            0..3_u32,
            prop::sample::select(vec!["2026-10-01", "2026-11-27"]),
            prop::sample::select(vec!["", "https://a.test", "https://b.test"]),
            prop::sample::select(vec!["en", "ja"]),
            prop::sample::select(vec!["desktop", "mobile", "bot"]),
            (
                prop::sample::select(vec!["", "default", "united_states"]),
                prop::sample::select(Regime::ALL.to_vec()),
            ),
            prop::sample::select(ConsentAction::ALL.to_vec()),
            prop::sample::subsequence(vec!["analytics", "marketing", "necessary"], 0..=3),
            0..1000_i64,
        )
            .prop_map(
                |(on, version, origin, language, terminal, place, action, granted, decisions)| {
                    DecisionCount {
                        day: day("2026-11-25") + TimeDelta::days(i64::from(on)),
                        policy_version: version.to_owned(),
                        origin: origin.to_owned(),
                        language: language.to_owned(),
                        terminal_type: terminal.to_owned(),
                        jurisdiction: place.0.to_owned(),
                        regime: place.1,
                        action,
                        source: ConsentSource::Banner,
                        granted: granted.into_iter().map(str::to_owned).collect(),
                        decisions,
                    }
                },
            )
    }

    proptest! {
        /// The overview read from the tallies is the overview read from the counts, whatever
        /// the counts (several rows of one key included, as two days' writes would leave).
        #[test]
        fn summaries_of_tallies_equal_summaries_of_counts(
            counts in prop::collection::vec(arbitrary_count(), 0..40)
        ) {
            prop_assert_eq!(summarize_tallies(&tallies(&counts)), summarize(&counts));
        }
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
