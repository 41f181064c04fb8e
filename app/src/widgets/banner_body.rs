//! The banner's first layer: the question, Accept all and Reject all with equal weight, and
//! Customize. The same markup on the service's pages (`banner.rs`) and on another site's
//! (`embed.rs`).

use super::forms::{LanguageSwitcher, OneClickChoice};
use super::place::{external_transmission_href, preferences_href};
use crate::domain::{ConsentAction, ConsentStatus, PromptReason};
use crate::i18n::ui_text;
use leptos::prelude::*;

#[component]
pub fn BannerBody(status: ConsentStatus) -> impl IntoView {
    // Recorded by the server from the browser's Sec-GPC header, before the page was sent.
    let gpc_applied = status.gpc_applied();
    let notice_changed = matches!(status.prompt, Some(PromptReason::NoticeChanged));
    let policy = status.policy;
    let text = policy.banner;
    // Plain values, not stored ones: a page abandoned mid-render (the client went away) drops
    // its reactive owner while the render may still run, and a disposed value would panic.
    let version = policy.version;
    let language = policy.language.clone();
    let lang = policy.language.clone();
    let notice_url = policy.notice_url;

    view! {
        <section
            class="zc-banner"
            role="region"
            aria-labelledby="zc-banner-title"
            data-testid="consent-banner"
            lang=lang
        >
            <div class="zc-banner__head">
                <h2 id="zc-banner-title" class="zc-banner__title">{text.title}</h2>
                <LanguageSwitcher current=policy.language.clone() id="zc-lang-banner".to_owned()/>
            </div>
            {notice_changed
                .then(|| {
                    view! {
                        <p class="zc-banner__changed" data-testid="notice-changed">
                            {text.notice_changed} " "
                            <a href=notice_url.clone()>{text.notice_link.clone()}</a>
                        </p>
                    }
                })}
            {gpc_applied
                .then(|| {
                    view! {
                        <p class="zc-banner__gpc" data-testid="gpc-honoured">{text.gpc_honoured.clone()}</p>
                    }
                })}
            <p class="zc-banner__body">
                {text.body} " " <a href=notice_url>{text.notice_link}</a>
                // Japan's external-transmission rule wants its page easy to reach: here, from
                // the first thing a visitor sees, on every site (the embed renders this too).
                <span class="zc-banner__minor">
                    " · "
                    <a href=external_transmission_href(&policy.language) data-testid="external-transmission-link">
                        {ui_text(&policy.language).external_transmission}
                    </a>
                </span>
            </p>
            <div data-error-slot=""></div>
            <div class="zc-banner__actions">
                // One component for both: Accept and Reject must carry equal weight.
                <OneClickChoice version=version.clone() language=language.clone() action=ConsentAction::AcceptAll label=text.accept_all from=None/>
                <OneClickChoice version language action=ConsentAction::RejectAll label=text.reject_all from=None/>
                // The second layer: the dialog when hydrated, the /preferences page without JS.
                <a
                    class="zc-btn zc-btn--secondary"
                    href=preferences_href(&policy.language)
                    data-action="customize"
                    // Embedded in another site there is no dialog and no WASM: the loader
                    // opens the center there.
                    data-opens-dialog=""
                >
                    {text.customize}
                </a>
            </div>
        </section>
    }
    .into_any()
}
