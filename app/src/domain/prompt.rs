//! When the banner must ask again (notice §11 and the expiry of choices). Pure: the caller
//! supplies the published versions, the standing decision and the clock.

use super::decision::{ConsentAction, CurrentConsent};
use super::jurisdiction::{AppliedJurisdiction, Regime};
use super::policy::{Policy, PolicyView};
use serde::{Deserialize, Serialize};

/// One published policy version, as far as re-prompting cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedVersion {
    pub version: String,
    /// Unix seconds.
    pub published_at: i64,
    /// A material change asks every visitor who decided on an earlier version again.
    pub material: bool,
    /// The jurisdictions (by name, `default` included) whose regime or countries this version
    /// changed from the one before: material for the visitors there only.
    #[serde(default)]
    pub changed_jurisdictions: Vec<String>,
}

impl PublishedVersion {
    /// The jurisdictions whose regime or countries differ between `earlier` and `later`.
    pub fn changed_jurisdictions(earlier: &Policy, later: &Policy) -> Vec<String> {
        let mut names: Vec<String> = std::iter::once(super::jurisdiction::DEFAULT_JURISDICTION)
            .chain(earlier.jurisdictions.iter().map(|j| j.name.as_str()))
            .chain(later.jurisdictions.iter().map(|j| j.name.as_str()))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names.retain(|name| earlier.regime_of(name) != later.regime_of(name));
        names
    }

    fn material_for(&self, jurisdiction: &str) -> bool {
        self.material
            || self
                .changed_jurisdictions
                .iter()
                .any(|name| name == jurisdiction)
    }
}

/// Why the banner asks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PromptReason {
    /// The visitor has not decided yet.
    NoChoice,
    /// A material version was published after the one the visitor decided on.
    NoticeChanged,
    /// The decision is older than its validity period.
    Expired,
    /// The visitor never decided on these categories (added later, or left unset by GPC).
    Undecided { categories: Vec<String> },
}

/// What a page needs to know to decide whether to show the banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentStatus {
    pub policy: PolicyView,
    pub current: Option<CurrentConsent>,
    /// Why the banner must ask, or `None` when the standing decision holds.
    pub prompt: Option<PromptReason>,
    /// The browser sent `Sec-GPC: 1`; honoured before it is recorded.
    #[serde(default)]
    pub gpc_signal: bool,
    /// Where the visitor is and the regime that applies there.
    pub jurisdiction: AppliedJurisdiction,
    /// Each category's state now in that regime ([`regime_grants`]): what the preference
    /// center ticks for a category the visitor never decided on.
    #[serde(default)]
    pub granted: std::collections::BTreeMap<String, bool>,
}

impl ConsentStatus {
    pub fn needs_prompt(&self) -> bool {
        self.prompt.is_some()
    }

    /// Whether GPC decides for now: the standing decision came from the browser's signal, not
    /// from the visitor, or there is no decision yet and the browser sends it.
    pub fn gpc_applied(&self) -> bool {
        match &self.current {
            Some(current) => current.action == ConsentAction::Gpc,
            None => self.gpc_signal,
        }
    }
}

/// How long a decision holds, in seconds. A refusal (no optional category granted) may hold
/// for a shorter time than a consent, so the visitor is asked again sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryRules {
    pub consent_secs: i64,
    pub refusal_secs: i64,
}

impl ExpiryRules {
    pub const DAY_SECS: i64 = 24 * 60 * 60;

    /// Twelve months for consents, six for refusals.
    pub fn from_days(consent_days: u32, refusal_days: u32) -> Self {
        Self {
            consent_secs: i64::from(consent_days) * Self::DAY_SECS,
            refusal_secs: i64::from(refusal_days) * Self::DAY_SECS,
        }
    }

    /// Seconds a decision with these category states stays valid.
    pub fn validity_secs(&self, policy: &Policy, current: &CurrentConsent) -> i64 {
        if is_refusal(policy, current) {
            self.refusal_secs
        } else {
            self.consent_secs
        }
    }

    /// Unix time at which the decision stops holding.
    pub fn valid_until(&self, policy: &Policy, current: &CurrentConsent) -> i64 {
        current
            .decided_at
            .saturating_add(self.validity_secs(policy, current))
    }
}

/// No optional category granted: a refusal, whatever the action that made it.
pub fn is_refusal(policy: &Policy, current: &CurrentConsent) -> bool {
    !policy
        .categories
        .iter()
        .filter(|category| !category.required())
        .any(|category| current.state(category.id.as_str()) == Some(true))
}

