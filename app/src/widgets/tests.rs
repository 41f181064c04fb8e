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
