use super::category::CategoryId;
use super::identifier::IdentifierKind;
use super::policy::Policy;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::error_code::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    AcceptAll,
    RejectAll,
    Custom,
    /// Every optional category refused after an earlier choice.
    Withdraw,
    /// The browser's Global Privacy Control signal, applied while the visitor has not chosen:
    /// refuses the categories the policy marks `refused_by_gpc` and leaves the others unset.
    Gpc,
    /// The visitor took note of an opt-out or notice first layer: the regime's defaults stand
    /// (every optional category on, less what a GPC signal refuses). Refused under opt-in.
    Acknowledge,
}

impl ConsentAction {
    pub const ALL: [Self; 6] = [
        Self::AcceptAll,
        Self::RejectAll,
        Self::Custom,
        Self::Withdraw,
        Self::Gpc,
        Self::Acknowledge,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcceptAll => "accept_all",
            Self::RejectAll => "reject_all",
            Self::Custom => "custom",
            Self::Withdraw => "withdraw",
            Self::Gpc => "gpc",
            Self::Acknowledge => "acknowledge",
        }
    }

    /// Whether the visitor chose this themselves (GPC is a browser default, not a choice).
    pub fn is_explicit(self) -> bool {
        self != Self::Gpc
    }
}

/// Where a decision was made; part of the proof of consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// The hydrated banner on one of our pages.
    Banner,
    /// The hydrated preference center (`/preferences`).
    PreferenceCenter,
    /// A plain HTML form POST from a browser without JavaScript.
    NoJsForm,
    /// The banner embedded in another ZecCloud site; the event records that site's origin.
    Embed,
    /// `POST /api/v1/consent` from another client.
    Api,
    /// The browser's Global Privacy Control signal (`Sec-GPC: 1`).
    Gpc,
}

impl ConsentSource {
    pub const ALL: [Self; 6] = [
        Self::Banner,
        Self::PreferenceCenter,
        Self::NoJsForm,
        Self::Embed,
        Self::Api,
        Self::Gpc,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Banner => "banner",
            Self::PreferenceCenter => "preference_center",
            Self::NoJsForm => "no_js_form",
            Self::Embed => "embed",
            Self::Api => "api",
            Self::Gpc => "gpc",
        }
    }
}

/// A decision as a client submits it, before it is checked against the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ssr",
    derive(utoipa::ToSchema),
    schema(example = json!({
        "policy_version": "2026-12-07",
        "action": "custom",
        "categories": {"preferences": true, "analytics": false},
        "language": "en"
    }))
)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The policy version the visitor was shown: the current one (`GET /api/v1/policy`).
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub policy_version: String,
    pub action: ConsentAction,
    /// Each category's state. Required for `custom`; optional but checked for the others.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = super::schema::category_states))]
    pub categories: Option<BTreeMap<String, bool>>,
    /// The language the banner was shown in (its exact text is part of the proof); the
    /// policy's default language when absent.
    #[serde(default)]
    pub language: Option<String>,
    /// How long ago the visitor made this choice, when their page delivers it late: it kept
    /// the choice and retried while the service could not save it. Relative, so a wrong clock
    /// in the browser cannot misdate it; the record keeps both times.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 3_600_000))]
    pub decided_ms_ago: Option<u64>,
}

/// The longest a page may hold a choice before delivering it. The banner and the loader give
/// up after about a minute of retries; anything older is not a retry.
pub const MAX_DECISION_AGE_MS: u64 = 60 * 60 * 1000;

