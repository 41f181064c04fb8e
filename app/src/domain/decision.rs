use super::category::CategoryId;
use super::policy::{Policy, PolicyView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    AcceptAll,
    RejectAll,
    Custom,
}

impl ConsentAction {
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::AcceptAll, Self::RejectAll, Self::Custom]
            .into_iter()
            .find(|action| action.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcceptAll => "accept_all",
            Self::RejectAll => "reject_all",
            Self::Custom => "custom",
        }
    }
}

/// Where a decision was made; part of the proof of consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// The hydrated banner on one of our pages.
    Banner,
    /// A plain HTML form POST from a browser without JavaScript.
    NoJsForm,
    /// `POST /api/v1/consent` from another client.
    Api,
}

impl ConsentSource {
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Banner, Self::NoJsForm, Self::Api]
            .into_iter()
            .find(|source| source.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Banner => "banner",
            Self::NoJsForm => "no_js_form",
            Self::Api => "api",
        }
    }
}

/// A decision as a client submits it, before it is checked against the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The policy version the visitor was shown.
    pub policy_version: String,
    pub action: ConsentAction,
    /// Each category's state. Required for `custom`; optional but checked for the others.
    #[serde(default)]
    pub categories: Option<BTreeMap<String, bool>>,
}

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
        }
    }
}

/// A decision checked against the current policy: every category of the policy has a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub policy_version: String,
    pub action: ConsentAction,
    pub categories: BTreeMap<CategoryId, bool>,
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
}

impl DecisionError {
    /// The machine-readable error code clients can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::StalePolicyVersion { .. } => "stale_policy_version",
            Self::UnknownCategory(_) => "unknown_category",
            Self::MissingCategory(_) => "missing_category",
            Self::NecessaryRefused => "necessary_refused",
            Self::ContradictsAction { .. } => "contradicts_action",
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
        if request.policy_version != policy.version.as_str() {
            return Err(DecisionError::StalePolicyVersion {
                given: request.policy_version,
                current: policy.version.to_string(),
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
                        let implied = action == ConsentAction::AcceptAll;
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
        })
    }

    /// Category states keyed by plain name, the shape cookies and JSON carry.
    pub fn category_states(&self) -> BTreeMap<String, bool> {
        self.categories
            .iter()
            .map(|(id, &state)| (id.to_string(), state))
            .collect()
    }
}

/// The visitor's standing decision, as read back from a trusted consent cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentConsent {
    pub policy_version: String,
    pub categories: BTreeMap<String, bool>,
    pub event_id: String,
    /// Unix seconds.
    pub decided_at: i64,
}

/// What a page needs to know to decide whether to show the banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentStatus {
    pub policy: PolicyView,
    pub current: Option<CurrentConsent>,
}

