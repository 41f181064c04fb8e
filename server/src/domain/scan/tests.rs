use super::draft::{drafts, to_toml};
use super::registry::Registry;
use super::*;
use app::domain::Policy;

fn registry() -> Registry {
    let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
    Registry::from_policy(&policy, Some("zeccloud.com"), &[])
}

fn cookie(name: &str, domain: &str, lifetime_secs: Option<i64>) -> SeenCookie {
    SeenCookie {
        name: name.to_owned(),
        domain: domain.to_owned(),
        path: "/".to_owned(),
        lifetime_secs,
        http_only: false,
        secure: false,
        set_by: None,
    }
}

fn page(no_choice: ProfileObservation, rejected: ProfileObservation) -> PageObservation {
    let chose = |mut seen: ProfileObservation| {
        seen.choice = Some(ChoiceVia::Api);
        seen
    };
    PageObservation {
        url: "https://www.zeccloud.com/".to_owned(),
        site: "zeccloud.com".to_owned(),
        no_choice,
        rejected: chose(rejected),
        accepted: chose(ProfileObservation::default()),
    }
}

fn kinds(findings: &[Finding]) -> Vec<(FindingKind, String, Vec<Profile>)> {
    findings
        .iter()
        .map(|f| (f.kind, f.subject.to_string(), f.profiles.clone()))
        .collect()
}

#[test]
fn a_clean_page_has_no_findings() {
    let necessary = ProfileObservation {
        cookies: vec![
            cookie("zc_consent", ".zeccloud.com", Some(300 * 86_400)),
            cookie(
                "mtm_consent_removed",
                ".zeccloud.com",
                Some(29 * 366 * 86_400),
            ),
        ],
        ..Default::default()
    };
    let page = page(ProfileObservation::default(), necessary);
    assert_eq!(check_page(&page, &registry()), []);
}

#[test]
fn an_undeclared_cookie_is_reported_once_with_every_profile_it_showed_in() {
    let mut ab = cookie("ab_bucket", "www.zeccloud.com", Some(30 * 86_400));
    ab.set_by = Some("https://www.zeccloud.com/ab.js".to_owned());
    let seen = ProfileObservation {
        cookies: vec![ab],
        ..Default::default()
    };
    let mut page = page(seen.clone(), seen.clone());
    page.accepted.cookies = seen.cookies;
    let findings = check_page(&page, &registry());
    assert_eq!(
        kinds(&findings),
        [(
            FindingKind::NotDeclared,
            "cookie ab_bucket".to_owned(),
            Profile::ALL.to_vec()
        )]
    );
    assert_eq!(
        findings[0].set_by.as_deref(),
        Some("https://www.zeccloud.com/ab.js")
    );
    assert_eq!(
        findings[0].detail,
        "cookie on www.zeccloud.com/, expires in 30 d 0 h"
    );
}

#[test]
fn optional_identifiers_before_a_choice_and_after_a_rejection() {
    let analytics = ProfileObservation {
        cookies: vec![cookie("_pk_id.1.a4f2", ".zeccloud.com", Some(393 * 86_400))],
        storage: vec![SeenStorageKey {
            kind: IdentifierKind::LocalStorage,
            name: "zc.lang".to_owned(),
            set_by: None,
        }],
        ..Default::default()
    };
    let only_after_rejection = page(ProfileObservation::default(), analytics.clone());
    assert_eq!(
        kinds(&check_page(&only_after_rejection, &registry())),
        [
            (
                FindingKind::AfterRejection,
                "cookie _pk_id.1.a4f2".to_owned(),
                vec![Profile::Rejected]
            ),
            (
                FindingKind::AfterRejection,
                "local_storage zc.lang".to_owned(),
                vec![Profile::Rejected]
            ),
        ]
    );
    let before = page(analytics, ProfileObservation::default());
    assert_eq!(
        kinds(&check_page(&before, &registry()))
            .iter()
            .map(|(kind, _, profiles)| (*kind, profiles.clone()))
            .collect::<Vec<_>>(),
        [
            (FindingKind::BeforeChoice, vec![Profile::NoChoice]),
            (FindingKind::BeforeChoice, vec![Profile::NoChoice]),
        ]
    );
}

#[test]
fn a_rejection_that_could_not_be_made_is_not_checked_as_one() {
    let analytics = ProfileObservation {
        cookies: vec![cookie("_pk_id.1.a4f2", ".zeccloud.com", Some(86_400))],
        ..Default::default()
    };
    let mut page = page(ProfileObservation::default(), analytics);
    page.rejected.choice = None;
    assert_eq!(check_page(&page, &registry()), []);
}

#[test]
fn lifetimes_and_domains_beyond_the_declaration() {
    let seen = ProfileObservation {
        cookies: vec![
            // Declared 13 months: 13 × 31 days and a minute of slack is the most.
            cookie("_pk_id.1.x", ".zeccloud.com", Some(13 * 31 * 86_400 + 60)),
            cookie("_pk_ref.1.x", ".zeccloud.com", Some(13 * 31 * 86_400)),
            // Declared for the session, set to persist.
            cookie("zc_session", ".zeccloud.com", Some(3_600)),
            // Declared host-only, set on the parent domain.
            cookie("__Host-zc_ssaid", ".zeccloud.com", Some(86_400)),
            // Declared on the parent domain, set on another site.
            cookie("zc_consent", ".zeccloud.net", Some(86_400)),
            // Narrower than declared is fine.
            cookie("zc_lang", "www.zeccloud.com", Some(86_400)),
        ],
        ..Default::default()
    };
    let page = page(ProfileObservation::default(), ProfileObservation::default());
    let page = PageObservation {
        accepted: ProfileObservation {
            choice: Some(ChoiceVia::Banner),
            ..seen
        },
        ..page
    };
    assert_eq!(
        kinds(&check_page(&page, &registry()))
            .into_iter()
            .map(|(kind, subject, _)| (kind, subject))
            .collect::<Vec<_>>(),
        [
            (
                FindingKind::LongerThanDeclared,
                "cookie _pk_ref.1.x".to_owned()
            ),
            (
                FindingKind::LongerThanDeclared,
                "cookie zc_session".to_owned()
            ),
            (
                FindingKind::WiderDomain,
                "cookie __Host-zc_ssaid".to_owned()
            ),
            (FindingKind::WiderDomain, "cookie zc_consent".to_owned()),
        ]
    );
}

