//! The decisions port: consent decisions as recorded (proof of consent, never updated) and the
//! SSAIDs stored with them.

use super::StorageError;
use crate::domain::log::leaf::{self, DecisionRecord};
use crate::domain::log::{Leaf, LeafKind};
use crate::domain::statistics::DecisionCount;
use crate::domain::{Ssaid, TerminalType};
use app::domain::{
    AppliedJurisdiction, ConsentAction, ConsentSource, CountrySource, PolicyVersion, Regime,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsaidRecord {
    pub ssaid: Ssaid,
    pub issued_at: DateTime<Utc>,
    pub terminal_type: TerminalType,
}

/// One consent decision as recorded; rows are never updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    pub id: Uuid,
    pub ssaid: Ssaid,
    pub policy_version: PolicyVersion,
    pub categories: BTreeMap<String, bool>,
    pub action: ConsentAction,
    pub source: ConsentSource,
    pub created_at: DateTime<Utc>,
    /// When the visitor made the choice, if their page delivered it late (it retried while the
    /// service could not save it); `None`: made when recorded.
    pub made_at: Option<DateTime<Utc>>,
    /// Hash of the policy version the decision was made on.
    pub policy_hash: String,
    /// Hash of the exact banner text shown, in `language`.
    pub banner_text_hash: String,
    pub language: String,
    /// The visitor's network, truncated to /24 (IPv4) or /48 (IPv6).
    pub ip_prefix: Option<String>,
    /// Coarse user-agent class (the terminal type), never the User-Agent itself.
    pub ua_class: TerminalType,
    /// The site an embedded banner ran on.
    pub origin: Option<String>,
    /// Where the decision was made and under which regime; `None` for decisions recorded
    /// before jurisdictions existed (all of them under opt-in).
    pub jurisdiction: Option<DecisionPlace>,
    /// The salt of the decision's leaf in the consent log (hex, `crate::domain::log::leaf`);
    /// `None` for one written by a release before the log.
    pub log_salt: Option<String>,
}

/// The jurisdiction a decision was made in, as recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionPlace {
    /// The policy's jurisdiction name, or `default`.
    pub name: String,
    pub regime: Regime,
    /// The visitor's country or subdivision, when known.
    pub country: Option<String>,
    pub source: CountrySource,
}

impl From<&AppliedJurisdiction> for DecisionPlace {
    fn from(applied: &AppliedJurisdiction) -> Self {
        Self {
            name: applied.name.clone(),
            regime: applied.regime,
            country: applied.country.clone(),
            source: applied.source,
        }
    }
}

impl ConsentEvent {
    /// The decision's canonical record, as its log leaf commits to it (docs/consent-log.md).
    pub fn log_record(&self) -> Vec<u8> {
        let place = self.jurisdiction.as_ref();
        leaf::canonical(&DecisionRecord {
            id: self.id.to_string(),
            ssaid: self.ssaid.as_str(),
            policy_version: self.policy_version.to_string(),
            policy_hash: &self.policy_hash,
            banner_text_hash: &self.banner_text_hash,
            language: &self.language,
            categories: &self.categories,
            action: self.action.as_str(),
            source: self.source.as_str(),
            created_at: leaf::timestamp(self.created_at),
            made_at: self.made_at.map(leaf::timestamp),
            ua_class: self.ua_class.as_str(),
            origin: self.origin.as_deref(),
            jurisdiction: place.map(|place| place.name.as_str()),
            regime: place.map(|place| place.regime.as_str()),
            country: place.and_then(|place| place.country.as_deref()),
            country_source: place.map(|place| place.source.as_str()),
        })
    }

    /// The decision's leaf in the consent log.
    pub fn log_leaf(&self) -> Leaf {
        Leaf {
            kind: LeafKind::Consent,
            logged_at: leaf::to_micros(self.created_at),
            commitment: leaf::commitment(
                &leaf::salt_bytes(self.log_salt.as_deref()),
                &self.log_record(),
            ),
        }
    }

    /// The decision as the console's statistics count it: once, on the day it was recorded,
    /// by its properties (`crate::domain::rollup`).
    pub(crate) fn counted(&self) -> DecisionCount {
        DecisionCount {
            day: self.created_at.date_naive(),
            policy_version: self.policy_version.to_string(),
            origin: self.origin.clone().unwrap_or_default(),
            language: self.language.clone(),
            terminal_type: self.ua_class.as_str().to_owned(),
            // Decisions recorded before jurisdictions: no name, and opt-in, the only regime.
            jurisdiction: self
                .jurisdiction
                .as_ref()
                .map(|place| place.name.clone())
                .unwrap_or_default(),
            regime: self
                .jurisdiction
                .as_ref()
                .map_or(Regime::OptIn, |place| place.regime),
            action: self.action,
            source: self.source,
            granted: self
                .categories
                .iter()
                .filter(|(_, granted)| **granted)
                .map(|(category, _)| category.clone())
                .collect(),
            decisions: 1,
        }
    }
}

/// Recording decisions and reading them back: what the consent core (its group commit and
/// receipts) and the risk assessment's consent state use.
#[async_trait::async_trait]
pub trait DecisionStore: Send + Sync {
    /// Records several decisions (with their SSAIDs) in one transaction, so they share one
    /// commit and one fsync (group commit, `crate::service::consent::group_commit`): all or none.
    /// Each decider's SSAID is stored first unless it is already stored: SSAIDs are written only
    /// when a decision needs them, and a valid token whose row is missing (after a restore) is
    /// stored again rather than failing. The console's statistics change with the decisions.
    async fn insert_consent_events(
        &self,
        decisions: &[(SsaidRecord, ConsentEvent)],
    ) -> Result<(), StorageError>;
    async fn find_consent_event(&self, id: Uuid) -> Result<Option<ConsentEvent>, StorageError>;
    /// The latest decision of one SSAID: one row, however many it made.
    async fn latest_consent_event_for(
        &self,
        ssaid: &Ssaid,
    ) -> Result<Option<ConsentEvent>, StorageError>;
    /// All decisions of one SSAID, oldest first.
    async fn consent_events_for(&self, ssaid: &Ssaid) -> Result<Vec<ConsentEvent>, StorageError>;
}