impl ConsentRequest {
    /// A decision as an HTML form carries it: for a custom choice only the ticked categories
    /// arrive, so every optional category of the policy that is not ticked is refused. Ticked
    /// names the policy does not know are kept, so that validation reports them.
    pub fn from_form(
        policy: &Policy,
        policy_version: String,
        action: ConsentAction,
        ticked: BTreeSet<String>,
    ) -> Self {
        let categories = (action == ConsentAction::Custom).then(|| {
            let mut states: BTreeMap<String, bool> = policy
                .categories
                .iter()
                .filter(|category| !category.required())
                .map(|category| {
                    (
                        category.id.to_string(),
                        ticked.contains(category.id.as_str()),
                    )
                })
                .collect();
            for name in ticked {
                states.entry(name).or_insert(true);
            }
            states
        });
        Self {
            policy_version,
            action,
            categories,
            language: None,
            decided_ms_ago: None,
        }
    }
}

/// A decision checked against the current policy: every category of the policy has a state,
/// except after GPC, which decides only the categories it refuses (the rest stay unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub policy_version: String,
    pub action: ConsentAction,
    pub categories: BTreeMap<CategoryId, bool>,
    /// How long before its delivery the choice was made; zero for a choice delivered at once.
    pub decided_ms_ago: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error(
        "policy version {given:?} is not the current version {current:?}; reload the page and decide again"
    )]
    StalePolicyVersion { given: String, current: String },
    #[error("unknown category {0:?}")]
    UnknownCategory(String),
    #[error("category {0:?} is missing: a custom choice must give every optional category")]
    MissingCategory(String),
    #[error("category \"necessary\" cannot be refused")]
    NecessaryRefused,
    #[error("category {category:?} contradicts the action {action}")]
    ContradictsAction {
        category: String,
        action: ConsentAction,
    },
    #[error("a Global Privacy Control decision takes no categories: the policy decides them")]
    GpcWithCategories,
    #[error(
        "a Global Privacy Control decision needs the browser's signal (Sec-GPC: 1); without it the visitor decides"
    )]
    GpcWithoutSignal,
    #[error(
        "decided_ms_ago {0} is more than an hour: a choice held that long is not a retry; ask the visitor again"
    )]
    DecisionTooOld(u64),
    #[error(
        "an acknowledge decision is offered only where opt-out or notice applies; here the visitor must consent (accept_all, custom) or refuse"
    )]
    AcknowledgeUnderOptIn,
}

impl DecisionError {
    /// The machine-readable error code clients can switch on; it also fixes the status.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::StalePolicyVersion { .. } => ErrorCode::StalePolicyVersion,
            Self::UnknownCategory(_) => ErrorCode::UnknownCategory,
            Self::MissingCategory(_) => ErrorCode::MissingCategory,
            Self::NecessaryRefused => ErrorCode::NecessaryRefused,
            Self::ContradictsAction { .. } => ErrorCode::ContradictsAction,
            Self::GpcWithCategories => ErrorCode::GpcWithCategories,
            Self::GpcWithoutSignal => ErrorCode::GpcWithoutSignal,
            Self::DecisionTooOld(_) => ErrorCode::InvalidDecisionAge,
            Self::AcknowledgeUnderOptIn => ErrorCode::AcknowledgeUnderOptIn,
        }
    }
}

