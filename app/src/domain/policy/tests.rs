use super::super::jurisdiction::{Jurisdiction, Regime};
use super::*;
use crate::domain::identifier::Transmission;

/// A small valid policy for tests of the pure rules.
pub(crate) fn sample_policy() -> Policy {
    let text = |t: &str| {
        BTreeMap::from([(
            "en".to_owned(),
            CategoryText {
                title: t.to_owned(),
                description: format!("{t} purpose"),
                items: None,
                retention: None,
                refusal: None,
            },
        )])
    };
    Policy {
        version: PolicyVersion::parse("2026-03-25").unwrap(),
        notice_url: "/notice".to_owned(),
        default_language: "en".to_owned(),
        banner: BTreeMap::from([(
            "en".to_owned(),
            BannerText {
                title: "Cookies".into(),
                body: "We ask.".into(),
                notice_link: "Notice".into(),
                accept_all: "Accept all".into(),
                reject_all: "Reject all".into(),
                customize: "Customize".into(),
                save: "Save".into(),
                always_on: "Always on".into(),
                notice_changed: "Our notice changed.".into(),
                gpc_honoured: "Your browser's privacy signal was honoured.".into(),
                identifiers: "Cookies and identifiers".into(),
                opt_out_body: Some("Optional cookies are on.".into()),
                opt_out: Some("Opt out".into()),
                notice_body: Some("We use cookies.".into()),
                acknowledge: Some("OK".into()),
            },
        )]),
        categories: ["necessary", "preferences", "analytics"]
            .into_iter()
            .map(|id| Category {
                id: CategoryId::parse(id).unwrap(),
                text: text(id),
                refused_by_gpc: id == "analytics",
                identifiers: vec![Identifier {
                    name: format!("{id}_cookie*"),
                    kind: IdentifierKind::Cookie,
                    provider: "ZecCloud".into(),
                    duration: super::super::identifier::Lifetime::Days(30),
                    domain: PARENT_DOMAIN.into(),
                    path: "/".into(),
                    third_party_access: false,
                    purpose: BTreeMap::from([("en".into(), format!("{id} identifier"))]),
                    transmissions: Vec::new(),
                }],
            })
            .collect(),
        jurisdictions: Vec::new(),
        default_regime: None,
    }
}

