//! The consent banner on the service's own pages: rendered on the server so it is there at
//! first paint, usable as plain forms without JavaScript; the island beside it
//! (`widgets::ConsentForms`) records choices without a reload once its WASM runs.

use crate::domain::ConsentStatus;
use crate::i18n::ui_text;
use crate::widgets::{BannerBody, preferences_href};
use leptos::prelude::*;

/// The banner if the visitor must be asked, and the privacy-settings button that takes its
/// place once a choice is made: rendered hidden beside the banner, for the island to show.
/// GPC is not the visitor's choice: after it the banner still asks about the rest.
#[component]
pub fn ConsentBanner(status: ConsentStatus) -> impl IntoView {
    let prompt = status.needs_prompt();
    let language = status.policy.language.clone();
    view! {
        {prompt.then(|| view! { <BannerBody status/> })}
        <PrivacySettingsButton language hidden=prompt/>
    }
    .into_any()
}

/// The small, always-present button that reopens the preference center once the banner is gone.
#[component]
fn PrivacySettingsButton(language: String, hidden: bool) -> impl IntoView {
    let ui = ui_text(&language);
    view! {
        <a
            class="zc-fab"
            href=preferences_href(&language)
            hidden=hidden
            data-opens-dialog=""
            data-testid="privacy-settings-button"
        >
            <svg class="zc-fab__icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                <path fill="currentColor" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3Zm0 2.2 6 2.2V11c0 3.9-2.5 7.6-6 8.8-3.5-1.2-6-4.9-6-8.8V6.4l6-2.2Z"/>
            </svg>
            <span class="zc-fab__label">{ui.privacy_settings}</span>
        </a>
    }
}