impl ConsentStatus {
    /// The banner is shown until the visitor has decided on the current policy version.
    pub fn needs_prompt(&self) -> bool {
        self.current
            .as_ref()
            .is_none_or(|current| current.policy_version != self.policy.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::tests::sample_policy;

    fn request(action: ConsentAction, categories: Option<&[(&str, bool)]>) -> ConsentRequest {
        ConsentRequest {
            policy_version: "2026-03-25".into(),
            action,
            categories: categories
                .map(|list| list.iter().map(|&(k, v)| (k.to_owned(), v)).collect()),
        }
    }

    fn states(decision: &Decision) -> Vec<(&str, bool)> {
        decision
            .categories
            .iter()
            .map(|(k, &v)| (k.as_str(), v))
            .collect()
    }

    #[test]
    fn accept_all_grants_everything() {
        let decision =
            Decision::validate(&sample_policy(), request(ConsentAction::AcceptAll, None)).unwrap();
        assert_eq!(
            states(&decision),
            [
                ("analytics", true),
                ("necessary", true),
                ("preferences", true)
            ]
        );
    }

    #[test]
    fn reject_all_keeps_only_necessary() {
        let decision =
            Decision::validate(&sample_policy(), request(ConsentAction::RejectAll, None)).unwrap();
        assert_eq!(
            states(&decision),
            [
                ("analytics", false),
                ("necessary", true),
                ("preferences", false)
            ]
        );
    }

    #[test]
    fn custom_takes_exactly_the_given_states() {
        let decision = Decision::validate(
            &sample_policy(),
            request(
                ConsentAction::Custom,
                Some(&[("preferences", false), ("analytics", true)]),
            ),
        )
        .unwrap();
        assert_eq!(
            states(&decision),
            [
                ("analytics", true),
                ("necessary", true),
                ("preferences", false)
            ]
        );
    }

    #[test]
    fn custom_may_confirm_necessary() {
        let given = [
            ("necessary", true),
            ("preferences", true),
            ("analytics", false),
        ];
        assert!(
            Decision::validate(
                &sample_policy(),
                request(ConsentAction::Custom, Some(&given))
            )
            .is_ok()
        );
    }

    #[test]
    fn custom_without_every_optional_category_is_refused() {
        let err = Decision::validate(
            &sample_policy(),
            request(ConsentAction::Custom, Some(&[("analytics", true)])),
        )
        .unwrap_err();
        assert_eq!(err, DecisionError::MissingCategory("preferences".into()));
        assert_eq!(err.code(), "missing_category");
        let err =
            Decision::validate(&sample_policy(), request(ConsentAction::Custom, None)).unwrap_err();
        assert_eq!(err.code(), "missing_category");
    }

    #[test]
    fn unknown_category_is_refused() {
        let err = Decision::validate(
            &sample_policy(),
            request(
                ConsentAction::Custom,
                Some(&[("preferences", true), ("analytics", true), ("ads", true)]),
            ),
        )
        .unwrap_err();
        assert_eq!(err, DecisionError::UnknownCategory("ads".into()));
    }

    #[test]
    fn necessary_cannot_be_refused() {
        let err = Decision::validate(
            &sample_policy(),
            request(ConsentAction::RejectAll, Some(&[("necessary", false)])),
        )
        .unwrap_err();
        assert_eq!(err.code(), "necessary_refused");
    }

    #[test]
    fn categories_contradicting_the_action_are_refused() {
        let err = Decision::validate(
            &sample_policy(),
            request(ConsentAction::RejectAll, Some(&[("analytics", true)])),
        )
        .unwrap_err();
        assert_eq!(err.code(), "contradicts_action");
        let ok = Decision::validate(
            &sample_policy(),
            request(ConsentAction::AcceptAll, Some(&[("analytics", true)])),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn stale_version_is_refused() {
        let mut old = request(ConsentAction::AcceptAll, None);
        old.policy_version = "2025-01-01".into();
        let err = Decision::validate(&sample_policy(), old).unwrap_err();
        assert_eq!(err.code(), "stale_policy_version");
    }

    #[test]
    fn form_refuses_unticked_optional_categories() {
        let policy = sample_policy();
        let ticked = BTreeSet::from(["analytics".to_owned()]);
        let request =
            ConsentRequest::from_form(&policy, "2026-03-25".into(), ConsentAction::Custom, ticked);
        let decision = Decision::validate(&policy, request).unwrap();
        assert_eq!(
            states(&decision),
            [
                ("analytics", true),
                ("necessary", true),
                ("preferences", false)
            ]
        );

        let nothing = ConsentRequest::from_form(
            &policy,
            "2026-03-25".into(),
            ConsentAction::Custom,
            BTreeSet::new(),
        );
        let decision = Decision::validate(&policy, nothing).unwrap();
        assert_eq!(
            states(&decision),
            [
                ("analytics", false),
                ("necessary", true),
                ("preferences", false)
            ]
        );
    }

    #[test]
    fn form_keeps_unknown_ticks_for_validation() {
        let policy = sample_policy();
        let ticked = BTreeSet::from(["ads".to_owned()]);
        let request =
            ConsentRequest::from_form(&policy, "2026-03-25".into(), ConsentAction::Custom, ticked);
        assert_eq!(
            Decision::validate(&policy, request).unwrap_err().code(),
            "unknown_category"
        );
        let accept = ConsentRequest::from_form(
            &policy,
            "2026-03-25".into(),
            ConsentAction::AcceptAll,
            BTreeSet::new(),
        );
        assert_eq!(accept.categories, None);
    }

    #[test]
    fn names_round_trip() {
        for action in [
            ConsentAction::AcceptAll,
            ConsentAction::RejectAll,
            ConsentAction::Custom,
        ] {
            assert_eq!(ConsentAction::parse(action.as_str()), Some(action));
            assert_eq!(
                serde_json::to_string(&action).unwrap(),
                format!("\"{}\"", action.as_str())
            );
        }
        for source in [
            ConsentSource::Banner,
            ConsentSource::NoJsForm,
            ConsentSource::Api,
        ] {
            assert_eq!(ConsentSource::parse(source.as_str()), Some(source));
            assert_eq!(
                serde_json::to_string(&source).unwrap(),
                format!("\"{}\"", source.as_str())
            );
        }
        assert_eq!(ConsentAction::parse("maybe"), None);
        assert_eq!(ConsentSource::parse("fax"), None);
    }

    #[test]
    fn request_rejects_unknown_fields() {
        let json = r#"{"policy_version":"v","action":"custom","categories":{},"extra":1}"#;
        assert!(serde_json::from_str::<ConsentRequest>(json).is_err());
        let json = r#"{"policy_version":"v","action":"maybe"}"#;
        assert!(serde_json::from_str::<ConsentRequest>(json).is_err());
    }

    #[test]
    fn prompt_until_decided_on_current_version() {
        let policy = sample_policy().view("en");
        let mut status = ConsentStatus {
            policy,
            current: None,
        };
        assert!(status.needs_prompt());
        status.current = Some(CurrentConsent {
            policy_version: "2025-01-01".into(),
            categories: BTreeMap::new(),
            event_id: "e".into(),
            decided_at: 0,
        });
        assert!(status.needs_prompt());
        status.current.as_mut().unwrap().policy_version = "2026-03-25".into();
        assert!(!status.needs_prompt());
    }
}
