//! What the preference center's "Your data" section shows of everything stored under the
//! visitor's SSAID (the full record is the JSON download).

use serde::{Deserialize, Serialize};

/// How many decisions and sightings the page lists: a page stays small and quick to render
/// however many decisions a browser has made; the JSON download holds everything.
pub const SHOWN: usize = 20;

/// The last `SHOWN` of `all` (oldest first) and how many came before them.
pub fn latest<T>(mut all: Vec<T>) -> (Vec<T>, usize) {
    let earlier = all.len().saturating_sub(SHOWN);
    (all.split_off(earlier), earlier)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyData {
    pub ssaid: String,
    /// Unix seconds.
    pub issued_at: Option<i64>,
    /// Whether a record is stored (only once the visitor decided).
    pub stored: bool,
    /// The latest [`SHOWN`] decisions, oldest first.
    pub decisions: Vec<MyDecision>,
    /// How many earlier decisions are not shown (the download has them all).
    #[serde(default)]
    pub earlier_decisions: usize,
    /// The latest [`SHOWN`] risk-control sightings: network and day, never an address.
    pub sightings: Vec<MySighting>,
    #[serde(default)]
    pub earlier_sightings: usize,
    /// The visitor id every hit forwarded to Matomo with consent carries.
    pub matomo_visitor_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyDecision {
    /// The decision's id: its receipt and its proof in the consent log are found by it.
    #[serde(default)]
    pub event_id: String,
    /// Unix seconds.
    pub at: i64,
    pub action: String,
    pub policy_version: String,
    /// The network kept with it, until retention clears it.
    pub network: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySighting {
    pub day: String,
    pub network: String,
    pub service: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_are_shown_with_the_count_of_the_rest() {
        assert_eq!(latest(Vec::<u32>::new()), (vec![], 0));
        assert_eq!(latest((0..20).collect::<Vec<_>>()), ((0..20).collect(), 0));
        assert_eq!(latest((0..25).collect::<Vec<_>>()), ((5..25).collect(), 5));
    }
}
