use super::*;
use crate::domain::policy::tests::sample_policy;

/// The category states of the sample policy, sorted by category.
const ALL_GRANTED: [(&str, bool); 3] = [
    ("analytics", true),
    ("necessary", true),
    ("preferences", true),
];
const ONLY_NECESSARY: [(&str, bool); 3] = [
    ("analytics", false),
    ("necessary", true),
    ("preferences", false),
];
const ANALYTICS_ONLY: [(&str, bool); 3] = [
    ("analytics", true),
    ("necessary", true),
    ("preferences", false),
];

fn request(action: ConsentAction, categories: Option<&[(&str, bool)]>) -> ConsentRequest {
    ConsentRequest {
        policy_version: "2026-03-25".into(),
        action,
        categories: categories.map(|list| list.iter().map(|&(k, v)| (k.to_owned(), v)).collect()),
        language: None,
        decided_ms_ago: None,
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
    assert_eq!(states(&decision), ALL_GRANTED);
}

#[test]
fn reject_all_keeps_only_necessary() {
    let decision =
        Decision::validate(&sample_policy(), request(ConsentAction::RejectAll, None)).unwrap();
    assert_eq!(states(&decision), ONLY_NECESSARY);
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
    assert_eq!(states(&decision), ANALYTICS_ONLY);
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
    assert_eq!(err.code().as_str(), "missing_category");
    let err =
        Decision::validate(&sample_policy(), request(ConsentAction::Custom, None)).unwrap_err();
    assert_eq!(err.code().as_str(), "missing_category");
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
    assert_eq!(err.code().as_str(), "necessary_refused");
}

#[test]
fn categories_contradicting_the_action_are_refused() {
    let err = Decision::validate(
        &sample_policy(),
        request(ConsentAction::RejectAll, Some(&[("analytics", true)])),
    )
    .unwrap_err();
    assert_eq!(err.code().as_str(), "contradicts_action");
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
    assert_eq!(err.code().as_str(), "stale_policy_version");
}

#[test]
fn form_refuses_unticked_optional_categories() {
    let policy = sample_policy();
    let ticked = BTreeSet::from(["analytics".to_owned()]);
    let request =
        ConsentRequest::from_form(&policy, "2026-03-25".into(), ConsentAction::Custom, ticked);
    let decision = Decision::validate(&policy, request).unwrap();
    assert_eq!(states(&decision), ANALYTICS_ONLY);

    let nothing = ConsentRequest::from_form(
        &policy,
        "2026-03-25".into(),
        ConsentAction::Custom,
        BTreeSet::new(),
    );
    let decision = Decision::validate(&policy, nothing).unwrap();
    assert_eq!(states(&decision), ONLY_NECESSARY);
}

#[test]
fn form_keeps_unknown_ticks_for_validation() {
    let policy = sample_policy();
    let ticked = BTreeSet::from(["ads".to_owned()]);
    let request =
        ConsentRequest::from_form(&policy, "2026-03-25".into(), ConsentAction::Custom, ticked);
    assert_eq!(
        Decision::validate(&policy, request)
            .unwrap_err()
            .code()
            .as_str(),
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
    for action in ConsentAction::ALL {
        assert_eq!(ConsentAction::parse(action.as_str()), Some(action));
        assert_eq!(
            serde_json::to_string(&action).unwrap(),
            format!("\"{}\"", action.as_str())
        );
    }
    for source in ConsentSource::ALL {
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
fn withdraw_refuses_every_optional_category() {
    let decision =
        Decision::validate(&sample_policy(), request(ConsentAction::Withdraw, None)).unwrap();
    assert_eq!(states(&decision), ONLY_NECESSARY);
    assert_eq!(
        decision.refused().collect::<Vec<_>>(),
        ["analytics", "preferences"]
    );
}

#[test]
fn gpc_refuses_its_categories_and_leaves_the_rest_unset() {
    let decision = Decision::validate(&sample_policy(), request(ConsentAction::Gpc, None)).unwrap();
    assert_eq!(
        states(&decision),
        [("analytics", false), ("necessary", true)],
        "preferences stays unset: GPC is not a choice about it"
    );
    let err = Decision::validate(
        &sample_policy(),
        request(ConsentAction::Gpc, Some(&[("analytics", true)])),
    )
    .unwrap_err();
    assert_eq!(err.code().as_str(), "gpc_with_categories");
    assert!(!ConsentAction::Gpc.is_explicit());
    assert!(ConsentAction::Withdraw.is_explicit());
}

#[test]
fn a_late_choice_keeps_its_age_up_to_an_hour() {
    let late = |age| ConsentRequest {
        decided_ms_ago: Some(age),
        ..request(ConsentAction::AcceptAll, None)
    };
    let decision = Decision::validate(&sample_policy(), late(MAX_DECISION_AGE_MS)).unwrap();
    assert_eq!(decision.decided_ms_ago, MAX_DECISION_AGE_MS);
    let on_time = Decision::validate(&sample_policy(), request(ConsentAction::AcceptAll, None));
    assert_eq!(on_time.unwrap().decided_ms_ago, 0);
    let err = Decision::validate(&sample_policy(), late(MAX_DECISION_AGE_MS + 1)).unwrap_err();
    assert_eq!(err, DecisionError::DecisionTooOld(MAX_DECISION_AGE_MS + 1));
    assert_eq!(err.code().as_str(), "invalid_decision_age");
}

#[test]
fn a_decision_age_in_json_is_a_whole_number_of_milliseconds() {
    let parsed: ConsentRequest = serde_json::from_str(
        r#"{"policy_version":"2026-03-25","action":"reject_all","decided_ms_ago":2500}"#,
    )
    .unwrap();
    assert_eq!(parsed.decided_ms_ago, Some(2500));
    for bad in ["-1", "1.5", "\"2500\""] {
        let body =
            format!(r#"{{"policy_version":"v","action":"reject_all","decided_ms_ago":{bad}}}"#);
        assert!(
            serde_json::from_str::<ConsentRequest>(&body).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn an_acknowledgement_keeps_the_regime_defaults_and_exists_only_outside_opt_in() {
    use crate::domain::jurisdiction::Regime;
    let policy = sample_policy();
    let acknowledged = || Decision::validate(&policy, request(ConsentAction::Acknowledge, None));
    for regime in [Regime::OptOut, Regime::Notice] {
        let plain = acknowledged().unwrap().in_regime(&policy, regime, false);
        assert_eq!(states(&plain.unwrap()), ALL_GRANTED);
        // GPC opts out of analytics (refused_by_gpc), not of preferences.
        let with_gpc = acknowledged().unwrap().in_regime(&policy, regime, true);
        assert_eq!(
            states(&with_gpc.unwrap()),
            [
                ("analytics", false),
                ("necessary", true),
                ("preferences", true)
            ]
        );
    }
    assert_eq!(
        acknowledged()
            .unwrap()
            .in_regime(&policy, Regime::OptIn, false),
        Err(DecisionError::AcknowledgeUnderOptIn)
    );
    // Other actions pass through whatever the regime.
    let rejected = Decision::validate(&policy, request(ConsentAction::RejectAll, None)).unwrap();
    assert_eq!(
        rejected.clone().in_regime(&policy, Regime::OptIn, true),
        Ok(rejected)
    );
    // An acknowledgement cannot carry a refusal: that is a custom choice.
    assert!(matches!(
        Decision::validate(
            &policy,
            request(ConsentAction::Acknowledge, Some(&[("analytics", false)]))
        ),
        Err(DecisionError::ContradictsAction { .. })
    ));
}