impl fmt::Display for ConsentAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Decision {
    pub fn validate(policy: &Policy, request: ConsentRequest) -> Result<Self, DecisionError> {
        let decided_ms_ago = request.decided_ms_ago.unwrap_or(0);
        if decided_ms_ago > MAX_DECISION_AGE_MS {
            return Err(DecisionError::DecisionTooOld(decided_ms_ago));
        }
        if request.policy_version != policy.version.as_str() {
            return Err(DecisionError::StalePolicyVersion {
                given: request.policy_version,
                current: policy.version.to_string(),
            });
        }
        if request.action == ConsentAction::Gpc {
            if request.categories.is_some() {
                return Err(DecisionError::GpcWithCategories);
            }
            let categories = policy
                .categories
                .iter()
                .filter(|category| category.required() || category.refused_by_gpc)
                .map(|category| (category.id.clone(), category.required()))
                .collect();
            return Ok(Self {
                policy_version: request.policy_version,
                action: request.action,
                categories,
                decided_ms_ago,
            });
        }
        let given = request.categories.unwrap_or_default();
        for (name, &granted) in &given {
            let category = policy
                .category(name)
                .ok_or_else(|| DecisionError::UnknownCategory(name.clone()))?;
            if category.required() && !granted {
                return Err(DecisionError::NecessaryRefused);
            }
        }
        let mut categories = BTreeMap::new();
        for category in &policy.categories {
            let state = if category.required() {
                true
            } else {
                let given_state = given.get(category.id.as_str()).copied();
                match (request.action, given_state) {
                    (ConsentAction::Custom, Some(state)) => state,
                    (ConsentAction::Custom, None) => {
                        return Err(DecisionError::MissingCategory(category.id.to_string()));
                    }
                    (action, given_state) => {
                        // Reject all and withdraw refuse every optional category; accept all
                        // and acknowledge grant them (the regime may then take some back).
                        let implied = matches!(
                            action,
                            ConsentAction::AcceptAll | ConsentAction::Acknowledge
                        );
                        if given_state.is_some_and(|state| state != implied) {
                            return Err(DecisionError::ContradictsAction {
                                category: category.id.to_string(),
                                action,
                            });
                        }
                        implied
                    }
                }
            };
            categories.insert(category.id.clone(), state);
        }
        Ok(Self {
            policy_version: request.policy_version,
            action: request.action,
            categories,
            decided_ms_ago,
        })
    }

    /// The decision as the visitor's regime lets it stand: an acknowledgement exists only
    /// where opt-out or notice applies, and keeps the categories a GPC signal refuses off
    /// (GPC is an opt-out there).
    pub fn in_regime(
        mut self,
        policy: &Policy,
        regime: super::jurisdiction::Regime,
        gpc_signal: bool,
    ) -> Result<Self, DecisionError> {
        if self.action != ConsentAction::Acknowledge {
            return Ok(self);
        }
        if !regime.on_until_refused() {
            return Err(DecisionError::AcknowledgeUnderOptIn);
        }
        if gpc_signal {
            for category in policy.categories.iter().filter(|c| c.refused_by_gpc) {
                self.categories.insert(category.id.clone(), false);
            }
        }
        Ok(self)
    }

    /// Category states keyed by plain name, the shape cookies and JSON carry.
    pub fn category_states(&self) -> BTreeMap<String, bool> {
        self.categories
            .iter()
            .map(|(id, &state)| (id.to_string(), state))
            .collect()
    }

    /// The optional categories this decision refuses: their identifiers must go.
    pub fn refused(&self) -> impl Iterator<Item = &str> {
        self.categories
            .iter()
            .filter(|&(_, &granted)| !granted)
            .map(|(id, _)| id.as_str())
    }
}

/// The visitor's standing decision, as read back from a trusted consent cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CurrentConsent {
    pub policy_version: String,
    /// The categories decided; a category missing here is unset (never decided).
    pub categories: BTreeMap<String, bool>,
    /// The decision's id: its receipt is `GET /api/v1/consent/{event_id}/receipt`.
    #[cfg_attr(feature = "ssr", schema(format = Uuid))]
    pub event_id: String,
    /// Unix seconds.
    pub decided_at: i64,
    pub action: ConsentAction,
}

impl CurrentConsent {
    /// `Some(true)` granted, `Some(false)` refused, `None` never decided.
    pub fn state(&self, category: &str) -> Option<bool> {
        self.categories.get(category).copied()
    }
}

/// A browser storage key the page must remove because its category was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StorageKey {
    pub kind: IdentifierKind,
    /// Exact key, or a prefix ending in `*`.
    pub name: String,
}

/// The answer to a recorded decision: the new standing decision and what the page must clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecordedChoice {
    pub consent: CurrentConsent,
    pub clear_storage: Vec<StorageKey>,
}

// The unit tests are beside this file, in tests.rs.
#[cfg(test)]
mod tests;