/// Whether, and why, the visitor must be asked. `history` lists the published versions oldest
/// first; its last entry is `policy`. `jurisdiction` is the visitor's (by name): a version that
/// changed its regime is material there.
pub fn prompt_reason(
    policy: &Policy,
    history: &[PublishedVersion],
    current: Option<&CurrentConsent>,
    expiry: &ExpiryRules,
    now: i64,
    jurisdiction: &str,
) -> Option<PromptReason> {
    let Some(current) = current else {
        return Some(PromptReason::NoChoice);
    };
    // A version we never published (or no longer know) cannot be trusted as what was shown.
    let Some(decided_on) = history
        .iter()
        .position(|published| published.version == current.policy_version)
    else {
        return Some(PromptReason::NoticeChanged);
    };
    if history[decided_on + 1..]
        .iter()
        .any(|published| published.material_for(jurisdiction))
    {
        return Some(PromptReason::NoticeChanged);
    }
    if now >= expiry.valid_until(policy, current) {
        return Some(PromptReason::Expired);
    }
    let undecided: Vec<String> = policy
        .categories
        .iter()
        .filter(|category| !category.required() && current.state(category.id.as_str()).is_none())
        .map(|category| category.id.to_string())
        .collect();
    if undecided.is_empty() {
        None
    } else {
        Some(PromptReason::Undecided {
            categories: undecided,
        })
    }
}

/// Whether a standing decision grants `category` now: it must be granted, and the decision
/// must still hold for the current policy (not expired, not made before a material change).
pub fn consent_grants(
    category: &str,
    current: Option<&CurrentConsent>,
    prompt: Option<&PromptReason>,
) -> bool {
    let holds = !matches!(
        prompt,
        Some(PromptReason::NoChoice | PromptReason::NoticeChanged | PromptReason::Expired)
    );
    holds && current.is_some_and(|consent| consent.state(category) == Some(true))
}

