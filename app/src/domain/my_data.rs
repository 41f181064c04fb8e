//! What the preference center's "Your data" section shows of everything stored under the
//! visitor's SSAID (the full record is the JSON download).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyData {
    pub ssaid: String,
    /// Unix seconds.
    pub issued_at: Option<i64>,
    /// Whether a record is stored (only once the visitor decided).
    pub stored: bool,
    pub decisions: Vec<MyDecision>,
    /// Risk-control sightings: network and day, never an address.
    pub sightings: Vec<MySighting>,
    /// The visitor id every hit forwarded to Matomo with consent carries.
    pub matomo_visitor_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyDecision {
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