#[test]
fn third_parties_before_a_choice_after_a_rejection_and_undeclared() {
    let request = |host: &str| SeenRequest {
        host: host.to_owned(),
        path: "/pixel.gif".to_owned(),
    };
    let seen = ProfileObservation {
        third_party_requests: vec![request("tracker.example"), request("consent.zeccloud.com")],
        ..Default::default()
    };
    let mut page = page(seen.clone(), ProfileObservation::default());
    page.accepted.third_party_requests = seen.third_party_requests;
    assert_eq!(
        kinds(&check_page(&page, &registry())),
        [
            (
                FindingKind::ThirdPartyBeforeChoice,
                "host tracker.example".to_owned(),
                vec![Profile::NoChoice]
            ),
            (
                FindingKind::UndeclaredRecipient,
                "host tracker.example".to_owned(),
                vec![Profile::NoChoice, Profile::Accepted]
            ),
        ]
    );
}

#[test]
fn declared_identifiers_never_seen_are_hints() {
    let page = page(
        ProfileObservation::default(),
        ProfileObservation {
            cookies: vec![cookie("zc_consent", ".zeccloud.com", Some(86_400))],
            ..Default::default()
        },
    );
    let hints = never_seen(&[page], &registry());
    assert!(hints.iter().any(|h| h.name == "_pk_id.*"));
    assert!(!hints.iter().any(|h| h.name == "zc_consent"));
}

#[test]
fn a_draft_parses_as_policy_toml_and_declares_what_was_seen() {
    let seen = ProfileObservation {
        cookies: vec![
            cookie("ab_bucket", ".zeccloud.com", Some(30 * 86_400 - 10)),
            cookie("chat\"id", "www.zeccloud.com", None),
        ],
        storage: vec![SeenStorageKey {
            kind: IdentifierKind::SessionStorage,
            name: "widget.state".to_owned(),
            set_by: Some("https://www.zeccloud.com/chat.js".to_owned()),
        }],
        ..Default::default()
    };
    let page = page(seen, ProfileObservation::default());
    let registry = registry();
    let drafted = drafts(std::slice::from_ref(&page), &registry);
    assert_eq!(drafted.len(), 3);
    let languages = app::domain::language::SUPPORTED_LANGUAGES;
    let snippet = to_toml(&drafted, &languages);
    // Appended to the policy file, each entry joins its last category; the policy checks.
    let policy = Policy::from_toml(&format!("{}\n{snippet}", app::DEFAULT_POLICY_TOML));
    // `chat"id` is no cookie name a policy can hold: the check says so, by name.
    let err = policy.unwrap_err().to_string();
    assert!(err.contains("chat\\\"id"), "{err}");
    let without_bad = to_toml(
        &drafted
            .iter()
            .filter(|d| d.name != "chat\"id")
            .cloned()
            .collect::<Vec<_>>(),
        &languages,
    );
    let policy =
        Policy::from_toml(&format!("{}\n{without_bad}", app::DEFAULT_POLICY_TOML)).unwrap();
    // Every text a visitor could read is there (in each language, to be written).
    assert_eq!(policy.missing_texts(&languages), []);
    let added: Vec<_> = policy
        .categories
        .last()
        .unwrap()
        .identifiers
        .iter()
        .rev()
        .take(2)
        .collect();
    assert_eq!(added[1].name, "ab_bucket");
    assert_eq!(added[1].duration.to_string(), "30d");
    assert_eq!(added[1].domain, "parent");
    assert_eq!(added[0].name, "widget.state");
    assert_eq!(added[0].kind, IdentifierKind::SessionStorage);
    // Declared as drafted (here under analytics, the last category), only the name no policy
    // can hold stays undeclared; the others are now optional identifiers set before a choice.
    let republished = Registry::from_policy(&policy, Some("zeccloud.com"), &[]);
    assert_eq!(
        kinds(&check_page(&page, &republished))
            .into_iter()
            .map(|(kind, subject, _)| (kind, subject))
            .collect::<Vec<_>>(),
        [
            (FindingKind::NotDeclared, "cookie chat\"id".to_owned()),
            (FindingKind::BeforeChoice, "cookie ab_bucket".to_owned()),
            (
                FindingKind::BeforeChoice,
                "session_storage widget.state".to_owned()
            ),
        ]
    );
}

#[test]
fn registrable_domains_follow_the_public_suffix_list() {
    assert_eq!(registrable_domain("www.zeccloud.com"), "zeccloud.com");
    assert_eq!(registrable_domain("a.b.zeccloud.com.hk"), "zeccloud.com.hk");
    assert_eq!(registrable_domain("consent.zeccloud.test"), "zeccloud.test");
    assert_eq!(registrable_domain("WWW.ZecCloud.co.jp."), "zeccloud.co.jp");
    assert_eq!(registrable_domain("127.0.0.1"), "127.0.0.1");
    assert_eq!(registrable_domain("localhost"), "localhost");
}
