//! The preference center (second layer): the current choice, the categories to choose from
//! and withdrawal, as the `/preferences` page shows it and as a modal dialog on every other
//! page and on another site's. Rendered on the server as plain forms; the island beside it
//! (`enhance.rs`) records choices without a reload and shows the new current choice.

use super::forms::{CategoryForm, CategoryFormLabels, LanguageSwitcher, OneClickChoice};
use super::place::{Place, external_transmission_href, service_base};
use crate::consent_api::FROM_PREFERENCES;
use crate::domain::{ConsentAction, ConsentStatus, CurrentConsent};
use crate::enhance::{category_state, made_on_text};
use crate::i18n::{UiText, ui_text};
use leptos::prelude::*;

/// The preference center as a modal dialog, opened by Customize and the privacy-settings
/// button (by the island on the service's pages, by the loader on another site's). A native
/// `<dialog>` opened with `showModal()`: the page behind is inert, focus moves in and stays in,
/// Esc closes it and focus returns to the control that opened it.
#[component]
pub fn PreferenceDialog(status: ConsentStatus, place: Place) -> impl IntoView {
    let ui = ui_text(&status.policy.language);
    let language = status.policy.language.clone();
    view! {
        <dialog
            class="zc-dialog"
            aria-labelledby="zc-pc-title"
            data-testid="preference-dialog"
            lang=language
        >
            <div class="zc-dialog__head">
                <h2 id="zc-pc-title">{ui.privacy_settings}</h2>
                <button type="button" class="zc-btn zc-btn--secondary zc-dialog__close" data-action="close">
                    {ui.close}
                </button>
            </div>
            <PreferenceCenter status place/>
        </dialog>
    }
    .into_any()
}

#[component]
pub fn PreferenceCenter(status: ConsentStatus, place: Place) -> impl IntoView {
    let ui = ui_text(&status.policy.language);
    let policy = status.policy;
    let text = policy.banner.clone();
    let version = policy.version.clone();
    let language = policy.language.clone();
    let titles: Vec<(String, String)> = policy
        .categories
        .iter()
        .map(|c| (c.id.clone(), c.title.clone()))
        .collect();
    let heading = |id: &str| format!("zc-{}-{id}", place.id_prefix());
    view! {
        <LanguageSwitcher current=policy.language.clone() id=heading("lang")/>
        <CurrentChoice current=status.current.clone() titles ui heading=heading("current")/>
        <div data-error-slot=""></div>
        <section aria-labelledby=heading("change")>
            <h2 id=heading("change")>{ui.change_choice}</h2>
            <p>
                {ui.policy_version.replace("{version}", &policy.version)} " "
                <a href=policy.notice_url.clone()>{text.notice_link.clone()}</a>
                " · "
                <a href=format!("{}/notice#identifiers", service_base())>{ui.cookies_and_identifiers}</a>
                " · "
                <a href=external_transmission_href(&policy.language)>{ui.external_transmission}</a>
            </p>
            <CategoryForm
                version=version.clone()
                language=language.clone()
                categories=policy.categories
                current=status.current
                granted=status.granted
                labels=CategoryFormLabels {
                    always_on: text.always_on,
                    identifiers: text.identifiers,
                    save: text.save,
                }
                place
            />
        </section>
        <section aria-labelledby=heading("withdraw")>
            <h2 id=heading("withdraw")>{ui.withdraw_title}</h2>
            <p>{ui.withdraw_text}</p>
            <OneClickChoice
                version
                language
                action=ConsentAction::Withdraw
                label=ui.withdraw_button.to_owned()
                from=Some(FROM_PREFERENCES)
            />
        </section>
    }
    .into_any()
}

/// "Your current choice": each category's state, when and under which version, the receipt.
/// Rendered complete even before any choice (hidden), and carrying the texts a new choice is
/// shown with: the island fills it in after a choice, as this would render it (`enhance`).
#[component]
fn CurrentChoice(
    current: Option<CurrentConsent>,
    titles: Vec<(String, String)>,
    ui: &'static UiText,
    heading: String,
) -> impl IntoView {
    let categories: Vec<(String, bool)> = current
        .as_ref()
        .map(|c| c.categories.clone().into_iter().collect())
        .unwrap_or_default();
    let states = titles
        .into_iter()
        .map(|(id, title)| {
            let state = category_state(&categories, &id);
            let label = state_label(ui, state);
            view! {
                <li data-category=id data-state=state>
                    <strong>{title}</strong> ": " <span data-state-label="">{label}</span>
                </li>
            }
        })
        .collect_view();
    let made_on = current.as_ref().map(|consent| {
        let line = made_on_text(ui.made_on, consent.decided_at, &consent.policy_version);
        if consent.action == ConsentAction::Gpc {
            format!("{line} {}", ui.via_gpc)
        } else {
            line
        }
    });
    let receipt_template = format!("{}/api/v1/consent/{{id}}/receipt", service_base());
    let receipt = current
        .as_ref()
        .map(|consent| receipt_template.replace("{id}", &consent.event_id));
    let decided = current.is_some();
    let labelled_by = heading.clone();
    view! {
        <section
            class="zc-current"
            aria-labelledby=labelled_by
            data-testid="current-choice"
            data-current-choice=""
            data-allowed=ui.allowed
            data-refused=ui.refused
            data-undecided=ui.undecided
            data-saved=ui.saved
            data-made-on=ui.made_on
            data-via-gpc=ui.via_gpc
        >
            <h2 id=heading>{ui.current_choice}</h2>
            <p role="status" class="zc-saved" data-saved-line=""></p>
            <p data-no-choice="" hidden=decided>{ui.no_choice}</p>
            <div data-choice="" hidden=!decided>
                <p data-made-on-line="">{made_on}</p>
                <ul class="zc-states">{states}</ul>
                <p>
                    <a href=receipt data-receipt=receipt_template download="" data-testid="receipt-link">
                        {ui.download_receipt}
                    </a>
                    " — "
                    {ui.receipt_hint}
                </p>
            </div>
        </section>
    }
}

/// The word for a category's state, in the page's language.
fn state_label(ui: &'static UiText, state: &str) -> &'static str {
    match state {
        "allowed" => ui.allowed,
        "refused" => ui.refused,
        _ => ui.undecided,
    }
}