#[test]
fn version_parse() {
    assert!(PolicyVersion::parse("2026-03-25").is_ok());
    assert!(PolicyVersion::parse("v1.2_rc-1").is_ok());
    for bad in ["", "a b", "v1;", "é", &"x".repeat(65)] {
        assert!(PolicyVersion::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn sample_is_valid() {
    sample_policy().check().unwrap();
}

#[test]
fn necessary_is_the_only_required_category() {
    let policy = sample_policy();
    let required: Vec<_> = policy
        .categories
        .iter()
        .filter(|c| c.required())
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(required, ["necessary"]);
}

#[test]
fn check_rejects_broken_policies() {
    let mut duplicate = sample_policy();
    duplicate.categories.push(duplicate.categories[1].clone());
    assert!(matches!(
        duplicate.check(),
        Err(PolicyError::DuplicateCategory(_))
    ));

    let mut no_necessary = sample_policy();
    no_necessary.categories.remove(0);
    assert_eq!(no_necessary.check(), Err(PolicyError::MissingNecessary));

    let mut only_necessary = sample_policy();
    only_necessary.categories.truncate(1);
    assert_eq!(only_necessary.check(), Err(PolicyError::NoOptionalCategory));

    let mut no_default_text = sample_policy();
    no_default_text.default_language = "ja".into();
    assert!(matches!(
        no_default_text.check(),
        Err(PolicyError::MissingDefaultText(..))
    ));
}

#[test]
fn view_falls_back_to_default_language() {
    let view = sample_policy().view("ko", Some("zeccloud.com"));
    assert_eq!(view.language, "en");
    assert_eq!(view.banner.accept_all, "Accept all");
    assert_eq!(view.categories.len(), 3);
    assert!(view.categories[0].required);
    assert!(!view.categories[2].required);
    let identifier = &view.categories[2].identifiers[0];
    assert_eq!(identifier.domain, ".zeccloud.com");
    assert_eq!(identifier.duration, "30 days");
    assert_eq!(identifier.purpose, "analytics identifier");
}

#[test]
fn check_rejects_broken_registries() {
    let mut twice = sample_policy();
    let copy = twice.categories[1].identifiers[0].clone();
    twice.categories[2].identifiers.push(copy);
    assert!(matches!(
        twice.check(),
        Err(PolicyError::DuplicateIdentifier(_))
    ));

    let mut bad_name = sample_policy();
    bad_name.categories[1].identifiers[0].name = "a b".into();
    assert!(matches!(
        bad_name.check(),
        Err(PolicyError::InvalidIdentifier(_))
    ));

    let mut untranslated = sample_policy();
    untranslated.categories[1].identifiers[0].purpose.clear();
    assert!(matches!(
        untranslated.check(),
        Err(PolicyError::MissingDefaultText(..))
    ));

    let mut empty = sample_policy();
    let mut korean = empty.banner["en"].clone();
    korean.accept_all = " ".into();
    empty.banner.insert("ko".into(), korean);
    assert!(matches!(empty.check(), Err(PolicyError::EmptyText(_))));

    let mut gpc_necessary = sample_policy();
    gpc_necessary.categories[0].refused_by_gpc = true;
    assert_eq!(
        gpc_necessary.check(),
        Err(PolicyError::NecessaryRefusedByGpc)
    );
}

fn transmission() -> Transmission {
    let text = |t: &str| BTreeMap::from([("en".to_owned(), t.to_owned())]);
    Transmission {
        items: text("A random visitor id"),
        recipient: text("ZecCloud"),
        destination: "matomo.zeccloud.com".into(),
        purpose: text("Measuring use"),
        refusal: text("Refuse analytics"),
    }
}

#[test]
fn check_rejects_broken_transmissions() {
    let mut valid = sample_policy();
    valid.categories[2].identifiers[0]
        .transmissions
        .push(transmission());
    assert_eq!(valid.check(), Ok(()));

    let broken = |change: fn(&mut Transmission)| {
        let mut policy = valid.clone();
        let identifier = &mut policy.categories[2].identifiers[0];
        // The second transmission is the broken one: the error names it.
        let mut second = transmission();
        change(&mut second);
        identifier.transmissions.push(second);
        policy.check()
    };
    let invalid = |problem| {
        Err(PolicyError::InvalidTransmission {
            identifier: "analytics_cookie*".into(),
            number: 2,
            problem,
        })
    };
    assert_eq!(
        broken(|t| t.recipient.clear()),
        invalid(TransmissionProblem::MissingDefaultText(
            "recipient",
            "en".into()
        ))
    );
    assert_eq!(
        broken(|t| {
            t.items.remove("en");
            t.items.insert("ja".into(), "訪問者 ID".into());
        }),
        invalid(TransmissionProblem::MissingDefaultText(
            "items",
            "en".into()
        ))
    );
    assert_eq!(
        broken(|t| {
            t.refusal.insert("ja".into(), "  ".into());
        }),
        invalid(TransmissionProblem::EmptyText("refusal", "ja".into()))
    );
    assert_eq!(
        broken(|t| t.destination = "https://matomo.zeccloud.com/matomo.php".into()),
        invalid(TransmissionProblem::InvalidDestination(
            "https://matomo.zeccloud.com/matomo.php".into()
        ))
    );
    let message = broken(|t| t.destination = String::new())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("identifier \"analytics_cookie*\", transmission 2: its destination")
            && message.contains("matomo.zeccloud.com"),
        "{message}"
    );
}

/// Published versions are hashed over their JSON (the server's `policy_hash`), and each
/// decision keeps the hash of the banner's view: a policy without transmissions must
/// serialise byte for byte as it did before they existed, or those hashes stop matching. The
/// expected strings are the fields of `Identifier` and `IdentifierView` before transmissions.
#[test]
fn a_policy_without_transmissions_serialises_as_before() {
    let policy = sample_policy();
    let identifier = &policy.categories[2].identifiers[0];
    assert_eq!(
        serde_json::to_string(identifier).unwrap(),
        r#"{"name":"analytics_cookie*","kind":"cookie","provider":"ZecCloud","duration":"30d","domain":"parent","path":"/","third_party_access":false,"purpose":{"en":"analytics identifier"}}"#
    );
    let view = policy.view("en", None);
    assert_eq!(
        serde_json::to_string(&view.categories[2].identifiers[0]).unwrap(),
        r#"{"name":"analytics_cookie*","kind":"cookie","provider":"ZecCloud","purpose":"analytics identifier","duration":"30 days","domain":"This site only","third_party_access":false}"#
    );
    assert!(
        !serde_json::to_string(&policy)
            .unwrap()
            .contains("transmissions")
    );

    // With one, it is part of the content (and so of the hash), and reads back the same.
    let mut with = policy.clone();
    with.categories[2].identifiers[0]
        .transmissions
        .push(transmission());
    let json = serde_json::to_string(&with).unwrap();
    assert!(json.contains(r#""transmissions":[{"items":{"en":"A random visitor id"}"#));
    assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), with);
    let shown = serde_json::to_value(with.view("en", None)).unwrap();
    assert_eq!(
        shown["categories"][2]["identifiers"][0]["transmissions"][0]["destination"],
        "matomo.zeccloud.com"
    );
}

#[test]
fn transmissions_are_shown_in_the_language_asked_for_falling_back_per_text() {
    let mut policy = sample_policy();
    let mut sent = transmission();
    sent.purpose.insert("ja".into(), "利用状況の測定".into());
    policy.categories[2].identifiers[0].transmissions.push(sent);
    let view = policy.view("ja", None);
    let shown = &view.categories[2].identifiers[0].transmissions[0];
    assert_eq!(shown.purpose, "利用状況の測定");
    assert_eq!(shown.items, "A random visitor id");
    assert_eq!(shown.recipient, "ZecCloud");
    assert_eq!(shown.refusal, "Refuse analytics");
    assert_eq!(shown.destination, "matomo.zeccloud.com");
    assert!(view.categories[1].identifiers[0].transmissions.is_empty());
}

#[test]
fn identifiers_of_lists_the_given_categories() {
    let policy = sample_policy();
    let names: Vec<_> = policy
        .identifiers_of(["analytics", "preferences"])
        .into_iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(names, ["preferences_cookie*", "analytics_cookie*"]);
}

#[cfg(feature = "ssr")]
#[test]
fn embedded_default_policy_parses() {
    let policy = Policy::from_toml(crate::DEFAULT_POLICY_TOML).unwrap();
    let ids: Vec<_> = policy.categories.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["necessary", "preferences", "analytics"]);
    // Every supported language has its own banner, category and identifier texts.
    for language in crate::domain::language::SUPPORTED_LANGUAGES {
        assert!(policy.banner.contains_key(language), "banner.{language}");
        for category in &policy.categories {
            assert!(category.text.contains_key(language), "{language}");
            for identifier in &category.identifiers {
                assert!(identifier.purpose.contains_key(language), "{language}");
                for transmission in &identifier.transmissions {
                    for (field, texts) in transmission.texts() {
                        assert!(
                            texts.contains_key(language),
                            "{} {field}.{language}",
                            identifier.name
                        );
                    }
                }
            }
        }
    }
    // Notice §06 names these; the registry must list each with Matomo's real durations.
    let names: Vec<_> = policy
        .categories
        .iter()
        .flat_map(|c| &c.identifiers)
        .map(|i| (i.name.as_str(), i.duration.to_string()))
        .collect();
    for expected in [
        ("_pk_id.*", "13mo"),
        ("_pk_ses.*", "30min"),
        ("_pk_ref.*", "6mo"),
        ("mtm_consent", "30y"),
        ("mtm_consent_removed", "30y"),
        ("__Host-zc_ssaid", "365d"),
        ("zc_consent", "12mo"),
    ] {
        assert!(
            names.contains(&(expected.0, expected.1.to_owned())),
            "{expected:?} missing from {names:?}"
        );
    }
}

/// Japan's external-transmission rule: the Matomo tracker sends the visitor id and the
/// referrer cookie's contents with every hit, and every ZecCloud site's embed sends the
/// consent service its cookies; the default registry must say so for each.
#[cfg(feature = "ssr")]
#[test]
fn the_default_registry_lists_what_browsers_send() {
    let policy = Policy::from_toml(crate::DEFAULT_POLICY_TOML).unwrap();
    let transmitted: Vec<(&str, &str, &str)> = policy
        .categories
        .iter()
        .flat_map(|category| {
            category.identifiers.iter().flat_map(move |identifier| {
                identifier.transmissions.iter().map(move |transmission| {
                    (
                        category.id.as_str(),
                        identifier.name.as_str(),
                        transmission.destination.as_str(),
                    )
                })
            })
        })
        .collect();
    for expected in [
        ("analytics", "_pk_id.*"),
        ("analytics", "_pk_ref.*"),
        ("necessary", "__Host-zc_ssaid"),
        ("necessary", "zc_consent"),
        ("preferences", "zc_lang"),
    ] {
        assert!(
            transmitted
                .iter()
                .any(|&(category, name, _)| (category, name) == expected),
            "{expected:?} missing from {transmitted:?}"
        );
    }
    // Matomo's recipient is ZecCloud itself (notice §03: self-hosted, on its own servers).
    for identifier in policy.identifiers_of(["analytics"]) {
        for transmission in &identifier.transmissions {
            assert!(transmission.recipient["en"].starts_with("ZecCloud"));
            assert!(transmission.purpose["en"].contains("own servers"));
        }
    }
}

#[cfg(feature = "ssr")]
#[test]
fn toml_errors_are_reported() {
    assert!(matches!(
        Policy::from_toml("version = 3"),
        Err(PolicyError::Syntax(_))
    ));
}

fn jurisdiction(name: &str, countries: &[&str], regime: Regime) -> Jurisdiction {
    Jurisdiction {
        name: name.to_owned(),
        countries: countries
            .iter()
            .map(|c| super::super::jurisdiction::Region::parse(c).unwrap())
            .collect(),
        regime,
        show_collection_details: false,
    }
}

#[test]
fn jurisdictions_are_checked() {
    let mut policy = sample_policy();
    policy.jurisdictions = vec![
        jurisdiction("united_states", &["US"], Regime::OptOut),
        jurisdiction("california", &["US-CA"], Regime::OptOut),
    ];
    assert_eq!(policy.check(), Ok(()));

    let mut twice = policy.clone();
    twice
        .jurisdictions
        .push(jurisdiction("again", &["US"], Regime::OptIn));
    assert_eq!(
        twice.check(),
        Err(PolicyError::RegionInTwoJurisdictions {
            region: "US".into(),
            first: "united_states".into(),
            second: "again".into(),
        })
    );
    let mut duplicate = policy.clone();
    duplicate
        .jurisdictions
        .push(jurisdiction("california", &["CA"], Regime::OptIn));
    assert_eq!(
        duplicate.check(),
        Err(PolicyError::DuplicateJurisdiction("california".into()))
    );
    let mut empty = policy.clone();
    empty
        .jurisdictions
        .push(jurisdiction("nowhere", &[], Regime::OptIn));
    assert_eq!(
        empty.check(),
        Err(PolicyError::EmptyJurisdiction("nowhere".into()))
    );
    let mut reserved = policy;
    reserved
        .jurisdictions
        .push(jurisdiction("default", &["FR"], Regime::OptIn));
    assert_eq!(
        reserved.check(),
        Err(PolicyError::InvalidJurisdictionName("default".into()))
    );
}

#[test]
fn policies_without_jurisdictions_keep_their_json() {
    // The hash of every version published before jurisdictions existed is over this JSON.
    let json = serde_json::to_value(sample_policy()).unwrap();
    assert!(json.get("jurisdictions").is_none());
    assert!(json.get("default_regime").is_none());
    assert_eq!(sample_policy().default_regime(), Regime::OptIn);
}

#[test]
fn a_regime_in_use_needs_its_first_layer_texts_in_the_default_language() {
    let mut policy = sample_policy();
    policy.jurisdictions = vec![jurisdiction("united_states", &["US"], Regime::OptOut)];
    assert_eq!(policy.check(), Ok(()));

    // Another language may leave them out: the default language's are shown instead.
    let mut korean = policy.banner["en"].clone();
    korean.opt_out = None;
    korean.accept_all = "모두 수락".into();
    policy.banner.insert("ko".into(), korean);
    assert_eq!(policy.check(), Ok(()));
    assert_eq!(
        policy.view("ko", None).banner.opt_out.as_deref(),
        Some("Opt out")
    );

    let mut no_opt_out = policy.clone();
    no_opt_out.banner.get_mut("en").unwrap().opt_out = None;
    assert_eq!(
        no_opt_out.check(),
        Err(PolicyError::MissingRegimeText {
            regime: Regime::OptOut,
            field: "opt_out",
            language: "en".into(),
        })
    );
    // Notice texts are needed only where the notice regime is used...
    let mut no_notice = policy.clone();
    no_notice.banner.get_mut("en").unwrap().notice_body = None;
    assert_eq!(no_notice.check(), Ok(()));
    // ...including as the default regime.
    no_notice.default_regime = Some(Regime::Notice);
    assert!(matches!(
        no_notice.check(),
        Err(PolicyError::MissingRegimeText {
            regime: Regime::Notice,
            field: "notice_body",
            ..
        })
    ));
    let mut no_ok = policy.clone();
    no_ok.banner.get_mut("en").unwrap().acknowledge = None;
    assert!(matches!(
        no_ok.check(),
        Err(PolicyError::MissingRegimeText {
            field: "acknowledge",
            ..
        })
    ));
    // An opt-in-only policy needs none of them.
    let mut opt_in_only = no_ok;
    opt_in_only.jurisdictions.clear();
    assert_eq!(opt_in_only.check(), Ok(()));

    let mut empty = policy;
    empty.banner.get_mut("ko").unwrap().notice_body = Some(" ".into());
    assert_eq!(
        empty.check(),
        Err(PolicyError::EmptyText("banner.ko".into()))
    );
}

#[test]
fn a_jurisdiction_showing_collection_details_needs_them_for_every_optional_category() {
    let mut policy = sample_policy();
    let mut korea = jurisdiction("korea", &["KR"], Regime::OptIn);
    korea.show_collection_details = true;
    policy.jurisdictions = vec![korea];
    assert!(matches!(
        policy.check(),
        Err(PolicyError::MissingCollectionDetails { ref category, field: "items", .. })
            if category == "preferences"
    ));
    for category in &mut policy.categories[1..] {
        let text = category.text.get_mut("en").unwrap();
        text.items = Some("The language".into());
        text.retention = Some("12 months".into());
        text.refusal = Some("You may refuse.".into());
    }
    // `necessary` is not asked for: it is not consented to.
    assert_eq!(policy.check(), Ok(()));
    let view = policy.view("en", None);
    assert_eq!(view.categories[1].retention.as_deref(), Some("12 months"));
    assert_eq!(view.categories[0].retention, None);

    let mut no_refusal = policy.clone();
    no_refusal.categories[2].text.get_mut("en").unwrap().refusal = None;
    assert_eq!(
        no_refusal.check(),
        Err(PolicyError::MissingCollectionDetails {
            jurisdiction: "korea".into(),
            category: "analytics".into(),
            field: "refusal",
            language: "en".into(),
        })
    );
    let mut empty = policy.clone();
    empty.categories[1].text.get_mut("en").unwrap().items = Some("".into());
    assert_eq!(
        empty.check(),
        Err(PolicyError::EmptyText(
            "categories.preferences.text.en".into()
        ))
    );
    // Without such a jurisdiction they are optional.
    let mut nowhere = no_refusal;
    nowhere.jurisdictions.clear();
    assert_eq!(nowhere.check(), Ok(()));
}

/// The hash of every version published before these texts existed is over its JSON: the
/// optional fields, absent, must leave it byte for byte as it was.
#[test]
fn texts_without_the_optional_fields_keep_their_json() {
    let banner = r#"{"title":"t","body":"b","notice_link":"n","accept_all":"a","reject_all":"r","customize":"c","save":"s","always_on":"o","notice_changed":"x","gpc_honoured":"g","identifiers":"i"}"#;
    let parsed: BannerText = serde_json::from_str(banner).unwrap();
    assert_eq!(parsed.opt_out, None);
    assert_eq!(serde_json::to_string(&parsed).unwrap(), banner);
    let category = r#"{"title":"Analytics","description":"Measure use."}"#;
    let parsed: CategoryText = serde_json::from_str(category).unwrap();
    assert_eq!(serde_json::to_string(&parsed).unwrap(), category);
    let view =
        r#"{"id":"analytics","required":false,"title":"A","description":"D","identifiers":[]}"#;
    let parsed: CategoryView = serde_json::from_str(view).unwrap();
    assert_eq!(serde_json::to_string(&parsed).unwrap(), view);
}

#[cfg(feature = "ssr")]
#[test]
fn the_default_policy_has_every_regime_text_and_detail_in_every_language() {
    let policy = Policy::from_toml(crate::DEFAULT_POLICY_TOML).unwrap();
    for language in crate::domain::language::SUPPORTED_LANGUAGES {
        let banner = &policy.banner[language];
        for regime in [Regime::OptOut, Regime::Notice] {
            for (field, text) in banner.regime_texts(regime) {
                assert!(text.is_some(), "banner.{language}.{field}");
            }
        }
        for category in policy.categories.iter().filter(|c| !c.required()) {
            for (field, text) in category.text[language].collection_details() {
                assert!(
                    text.is_some(),
                    "{}.{language}.{field}",
                    category.id.as_str()
                );
            }
        }
    }
}
