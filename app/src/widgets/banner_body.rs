//! The banner's first layer, as the visitor's regime asks for it. The same markup on the
//! service's pages (`banner.rs`) and on another site's (`embed.rs`).
//!
//! - `opt_in`: the question, Accept all and Reject all with equal weight, and Customize.
//! - `opt_out`: the optional categories are on; "OK" and "Opt out" with equal weight, and
//!   Customize, where each can be refused.
//! - `notice`: information, "OK" and Customize; nothing waits for a click.
//!
//! Where the jurisdiction shows collection details (Korea), every optional category's purpose,
//! items, retention and right to refuse come first, before any button.
//!
//! It is a bar at the bottom of the page, never a modal: the page stays usable behind it.

use super::forms::{CollectionDetails, DetailLabels, LanguageSwitcher, OneClickChoice};
use super::place::{external_transmission_href, preferences_href};
use crate::domain::{BannerText, ConsentAction, ConsentStatus, PromptReason, Regime};
use crate::i18n::ui_text;
use leptos::either::EitherOf3;
use leptos::prelude::*;

/// What a regime's first layer says and offers, its texts resolved.
enum Layer {
    OptIn,
    OptOut {
        body: String,
        opt_out: String,
        ok: String,
    },
    Notice {
        body: String,
        ok: String,
    },
}

impl Layer {
    /// The policy's check makes sure a regime it uses has its texts; a status built from an
    /// unchecked policy gets the opt-in layer, the strictest, rather than empty buttons.
    fn of(regime: Regime, text: &BannerText) -> Self {
        let ok = text.acknowledge.clone();
        match regime {
            Regime::OptIn => Self::OptIn,
            Regime::OptOut => match (text.opt_out_body.clone(), text.opt_out.clone(), ok) {
                (Some(body), Some(opt_out), Some(ok)) => Self::OptOut { body, opt_out, ok },
                _ => Self::OptIn,
            },
            Regime::Notice => match (text.notice_body.clone(), ok) {
                (Some(body), Some(ok)) => Self::Notice { body, ok },
                _ => Self::OptIn,
            },
        }
    }

    fn regime(&self) -> Regime {
        match self {
            Self::OptIn => Regime::OptIn,
            Self::OptOut { .. } => Regime::OptOut,
            Self::Notice { .. } => Regime::Notice,
        }
    }
}

#[component]
pub fn BannerBody(status: ConsentStatus) -> impl IntoView {
    // Recorded by the server from the browser's Sec-GPC header, before the page was sent.
    let gpc_applied = status.gpc_applied();
    let notice_changed = matches!(status.prompt, Some(PromptReason::NoticeChanged));
    let details = status.jurisdiction.show_collection_details;
    let policy = status.policy;
    let text = policy.banner;
    let layer = Layer::of(status.jurisdiction.regime, &text);
    // Plain values, not stored ones: a page abandoned mid-render (the client went away) drops
    // its reactive owner while the render may still run, and a disposed value would panic.
    let version = policy.version;
    let language = policy.language.clone();
    let lang = policy.language.clone();
    let notice_url = policy.notice_url;
    let ui = ui_text(&policy.language);
    let body = match &layer {
        Layer::OptIn => text.body.clone(),
        Layer::OptOut { body, .. } | Layer::Notice { body, .. } => body.clone(),
    };
    let collection_details = details.then(|| {
        view! {
            <CollectionDetails
                version=version.clone()
                language=language.clone()
                categories=policy.categories
                labels=DetailLabels {
                    purpose: ui.details_purpose.to_owned(),
                    items: ui.details_items.to_owned(),
                    retention: ui.details_retention.to_owned(),
                    refusal: ui.details_refusal.to_owned(),
                }
                // A separate choice per category where the visitor must agree first; where
                // the categories are on already, refusing one is the preference center's.
                save=matches!(layer, Layer::OptIn).then(|| text.save.clone())
            />
        }
    });
    let regime = layer.regime().as_str();
    // Equal weight for the two answers of each regime: one component, one class.
    let choices = match layer {
        Layer::OptIn => EitherOf3::A(view! {
            <OneClickChoice version=version.clone() language=language.clone() action=ConsentAction::AcceptAll label=text.accept_all from=None/>
            <OneClickChoice version language action=ConsentAction::RejectAll label=text.reject_all from=None/>
        }),
        Layer::OptOut { opt_out, ok, .. } => EitherOf3::B(view! {
            <OneClickChoice version=version.clone() language=language.clone() action=ConsentAction::Acknowledge label=ok from=None/>
            <OneClickChoice version language action=ConsentAction::RejectAll label=opt_out from=None/>
        }),
        Layer::Notice { ok, .. } => EitherOf3::C(view! {
            <OneClickChoice version language action=ConsentAction::Acknowledge label=ok from=None/>
        }),
    };

    view! {
        <section
            class="zc-banner"
            role="region"
            aria-labelledby="zc-banner-title"
            data-testid="consent-banner"
            data-regime=regime
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
                {body} " " <a href=notice_url>{text.notice_link}</a>
                // Japan's external-transmission rule wants its page easy to reach: here, from
                // the first thing a visitor sees, on every site (the embed renders this too).
                <span class="zc-banner__minor">
                    " · "
                    <a href=external_transmission_href(&policy.language) data-testid="external-transmission-link">
                        {ui_text(&policy.language).external_transmission}
                    </a>
                </span>
            </p>
            {collection_details}
            <div data-error-slot=""></div>
            <div class="zc-banner__actions">
                {choices}
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