/// Whether `category` is granted now in the visitor's regime. Under `opt_in` only a standing
/// consent grants ([`consent_grants`]). Under `opt_out` and `notice` a category is on until
/// refused: a refusal the visitor made holds even when the decision is old or was made under
/// another regime (moving never silently widens it), and a Global Privacy Control signal
/// refuses the categories the policy marks `refused_by_gpc` (an opt-out).
pub fn regime_grants(
    policy: &Policy,
    regime: Regime,
    category: &str,
    current: Option<&CurrentConsent>,
    prompt: Option<&PromptReason>,
    gpc_signal: bool,
) -> bool {
    if !regime.on_until_refused() {
        return consent_grants(category, current, prompt);
    }
    let Some(known) = policy.category(category) else {
        return false;
    };
    match current.and_then(|consent| consent.state(category)) {
        Some(state) => state,
        None => !(gpc_signal && known.refused_by_gpc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ConsentAction;
    use crate::domain::policy::tests::sample_policy;
    use std::collections::BTreeMap;

    const DAY: i64 = ExpiryRules::DAY_SECS;
    const RULES: ExpiryRules = ExpiryRules {
        consent_secs: 365 * DAY,
        refusal_secs: 182 * DAY,
    };

    fn published(version: &str, published_at: i64, material: bool) -> PublishedVersion {
        PublishedVersion {
            version: version.into(),
            published_at,
            material,
            changed_jurisdictions: Vec::new(),
        }
    }

    fn decided(version: &str, at: i64, states: &[(&str, bool)]) -> CurrentConsent {
        CurrentConsent {
            policy_version: version.into(),
            categories: states.iter().map(|&(k, v)| (k.to_owned(), v)).collect(),
            event_id: "e".into(),
            decided_at: at,
            action: ConsentAction::Custom,
        }
    }

    const ALL_ON: &[(&str, bool)] = &[
        ("necessary", true),
        ("preferences", true),
        ("analytics", true),
    ];
    const ALL_OFF: &[(&str, bool)] = &[
        ("necessary", true),
        ("preferences", false),
        ("analytics", false),
    ];

    /// The sample policy is "2026-03-25"; history: v1 (material), then the sample.
    fn history(sample_material: bool) -> Vec<PublishedVersion> {
        vec![
            published("v1", 0, true),
            published("2026-03-25", 10 * DAY, sample_material),
        ]
    }

    #[test]
    fn no_choice_asks() {
        let reason = prompt_reason(&sample_policy(), &history(true), None, &RULES, 0, "default");
        assert_eq!(reason, Some(PromptReason::NoChoice));
    }

    #[test]
    fn a_fresh_choice_on_the_current_version_holds() {
        let current = decided("2026-03-25", 20 * DAY, ALL_ON);
        let reason = prompt_reason(
            &sample_policy(),
            &history(true),
            Some(&current),
            &RULES,
            21 * DAY,
            "default",
        );
        assert_eq!(reason, None);
    }

    #[test]
    fn a_material_version_after_the_choice_asks_again() {
        let current = decided("v1", DAY, ALL_ON);
        let reason = prompt_reason(
            &sample_policy(),
            &history(true),
            Some(&current),
            &RULES,
            11 * DAY,
            "default",
        );
        assert_eq!(reason, Some(PromptReason::NoticeChanged));
    }

    #[test]
    fn a_non_material_version_after_the_choice_does_not_ask() {
        let current = decided("v1", DAY, ALL_ON);
        let reason = prompt_reason(
            &sample_policy(),
            &history(false),
            Some(&current),
            &RULES,
            11 * DAY,
            "default",
        );
        assert_eq!(reason, None);
    }

    #[test]
    fn an_unpublished_version_asks_again() {
        let current = decided("never-published", DAY, ALL_ON);
        let reason = prompt_reason(
            &sample_policy(),
            &history(false),
            Some(&current),
            &RULES,
            2 * DAY,
            "default",
        );
        assert_eq!(reason, Some(PromptReason::NoticeChanged));
    }

    #[test]
    fn consents_expire_after_twelve_months_refusals_after_six() {
        let policy = sample_policy();
        let consent = decided("2026-03-25", 0, ALL_ON);
        let refusal = decided("2026-03-25", 0, ALL_OFF);
        let ask = |current: &CurrentConsent, now| {
            prompt_reason(
                &policy,
                &history(true),
                Some(current),
                &RULES,
                now,
                "default",
            )
        };
        assert_eq!(ask(&consent, 364 * DAY), None);
        assert_eq!(ask(&consent, 365 * DAY), Some(PromptReason::Expired));
        assert_eq!(ask(&refusal, 181 * DAY), None);
        assert_eq!(ask(&refusal, 182 * DAY), Some(PromptReason::Expired));
        // Granting any optional category makes it a consent, with the longer period.
        let partial = decided(
            "2026-03-25",
            0,
            &[("preferences", true), ("analytics", false)],
        );
        assert_eq!(ask(&partial, 200 * DAY), None);
    }

    #[test]
    fn a_category_added_later_is_unset_and_asked_for() {
        let mut policy = sample_policy();
        let mut marketing = policy.categories[2].clone();
        marketing.id = crate::domain::CategoryId::parse("marketing").unwrap();
        marketing.identifiers.clear();
        policy.categories.push(marketing);
        let current = decided("2026-03-25", 0, ALL_ON);
        assert_eq!(
            current.state("marketing"),
            None,
            "neither refused nor accepted"
        );
        let reason = prompt_reason(
            &policy,
            &history(false),
            Some(&current),
            &RULES,
            DAY,
            "default",
        );
        assert_eq!(
            reason,
            Some(PromptReason::Undecided {
                categories: vec!["marketing".into()]
            })
        );
    }

    #[test]
    fn gpc_refuses_analytics_and_still_asks_about_the_rest() {
        let policy = sample_policy();
        let gpc = CurrentConsent {
            action: ConsentAction::Gpc,
            ..decided(
                "2026-03-25",
                0,
                &[("necessary", true), ("analytics", false)],
            )
        };
        assert_eq!(gpc.state("analytics"), Some(false));
        assert!(is_refusal(&policy, &gpc));
        let reason = prompt_reason(&policy, &history(true), Some(&gpc), &RULES, DAY, "default");
        assert_eq!(
            reason,
            Some(PromptReason::Undecided {
                categories: vec!["preferences".into()]
            })
        );
    }

    #[test]
    fn reasons_serialise_with_a_tag() {
        let json = serde_json::to_string(&PromptReason::Undecided {
            categories: vec!["x".into()],
        })
        .unwrap();
        assert_eq!(json, r#"{"reason":"undecided","categories":["x"]}"#);
    }

    fn consent(analytics: Option<bool>) -> CurrentConsent {
        let mut categories = BTreeMap::from([("necessary".to_owned(), true)]);
        if let Some(granted) = analytics {
            categories.insert("analytics".to_owned(), granted);
        }
        CurrentConsent {
            policy_version: "2026-01".to_owned(),
            categories,
            event_id: "e".to_owned(),
            decided_at: 0,
            action: ConsentAction::Custom,
        }
    }

    #[test]
    fn only_a_standing_grant_counts() {
        let granted = consent(Some(true));
        assert!(consent_grants("analytics", Some(&granted), None));
        let undecided_other = PromptReason::Undecided {
            categories: vec!["marketing".to_owned()],
        };
        assert!(consent_grants(
            "analytics",
            Some(&granted),
            Some(&undecided_other)
        ));
        assert!(!consent_grants(
            "analytics",
            Some(&granted),
            Some(&PromptReason::Expired)
        ));
        assert!(!consent_grants(
            "analytics",
            Some(&granted),
            Some(&PromptReason::NoticeChanged)
        ));
        assert!(!consent_grants(
            "analytics",
            Some(&consent(Some(false))),
            None
        ));
        assert!(!consent_grants("analytics", Some(&consent(None)), None));
        assert!(!consent_grants(
            "analytics",
            None,
            Some(&PromptReason::NoChoice)
        ));
    }

    #[test]
    fn a_regime_change_asks_again_only_where_it_changed() {
        let current = decided("v1", DAY, ALL_ON);
        let mut later = published("2026-03-25", 10 * DAY, false);
        later.changed_jurisdictions = vec!["united_states".to_owned()];
        let history = [published("v1", 0, true), later];
        let reason = |jurisdiction| {
            prompt_reason(
                &sample_policy(),
                &history,
                Some(&current),
                &RULES,
                11 * DAY,
                jurisdiction,
            )
        };
        assert_eq!(reason("united_states"), Some(PromptReason::NoticeChanged));
        assert_eq!(reason("korea"), None);
        assert_eq!(reason("default"), None);
    }

    #[test]
    fn changed_jurisdictions_are_the_ones_whose_regime_or_countries_differ() {
        use crate::domain::jurisdiction::{Jurisdiction, Region};
        let with = |list: &[(&str, &str, Regime)]| {
            let mut policy = sample_policy();
            policy.jurisdictions = list
                .iter()
                .map(|&(name, country, regime)| Jurisdiction {
                    name: name.into(),
                    countries: vec![Region::parse(country).unwrap()],
                    regime,
                    show_collection_details: false,
                })
                .collect();
            policy
        };
        let before = with(&[("us", "US", Regime::OptOut), ("kr", "KR", Regime::OptIn)]);
        assert!(PublishedVersion::changed_jurisdictions(&before, &before).is_empty());
        let stricter = with(&[("us", "US", Regime::OptIn), ("kr", "KR", Regime::OptIn)]);
        assert_eq!(
            PublishedVersion::changed_jurisdictions(&before, &stricter),
            vec!["us".to_owned()]
        );
        let mut open_default = before.clone();
        open_default.default_regime = Some(Regime::Notice);
        assert_eq!(
            PublishedVersion::changed_jurisdictions(&before, &open_default),
            vec!["default".to_owned()]
        );
        let moved = with(&[("us", "US-CA", Regime::OptOut), ("kr", "KR", Regime::OptIn)]);
        assert_eq!(
            PublishedVersion::changed_jurisdictions(&before, &moved),
            vec!["us".to_owned()]
        );
    }

    #[test]
    fn opt_out_and_notice_grant_until_refused_and_gpc_opts_out() {
        let policy = sample_policy();
        let refused = decided("v1", 0, ALL_OFF);
        let stale = Some(&PromptReason::Expired);
        for regime in [Regime::OptOut, Regime::Notice] {
            let grants = |current, prompt, gpc| {
                regime_grants(&policy, regime, "analytics", current, prompt, gpc)
            };
            assert!(grants(None, Some(&PromptReason::NoChoice), false));
            assert!(
                !grants(None, Some(&PromptReason::NoChoice), true),
                "GPC opts out"
            );
            // Preferences is not refused by GPC in the sample policy.
            assert!(regime_grants(
                &policy,
                regime,
                "preferences",
                None,
                None,
                true
            ));
            // A refusal holds even when old: moving here never widens it.
            assert!(!grants(Some(&refused), stale, false));
            assert!(!regime_grants(
                &policy, regime, "unknown", None, None, false
            ));
        }
        assert!(!regime_grants(
            &policy,
            Regime::OptIn,
            "analytics",
            None,
            Some(&PromptReason::NoChoice),
            false
        ));
    }
}
