use super::{BannerBody, Place, PreferenceDialog, ServiceBase};
use crate::domain::{ConsentStatus, Policy, PromptReason};
use crate::enhance::marks::*;
use leptos::prelude::*;

/// The widgets as another site's page gets them (`embed.rs`), whose fragments carry the
/// same marks as the service's own pages.
fn embedded(view: impl FnOnce() -> AnyView) -> String {
    crate::render_html(|| {
        provide_context(ServiceBase(String::new()));
        view()
    })
}

/// The island finds what a choice changes by these attributes alone: the server's markup
/// must carry every one of them, or a hydrated page would silently stop updating.
#[test]
fn the_server_html_carries_every_mark_the_island_reads() {
    let policy = Policy::from_toml(crate::DEFAULT_POLICY_TOML).expect("the default policy");
    let status = ConsentStatus {
        policy: policy.view("en", None),
        current: None,
        prompt: Some(PromptReason::NoChoice),
        gpc_signal: false,
        jurisdiction: crate::domain::AppliedJurisdiction::strictest(),
        granted: Default::default(),
    };
    let banner_status = status.clone();
    let banner = embedded(move || view! { <BannerBody status=banner_status/> }.into_any());
    for mark in [RECORDS_CHOICE, OPENS_DIALOG, ERROR_SLOT] {
        assert!(banner.contains(&format!("{mark}=")), "banner lacks {mark}");
    }
    let center =
        embedded(move || view! { <PreferenceDialog status place=Place::Embed/> }.into_any());
    for mark in [
        RECORDS_CHOICE,
        ERROR_SLOT,
        CURRENT_CHOICE,
        NO_CHOICE,
        CHOICE,
        MADE_ON,
        STATE_LABEL,
        RECEIPT,
        SAVED,
    ] {
        assert!(center.contains(&format!("{mark}=")), "center lacks {mark}");
    }
    for text in [
        "data-allowed=\"",
        "data-refused=\"",
        "data-undecided=\"",
        "data-saved=\"",
        "data-made-on=\"",
        "data-via-gpc=\"",
        "data-receipt=\"/api/v1/consent/{id}/receipt\"",
    ] {
        assert!(center.contains(text), "center lacks {text}");
    }
}

fn status_in(language: &str, regime: crate::domain::Regime, details: bool) -> ConsentStatus {
    let policy = Policy::from_toml(crate::DEFAULT_POLICY_TOML).expect("the default policy");
    let mut jurisdiction = crate::domain::AppliedJurisdiction::strictest();
    jurisdiction.regime = regime;
    jurisdiction.show_collection_details = details;
    ConsentStatus {
        policy: policy.view(language, None),
        current: None,
        prompt: Some(PromptReason::NoChoice),
        gpc_signal: false,
        jurisdiction,
        granted: Default::default(),
    }
}

fn banner_of(status: ConsentStatus) -> String {
    embedded(move || view! { <BannerBody status/> }.into_any())
}

/// The action of each one-click form in the banner, in document order.
fn one_click_actions(html: &str) -> Vec<&str> {
    html.match_indices(r#"name="action" value=""#)
        .map(|(at, found)| {
            let rest = &html[at + found.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn the_opt_in_layer_asks_with_accept_and_reject() {
    let html = banner_of(status_in("en", crate::domain::Regime::OptIn, false));
    assert!(html.contains(r#"data-regime="opt_in""#));
    assert_eq!(one_click_actions(&html), ["accept_all", "reject_all"]);
    assert!(!html.contains("collection-details"));
}

#[test]
fn the_opt_out_layer_offers_ok_and_opt_out_with_equal_weight() {
    use crate::domain::Regime;
    let status = status_in("en", Regime::OptOut, false);
    let text = status.policy.banner.clone();
    let html = banner_of(status.clone());
    assert!(html.contains(r#"data-regime="opt_out""#));
    assert!(html.contains(text.opt_out_body.as_deref().unwrap()));
    assert_eq!(one_click_actions(&html), ["acknowledge", "reject_all"]);
    // The same button markup for both answers: neither is the lesser one.
    for action in ["acknowledge", "reject_all"] {
        assert!(
            html.contains(&format!(
                r#"type="submit" data-action="{action}" class="zc-btn zc-btn--choice""#
            )),
            "{action}"
        );
    }
    assert!(html.contains(&format!(">{}</button>", text.opt_out.unwrap())));
    assert!(html.contains(r#"data-action="customize""#));
    assert!(!html.contains("gpc-honoured"));
    for mark in [RECORDS_CHOICE, OPENS_DIALOG, ERROR_SLOT] {
        assert!(
            html.contains(&format!("{mark}=")),
            "opt-out banner lacks {mark}"
        );
    }

    let mut gpc = status;
    gpc.gpc_signal = true;
    assert!(banner_of(gpc).contains("gpc-honoured"));
}

#[test]
fn the_notice_layer_informs_with_ok_and_customize() {
    let status = status_in("zh-Hant", crate::domain::Regime::Notice, false);
    let body = status.policy.banner.notice_body.clone().unwrap();
    let html = banner_of(status);
    assert!(html.contains(r#"data-regime="notice""#));
    assert!(html.contains(r#"lang="zh-Hant""#));
    assert!(html.contains(&body));
    assert_eq!(one_click_actions(&html), ["acknowledge"]);
    assert!(html.contains(r#"href="/preferences?lang=zh-Hant""#));
}

/// PIPA Art. 15(2): purpose, items, retention and the right to refuse of every optional
/// category, before any button, each with its own unticked choice.
#[test]
fn the_korean_layer_shows_the_four_items_before_any_button() {
    let status = status_in("ko", crate::domain::Regime::OptIn, true);
    let categories = status.policy.categories.clone();
    let html = banner_of(status);
    let first_button = html.find(r#"<button type="submit" data-action="#);
    let first_button = first_button.expect("a choice button");
    for category in categories.iter().filter(|c| !c.required) {
        for text in [
            &category.description,
            category.items.as_ref().unwrap(),
            category.retention.as_ref().unwrap(),
            category.refusal.as_ref().unwrap(),
        ] {
            let at = html.find(text.as_str()).unwrap_or_else(|| panic!("{text}"));
            assert!(at < first_button, "{text} after the first button");
        }
        let checkbox = format!(r#"name="categories[{}]" value="on""#, category.id);
        let at = html.find(&checkbox).unwrap_or_else(|| panic!("{checkbox}"));
        // Never pre-ticked.
        let tag_end = at + html[at..].find('>').unwrap();
        assert!(
            !html[at..tag_end].contains("checked"),
            "{checkbox} is ticked"
        );
    }
    assert!(!html.contains(r#"name="categories[necessary]""#));
    for label in [
        "수집·이용 목적",
        "수집 항목",
        "보유 및 이용 기간",
        "동의 거부 권리 및 불이익",
    ] {
        assert!(html.contains(label), "{label}");
    }
    // The details' own form records a custom choice from the banner, not the center.
    assert_eq!(
        one_click_actions(&html),
        ["custom", "accept_all", "reject_all"]
    );
    assert!(!html.contains(r#"name="from""#));
}

#[test]
fn details_outside_opt_in_are_listed_without_a_second_form() {
    let html = banner_of(status_in("en", crate::domain::Regime::OptOut, true));
    assert!(html.contains("collection-details"));
    assert!(!html.contains(r#"name="categories["#));
    assert_eq!(one_click_actions(&html), ["acknowledge", "reject_all"]);
}
